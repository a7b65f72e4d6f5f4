// SPDX-License-Identifier: GPL-2.0
/*
 * resource-image: the CPU time, memory and I/O of the watched tasks, one
 * sample per task and interval.
 *
 * Everything is read from the task itself at the moments the scheduler
 * updates its accounting, so nothing between two samples is missed:
 *   - sched_switch, when the task leaves a CPU: its sum_exec_runtime was
 *     just brought up to date, and its I/O counters are those of the
 *     syscalls it made; the last switch of a dying task (TASK_DEAD) gives
 *     its final sample, so a thread that lives for a millisecond between
 *     two intervals is still reported;
 *   - sched_switch, when the task comes onto a CPU: where a task seen for
 *     the first time gets its baseline (it is not running, so its counters
 *     stand still);
 *   - sched_stat_runtime, which update_curr() fires at every tick for the
 *     running CFS task: a task that runs for seconds without switching
 *     still gets a sample per interval;
 *   - a report (or --settings), in process context, for a task that has
 *     been off CPU since the interval ended: a task that worked for less
 *     than an interval and then went to sleep would otherwise show nothing
 *     until it next runs, perhaps never.  Its counters cannot have moved
 *     since it left the CPU, so the values it saved there are exact.
 * A sample is written when at least the interval has passed since the
 * task's previous one; it covers exactly the time since then.
 *
 * The per-task state (start of the interval and the counters there) lives
 * in a table of max_tasks slots (task_table.c), one per task (its
 * task_struct and start time, not its pid: see task_table.h), written
 * only from the task's own context, except for the hand-over in ->off
 * that lets a report take the sample of a task that is off CPU (see
 * ri_off_cpu_samples()).  The probes fire for every task of the machine;
 * the filter rejects the unwatched ones first.
 *
 * A slot is freed when its task stops being watched, so that tasks that
 * come and go over a long run never fill the table:
 *   - at the task's last switch (TASK_DEAD), watched or not: every task
 *     ends with one, and a task that stopped matching the filter in a way
 *     no probe saw still has its slot; it gets its last sample there;
 *   - when the task renames itself (task_rename: prctl(PR_SET_NAME), a
 *     write to its own /proc comm, and every exec) to a name the filter
 *     does not match: a last sample, under its old name, and the slot is
 *     marked left (see RI_LEFT), then freed by the task's next exec or
 *     exit, or a report.  A task renamed by another thread is handled by
 *     its last switch or a report;
 *   - at exec (sched_process_exec), where a non-leader thread has taken
 *     its leader's pid (de_thread()), so that pid= may stop matching it;
 *     a task that matches only from this exec on starts there, at a clean
 *     baseline;
 *   - by a report, for a task it can hold (found by pid, with a reference)
 *     that does not match the filter any more: its last sample is taken
 *     off CPU, and the slot is retired through ->off so that the task's
 *     own probes cannot be using it (see ri_off_cpu_sample()).
 * A report cannot free the slot of a task that it cannot find: the task
 * may be gone, or may have just changed its pid in an exec.  It need not:
 * a gone task freed its slot at its last switch.
 */
#include <linux/kernel.h>
#include <linux/binfmts.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/timekeeping.h>
#include "core.h"
#include "task_info.h"
#include "task_table.h"

/* What a task has used since it started, as far as a sample is concerned. */
struct ri_counters {
	u64 sum_exec;
	struct diag_task_io io;
	u64 nvcsw, nivcsw;
};

/*
 * ->off hands a task that is off CPU over to the report: the task, leaving
 * its CPU, saves its counters in ->at_off and then (release) its switch
 * time in ->off; before it changes anything in the slot again (coming
 * back onto a CPU, or any probe of its own), it takes ->off back with
 * cmpxchg(seen, 0) (ri_find()).  A report that finds ->off set reads the
 * slot and claims it with cmpxchg(->off, seen, RI_CUT | now): success
 * proves the task did not take the slot back in between, so what it read
 * was stable.  The task, taking it back, finds the cut and starts its
 * interval there.  ->off set does not prove that the task is off CPU: a
 * task that stopped matching the filter runs without its probes, which
 * leaves ->off as it was; the slot still holds its counters at its last
 * watched switch, which is all a report reads.
 *
 * A report that retires the slot of a task no longer watched claims it
 * with RI_RETIRED instead; the task's probes, finding that, leave the slot
 * alone (it is the report's to free) and do not make another for the
 * task until the report has retired it from the table.
 *
 * RI_LEFT is set by the task itself when it renames itself out of the
 * filter: the rename probe runs just before the new name is stored, so
 * the task's tick or (on PREEMPT_RT, where task_lock() sleeps) a switch
 * in between still sees the old name; finding RI_LEFT they neither use
 * the slot nor make another.  The task's exec or exit frees it, a rename
 * back into the filter starts it again, and a report that finds the task
 * unwatched retires it (taking RI_LEFT with cmpxchg, as the task does).
 */
