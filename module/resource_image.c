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
 * in a table of max_tasks slots (task_table.c), written only from the
 * task's own switches and ticks, except for the hand-over in ->off that
 * lets a report take the sample of a task that is off CPU (see
 * ri_off_cpu_samples()).  The probes fire for every task of the machine;
 * the filter rejects the unwatched ones first.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
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
 * time in ->off; coming back, it takes ->off back with xchg(0) before it
 * can change anything.  A report that finds ->off set reads the slot and
 * claims it with cmpxchg(->off, seen, RI_CUT | now): success proves the
 * task did not run in between, so what it read was stable.  The task,
 * coming back, finds the cut and starts its interval there.
 */
#define RI_CUT		(1ULL << 63)

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

/*
 * The slot of @p, made with a baseline when it has none.  @p is current
 * or not running.  NULL for tasks that are going away (their final switch
 * has been sampled already) or that do not fit.
 */
static struct ri_slot *ri_slot_of(struct task_struct *p)
{
	struct ri_slot *s = diag_task_table_find(&ri.tasks, p->pid);
	struct ri_counters now;

	if (s || (p->flags & PF_EXITING) || !p->pid)
		return s;
	s = diag_task_table_insert(&ri.tasks, p->pid);
	if (!s) {
		ri_table_full(p);
		return NULL;
	}
	ri_read_counters(p, &now);
	ri_start(s, &now, ktime_get_mono_fast_ns());
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
	r->rss_bytes = diag_task_rss_bytes(p);
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

/* @p is current, leaving its CPU. */
static void ri_switch_out(struct task_struct *p, unsigned int prev_state)
{
	struct ri_slot *s = ri_slot_of(p);

	if (!s)
		return;
	if (prev_state & TASK_DEAD) {
		/* its last switch: the counters are final */
		ri_sample(p, s, DIAG_RI_EXITED);
		diag_task_table_remove(&ri.tasks, s);
		return;
	}
	s->cpus |= cpu_bit(smp_processor_id());
	if (ri_due(s))
		ri_sample(p, s, 0);
	/* for a report while it is off CPU */
	ri_read_counters(p, &s->at_off);
	s->off_cpu = smp_processor_id();
	atomic64_set_release(&s->off, max_t(u64, ktime_get_mono_fast_ns(), 1));
}

/* @s is the slot of a task coming onto a CPU. */
static void ri_switch_in(struct ri_slot *s)
{
	u64 off = atomic64_xchg(&s->off, 0);

	if (off & RI_CUT)	/* a report sampled the time off CPU */
		ri_start(s, &s->at_off, off & ~RI_CUT);
}

/* every context switch of the machine comes here: filter first */
static inline void ri_switch(bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state)
{
	if (diag_filter_match(&diag_resource_image.filter, prev))
		ri_switch_out(prev, prev_state);
	if (diag_filter_match(&diag_resource_image.filter, next)) {
		/* a baseline for a task seen first */
		struct ri_slot *s = ri_slot_of(next);

		if (s)
			ri_switch_in(s);
	}
}
DIAG_SCHED_SWITCH_PROBE(probe_switch, ri_switch)

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

/*
 * The task of @pid with a reference, or NULL.  Slots hold global pids (the
 * probes see task->pid), so they are looked up in the initial namespace.
 */
static struct task_struct *ri_get_task(pid_t pid)
{
	struct task_struct *p;

	rcu_read_lock();
	p = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_PID);
	if (p)
		get_task_struct(p);
	rcu_read_unlock();
	return p;
}

/*
 * Sample the slot @s of the off-CPU task @p if its interval is over.
 * Returns false when the ring had no room (the sample waits for the next
 * report).  Preemption is off: the ring is this CPU's.
 */
static bool ri_off_cpu_sample(struct ri_slot *s, struct task_struct *p,
			      u64 rss, s64 unsynced)
{
	struct diag_resource_record *r;
	const struct ri_counters *from;
	struct diag_ring_slot slot;
	u64 off, start, cpus;

	/* pairs with the release in ri_switch_out: ->at_off is complete */
	off = atomic64_read_acquire(&s->off);
	if (!off)
		return true;	/* on a CPU: its own probes sample it */
	/*
	 * @p was looked up by the key read before: if the slot has since been
	 * freed and taken by another task (whose insert published the key
	 * before that task stored ->off), this is not @p's state.
	 */
	if (diag_task_table_pid(s) != p->pid)
		return true;
	if (off & RI_CUT) {	/* sampled off CPU already and still off */
		start = off & ~RI_CUT;
		from = &s->at_off;
		cpus = 0;
	} else {
		start = s->start_ns;
		from = &s->at_start;
		cpus = s->cpus;
	}
	if (ktime_get_mono_fast_ns() - start < ri.interval_ns)
		return true;
	r = diag_ring_try_reserve(&diag_resource_image.ring, &slot,
				  DIAG_REC_RESOURCE, sizeof(*r));
	if (!r)
		return false;
	r->flags = DIAG_RI_OFF_CPU;
	ri_identify(r, p);
	ri_fill(r, start, from, &s->at_off);
	r->cpus = cpus | cpu_bit(s->off_cpu);
	r->cpu = s->off_cpu;
	r->rss_bytes = rss;
	r->rss_unsynced_bytes = unsynced;
	/* fully ordered: everything above was read before the claim */
	if (atomic64_cmpxchg(&s->off, off, RI_CUT | r->hdr.ts_ns) != off) {
		/* it ran meanwhile and samples itself: drop this one */
		diag_ring_trim(&slot, r, sizeof(r->hdr));
		r->hdr.type = DIAG_REC_PAD;
	}
	diag_ring_commit(&slot);
	return true;
}

/* Samples of the watched tasks that are off CPU past their interval. */
static bool ri_off_cpu_samples(struct diag_function *fn)
{
	struct mm_struct *mm;
	struct task_struct *p;
	struct ri_slot *s;
	s64 unsynced;
	bool room = true;
	u64 rss;
	u32 i;

	for (i = 0; i < ri.tasks.nr && room; i++) {
		s = diag_task_table_slot(&ri.tasks, i);
		if (!s || !atomic64_read(&s->off))
			continue;
		p = ri_get_task(diag_task_table_pid(s));
		if (!p)
			continue;	/* gone: its last switch sampled it */
		if (!diag_filter_match(&fn->filter, p)) {
			/* no longer watched (a new comm): its probes skip it */
			put_task_struct(p);
			continue;
		}
		/* what user space sees in VmRSS now; it may sleep, so here */
		rss = 0;
		mm = get_task_mm(p);
		if (mm) {
			rss = (u64)get_mm_rss(mm) << PAGE_SHIFT;
			mmput(mm);
		}
		unsynced = diag_task_rss_unsynced_pages(p) * (s64)PAGE_SIZE;
		preempt_disable();
		room = ri_off_cpu_sample(s, p, rss, unsynced);
		preempt_enable();
		put_task_struct(p);
		cond_resched();
	}
	return !room;
}

static struct diag_tracepoint ri_tracepoints[] = {
	{ .name = "sched_switch", .probe = probe_switch },
	{ .name = "sched_stat_runtime", .probe = probe_runtime },
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