#define RI_CUT		(1ULL << 63)
#define RI_RETIRED	(~0ULL)		/* no time is that late */
#define RI_LEFT		(~0ULL - 1)

struct ri_slot {
	struct diag_task_slot hdr;
	u64 start_ns;		/* start of the current interval */
	struct ri_counters at_start;
	u64 cpus;		/* CPUs run on since the start */
	atomic64_t off;		/* 0 on CPU, else switch time, or RI_CUT | cut time */
	struct ri_counters at_off;	/* the counters when it left its CPU */
	u32 off_cpu;		/* the CPU it left */
};

static struct {
	u64 interval_ns;
	struct diag_task_table tasks;
	atomic_t full_reported;
} ri;

static void ri_read_counters(struct task_struct *p, struct ri_counters *c)
{
	c->sum_exec = p->se.sum_exec_runtime;
	diag_task_io(p, &c->io);
	c->nvcsw = p->nvcsw;
	c->nivcsw = p->nivcsw;
}

/* A new interval from @now_ns, with the counters @at there. */
static void ri_start(struct ri_slot *s, const struct ri_counters *at,
		     u64 now_ns)
{
	s->start_ns = now_ns;
	s->at_start = *at;
	s->cpus = 0;
}

static void ri_identify(struct diag_resource_record *r, struct task_struct *p)
{
	r->pid = p->pid;
	r->tgid = p->tgid;
	memcpy(r->comm, p->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	if (p->flags & PF_KTHREAD)
		r->flags |= DIAG_RI_KTHREAD;
}

/* The interval from @start_ns (counters @from) to @to, into @r. */
static void ri_fill(struct diag_resource_record *r, u64 start_ns,
		    const struct ri_counters *from, const struct ri_counters *to)
{
	r->start_ns = start_ns;
	r->cpu_ns = to->sum_exec - from->sum_exec;
	r->cpu_total_ns = to->sum_exec;
	r->total_ram_bytes = (u64)totalram_pages() << PAGE_SHIFT;
	r->rchar = to->io.rchar - from->io.rchar;
	r->wchar = to->io.wchar - from->io.wchar;
	r->read_bytes = to->io.read_bytes - from->io.read_bytes;
	r->write_bytes = to->io.write_bytes - from->io.write_bytes;
	r->rchar_total = to->io.rchar;
	r->wchar_total = to->io.wchar;
	r->nvcsw = to->nvcsw - from->nvcsw;
	r->nivcsw = to->nivcsw - from->nivcsw;
}

static inline u64 cpu_bit(unsigned int cpu)
{
	return cpu < 64 ? 1ULL << cpu : 0;
}

/* Say once per activation that a task could not be tracked. */
static void ri_table_full(struct task_struct *p)
{
	struct diag_resource_record *r;
	struct diag_ring_slot slot;

	if (atomic_xchg(&ri.full_reported, 1))
		return;
	r = diag_ring_reserve(&diag_resource_image.ring, &slot,
			      DIAG_REC_RESOURCE, sizeof(*r));
	if (!r)
		return;
	memset((void *)r + sizeof(r->hdr), 0, sizeof(*r) - sizeof(r->hdr));
	r->flags = DIAG_RI_TABLE_FULL;
	ri_identify(r, p);
	diag_ring_commit(&slot);
}

/* What ri_find() found. */
enum ri_found {
	RI_NO_SLOT,
	RI_OWN,		/* the slot, taken back from the report */
	RI_OWN_LEFT,	/* the same, left by a rename (asked for) */
	RI_NOT_NOW,	/* a slot that must not be used or replaced now:
			 * left by a rename, or being retired by a report */
};

/* A new interval of @p from now, with its counters now. */
static void ri_begin(struct task_struct *p, struct ri_slot *s)
{
	struct ri_counters now;

	ri_read_counters(p, &now);
	ri_start(s, &now, ktime_get_mono_fast_ns());
}

/*
 * The slot of @p, from @p's own context (@p is current or not running),
 * taken back from the report (see ->off), or NULL; *@found says which.
 * A slot left by a rename is taken only with @take_left.
 */
static struct ri_slot *ri_find(struct task_struct *p, bool take_left,
			       enum ri_found *found)
{
	struct ri_slot *s = diag_task_table_find(&ri.tasks, p);
	u64 off, seen;

	*found = RI_NO_SLOT;
	if (!s)
		return NULL;
	off = atomic64_read(&s->off);
	for (;;) {
		if (!off) {
			*found = RI_OWN;
			return s;
		}
		if (off == RI_RETIRED || (off == RI_LEFT && !take_left)) {
			*found = RI_NOT_NOW;
			return NULL;
		}
		seen = atomic64_cmpxchg(&s->off, off, 0);
		if (seen == off)
			break;
		off = seen;	/* a report claimed it meanwhile */
	}
	if (off == RI_LEFT) {
		*found = RI_OWN_LEFT;
		return s;
	}
	if (off & RI_CUT)	/* a report sampled the time off CPU */
		ri_start(s, &s->at_off, off & ~RI_CUT);
	*found = RI_OWN;
	return s;
}

/*
 * The slot of @p as ri_find(), made with a baseline when it has none.
 * NULL for tasks that are going away (they get no slot after their exit
 * began), whose slot must not be used now, or that do not fit.
 */
static struct ri_slot *ri_slot_of(struct task_struct *p)
{
	enum ri_found found;
	struct ri_slot *s;

	s = ri_find(p, false, &found);
	if (s || found == RI_NOT_NOW || (p->flags & PF_EXITING) || !p->pid)
		return s;
	s = diag_task_table_insert(&ri.tasks, p);
	if (!s) {
		ri_table_full(p);
		return NULL;
	}
	ri_begin(p, s);
	return s;
}

/* Write a sample of current @p covering the time since s->start_ns. */
static void ri_sample(struct task_struct *p, struct ri_slot *s, u32 flags)
{
	unsigned int cpu = smp_processor_id();
	struct diag_resource_record *r;
	struct diag_ring_slot slot;
	struct ri_counters now;

	r = diag_ring_reserve(&diag_resource_image.ring, &slot,
			      DIAG_REC_RESOURCE, sizeof(*r));
	if (!r)
		return;	/* counted as lost; the next sample covers this one */
	ri_read_counters(p, &now);
	r->flags = flags;
	ri_identify(r, p);
	ri_fill(r, s->start_ns, &s->at_start, &now);
	r->cpus = s->cpus | cpu_bit(cpu);
	r->cpu = cpu;
	r->rss_bytes = diag_task_rss_bytes_sum(p);
	r->rss_unsynced_bytes = diag_task_rss_unsynced_pages(p) *
				(s64)PAGE_SIZE;
	/* the next interval starts where this one ends */
	ri_start(s, &now, r->hdr.ts_ns);
	diag_ring_commit(&slot);
}

static inline bool ri_due(const struct ri_slot *s)
{
	return ktime_get_mono_fast_ns() - s->start_ns >= ri.interval_ns;
}

/*
 * The end of current @p's slot @s, taken with ri_find(.., true, @found):
 * its last sample, unless a rename took that already.
 */
static void ri_end(struct task_struct *p, struct ri_slot *s,
		   enum ri_found found, u32 flags)
{
	if (found == RI_OWN)
		ri_sample(p, s, flags);
	diag_task_table_remove(&ri.tasks, s);
}

/* @p is current, leaving its CPU. */
static void ri_switch_out(struct task_struct *p)
{
	struct ri_slot *s = ri_slot_of(p);

	if (!s)
		return;
	s->cpus |= cpu_bit(smp_processor_id());
	if (ri_due(s))
		ri_sample(p, s, 0);
	/* for a report while it is off CPU */
	ri_read_counters(p, &s->at_off);
	s->off_cpu = smp_processor_id();
	atomic64_set_release(&s->off, max_t(u64, ktime_get_mono_fast_ns(), 1));
}

/*
 * @p's last switch (TASK_DEAD), its counters final.  Whether it is watched
 * or not: a task that stopped matching in a way no probe saw (renamed by
 * another thread, its pid taken by de_thread()) frees its slot here.
 */
static void ri_switch_dead(struct task_struct *p)
{
	enum ri_found found;
	struct ri_slot *s;

	if (!diag_task_table_in_use(&ri.tasks))
		return;
	s = ri_find(p, true, &found);
	if (s)
		ri_end(p, s, found, DIAG_RI_EXITED);
}

/* every context switch of the machine comes here: filter first */
static inline void ri_switch(bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state)
{
	if (unlikely(prev_state & TASK_DEAD))
		ri_switch_dead(prev);
	else if (diag_filter_match(&diag_resource_image.filter, prev))
		ri_switch_out(prev);
	/* a baseline for a task seen first; the slot back from a report */
	if (diag_filter_match(&diag_resource_image.filter, next))
		ri_slot_of(next);
}
DIAG_SCHED_SWITCH_PROBE(probe_switch, ri_switch)

/*
 * Whether @p would be watched under the name @comm, stored as
 * __set_task_comm() will store it.
 */
static bool ri_watched_as(struct task_struct *p, const char *comm)
{
	const struct diag_filter *f = &diag_resource_image.filter;
	struct diag_filter but_comm = *f;
	char name[DIAG_COMM_LEN];

	but_comm.has_comm = false;
	if (!diag_filter_match(&but_comm, p))
		return false;
	if (!f->has_comm)
		return true;
	strscpy_pad(name, comm, sizeof(name));
	return !memcmp(name, f->comm, DIAG_COMM_LEN);
}

/*
 * __set_task_comm(), just before @p->comm becomes @comm: every exec
 * (after de_thread(), before the new program runs), prctl(PR_SET_NAME),
 * writes to /proc/PID/comm, kernel threads named by their creator.  A
 * task renaming itself out of the filter gets its last sample, under the
 * name it was watched by, and its slot is left (RI_LEFT); one renaming
 * itself back in starts again.  Another task's rename cannot be handled
 * here (the slot is written only from its own context): its last switch
 * or a report frees the slot.  Interrupts off: the tick's probe must not
 * run on @p's slot in the middle of this.
 */
static void probe_rename(void *data, struct task_struct *p, const char *comm)
{
	enum ri_found found;
	unsigned long flags;
	struct ri_slot *s;
	bool watched;

	if (p != current || !diag_task_table_in_use(&ri.tasks))
		return;
	watched = ri_watched_as(p, comm);
	local_irq_save(flags);
	s = ri_find(p, watched, &found);
	if (found == RI_OWN_LEFT) {
		ri_begin(p, s);		/* back under a watched name */
	} else if (found == RI_OWN && !watched) {
		ri_sample(p, s, 0);
		atomic64_set_release(&s->off, RI_LEFT);
	}
	local_irq_restore(flags);
}

/*
 * An exec succeeded; @p is current and runs the new program from here.
 * de_thread() may have given it another pid (a non-leader thread takes
 * its leader's, and the leader dies under the thread's): its slot stays
 * its own (it is keyed by the task, not the pid) and notes the pid; if
 * the pid takes it out of the filter, it ends here, as does a slot left
 * by the exec's rename.  A task watched from this exec on (comm= naming
 * the new program) starts here, so its first sample covers the new
 * program only.  Interrupts off as for a rename.
 */
static void probe_exec(void *data, struct task_struct *p, pid_t old_pid,
		       struct linux_binprm *bprm)
{
	bool watched = diag_filter_match(&diag_resource_image.filter, p);
	enum ri_found found;
	unsigned long flags;
	struct ri_slot *s;

	if (!watched && !diag_task_table_in_use(&ri.tasks))
		return;
	local_irq_save(flags);
	s = ri_find(p, true, &found);
	if (!watched) {
		if (s)
			ri_end(p, s, found, 0);
	} else if (found == RI_OWN_LEFT) {
		ri_begin(p, s);
	} else if (found == RI_NO_SLOT) {
		ri_slot_of(p);
	}
	local_irq_restore(flags);
}

/*
 * update_curr() of a CFS task, with its runqueue locked: at every tick,
 * at wakeups, as it leaves the CPU (just before sched_switch), and when
 * anyone reads its runtime (/proc/PID/stat, its CPU-time clock).  Only
 * the hard-interrupt callers (the tick, a wakeup from an interrupt) are
 * needed: they sample a task that runs for seconds without switching,
 * and the sample says it was taken while the task ran.  Its switches are
 * sampled at sched_switch; the process-context callers would only take
 * the same sample a tick sooner.  Only when the task is current:
 * update_curr() also runs for tasks on other CPUs, whose state their own
 * CPU may be writing.
 */
/* 6.8 dropped vruntime ("sched: Remove vruntime from trace_sched_stat_runtime()") */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
static void probe_runtime(void *data, struct task_struct *p, u64 runtime)
#else
static void probe_runtime(void *data, struct task_struct *p, u64 runtime,
			  u64 vruntime)
#endif
{
	struct ri_slot *s;

	if (!diag_filter_match(&diag_resource_image.filter, p))
		return;
	if (p != current || !in_hardirq())
		return;
	s = ri_slot_of(p);
	if (!s)
		return;
	s->cpus |= cpu_bit(smp_processor_id());
	if (ri_due(s))
		ri_sample(p, s, DIAG_RI_RUNNING);
}

enum ri_off_cpu {
	RI_OFF_DONE,		/* sampled, or nothing to do */
	RI_OFF_NO_ROOM,		/* the ring was full: the next report */
	RI_OFF_RETIRED,		/* the slot is retired */
};

/*
 * Sample the slot @s of the task @p (held by the caller), off CPU since
 * it last left one watched, if its interval is over; when @p is no longer
 * watched (@leave), take its last sample whatever the interval and retire
 * the slot.  Preemption is off: the ring is this CPU's.
 */
static enum ri_off_cpu ri_off_cpu_sample(struct ri_slot *s,
					 struct task_struct *p, bool leave,
					 u64 rss, s64 unsynced)
{
	struct diag_resource_record *r = NULL;
	const struct ri_counters *from;
	struct diag_ring_slot slot;
	u64 off, start, cpus, claim;

	/* pairs with the release in ri_switch_out: ->at_off is complete */
	off = atomic64_read_acquire(&s->off);
	if (!off)
		return RI_OFF_DONE;	/* on a CPU: its own probes sample it */
	if (off == RI_RETIRED)
		return RI_OFF_DONE;	/* retired by an earlier report */
	if (off == RI_LEFT && !leave)
		return RI_OFF_DONE;	/* its new name is on its way */
	/*
	 * The slot may have been freed since the caller found it and made
	 * again, for @p (then the claim below settles it) or for another
	 * task: not @p's state then.
	 */
	if (!diag_task_table_owned_by(s, p))
		return RI_OFF_DONE;
	if (off & RI_CUT) {	/* sampled off CPU already and still off */
		start = off & ~RI_CUT;
		from = &s->at_off;
		cpus = 0;
	} else {
		start = s->start_ns;
		from = &s->at_start;
		cpus = s->cpus;
	}
	if (leave && (off & RI_CUT)) {
		/*
		 * Nothing since the cut, or (RI_LEFT) its rename took its
		 * last sample: none to take
		 */
		claim = RI_RETIRED;
	} else {
		if (!leave && ktime_get_mono_fast_ns() - start < ri.interval_ns)
			return RI_OFF_DONE;
		r = diag_ring_try_reserve(&diag_resource_image.ring, &slot,
					  DIAG_REC_RESOURCE, sizeof(*r));
		if (!r)
			return RI_OFF_NO_ROOM;
		r->flags = DIAG_RI_OFF_CPU;
		ri_identify(r, p);
		ri_fill(r, start, from, &s->at_off);
		r->cpus = cpus | cpu_bit(s->off_cpu);
		r->cpu = s->off_cpu;
		r->rss_bytes = rss;
		r->rss_unsynced_bytes = unsynced;
		claim = leave ? RI_RETIRED : RI_CUT | r->hdr.ts_ns;
	}
	/* fully ordered: everything above was read before the claim */
	if (atomic64_cmpxchg(&s->off, off, claim) != off) {
		/* it took the slot back meanwhile: drop this one */
		if (r) {
			diag_ring_trim(&slot, r, sizeof(r->hdr));
			r->hdr.type = DIAG_REC_PAD;
			diag_ring_commit(&slot);
		}
		return RI_OFF_DONE;
	}
	if (r)
		diag_ring_commit(&slot);
	if (claim != RI_RETIRED)
		return RI_OFF_DONE;
	/*
	 * @p's probes leave the slot alone from the claim on; lookups stop
	 * finding it now, and it is reused after the report's grace period.
	 */
	diag_task_table_retire(&ri.tasks, s);
	return RI_OFF_RETIRED;
}

/*
 * Samples of the watched tasks that are off CPU past their interval, and
 * the last sample and retirement of tasks that are no longer watched.
 * Bounded by the table (max_tasks * 2 slots), in process context.
 */
static bool ri_off_cpu_samples(struct diag_function *fn)
{
	enum ri_off_cpu res = RI_OFF_DONE;
	bool watched, retired = false;
	struct mm_struct *mm;
	struct task_struct *p;
	struct ri_slot *s;
	s64 unsynced;
	u64 rss;
	u32 i;

	for (i = 0; i < ri.tasks.nr && res != RI_OFF_NO_ROOM; i++) {
		s = diag_task_table_slot(&ri.tasks, i);
		if (!s || !atomic64_read(&s->off))
			continue;
		/*
		 * Only a task we hold may be looked at; one whose pid leads
		 * elsewhere is gone (its last switch frees its slot) or has
		 * just changed its pid in an exec (its probes note it).
		 */
		p = diag_task_table_get_task(s);
		if (!p)
			continue;
		/* a new comm (set by another thread), or a new pid */
		watched = diag_filter_match(&fn->filter, p);
		/* what user space sees in VmRSS now; it may sleep, so here */
		rss = 0;
		mm = get_task_mm(p);
		if (mm) {
			rss = (u64)diag_mm_rss_pages(mm) << PAGE_SHIFT;
			mmput(mm);
		}
		unsynced = diag_task_rss_unsynced_pages(p) * (s64)PAGE_SIZE;
		preempt_disable();
		res = ri_off_cpu_sample(s, p, !watched, rss, unsynced);
		preempt_enable();
		put_task_struct(p);
		if (res == RI_OFF_RETIRED)
			retired = true;
		cond_resched();
	}
	if (retired)
		diag_task_table_flush_retired(&ri.tasks);
	return res == RI_OFF_NO_ROOM;
}

/* sched_switch first: it makes the slots the others look up */
static struct diag_tracepoint ri_tracepoints[] = {
	DIAG_TRACEPOINT(sched_switch, probe_switch),
	DIAG_TRACEPOINT(sched_stat_runtime, probe_runtime),
	DIAG_TRACEPOINT(task_rename, probe_rename),
	DIAG_TRACEPOINT(sched_process_exec, probe_exec),
};

static int resource_validate(const void *settings, struct diag_msg *msg)
{
	const struct diag_resource_image_settings *s = settings;
	u32 interval = s->interval_ms ?: DIAG_RI_INTERVAL_MS_DEFAULT;
	u32 tasks = s->max_tasks ?: DIAG_RI_TASKS_DEFAULT;

	if (interval < DIAG_RI_INTERVAL_MS_MIN ||
	    interval > DIAG_RI_INTERVAL_MS_MAX) {
		diag_msg_set(msg, "interval of %u ms is outside %u..%u ms",
			     interval, DIAG_RI_INTERVAL_MS_MIN,
			     DIAG_RI_INTERVAL_MS_MAX);
		return -EINVAL;
	}
	if (tasks > DIAG_RI_TASKS_MAX) {
		diag_msg_set(msg, "max_tasks of %u is over the limit of %u",
			     tasks, DIAG_RI_TASKS_MAX);
		return -EINVAL;
	}
	return diag_require_task_filter(&diag_resource_image, &s->common, msg);
}

static int resource_activate(struct diag_function *fn, const void *settings,
			     struct diag_msg *msg)
{
	const struct diag_resource_image_settings *in = settings;
	u32 tasks = in->max_tasks ?: DIAG_RI_TASKS_DEFAULT;
	int ret;

	ri.interval_ns = (u64)(in->interval_ms ?: DIAG_RI_INTERVAL_MS_DEFAULT) *
			 NSEC_PER_MSEC;
	atomic_set(&ri.full_reported, 0);
	ret = diag_task_table_alloc(&ri.tasks, tasks, sizeof(struct ri_slot));
	if (ret == -E2BIG)
		return diag_mem_refused(msg, "the task table", ri.tasks.bytes);
	if (ret) {
		diag_msg_set(msg, "cannot allocate a table of %u tasks", tasks);
		return ret;
	}
	ret = diag_tracepoints_attach(ri_tracepoints,
				      ARRAY_SIZE(ri_tracepoints), msg);
	if (ret) {
		diag_task_table_free(&ri.tasks);
		return ret;
	}
	return 0;
}

static void resource_deactivate(struct diag_function *fn)
{
	diag_tracepoints_detach(ri_tracepoints, ARRAY_SIZE(ri_tracepoints));
	diag_task_table_free(&ri.tasks);
}

struct diag_function diag_resource_image = {
	.id = DIAG_FN_RESOURCE_IMAGE,
	.name = "resource-image",
	.settings_size = sizeof(struct diag_resource_image_settings),
	.max_record = sizeof(struct diag_resource_record),
	.validate = resource_validate,
	.activate = resource_activate,
	.deactivate = resource_deactivate,
	.sync = ri_off_cpu_samples,
};
