// SPDX-License-Identifier: GPL-2.0
/*
 * resource-image on BPF: the CPU time, memory and I/O of the watched
 * tasks, one sample per task and interval, as module/resource_image.c
 * takes them and from the same moments:
 *   - sched_switch, a task leaving its CPU (its sum_exec_runtime just
 *     brought up to date), its last switch (TASK_DEAD: the exit sample,
 *     so a thread that lived for a millisecond is still reported), and a
 *     task coming onto a CPU, where one seen first gets its baseline;
 *   - sched_process_fork, where a watched task born while the function is
 *     active gets its baseline before it first runs;
 *   - sched_stat_runtime in a hard interrupt (the tick) for the running
 *     task: one that runs for seconds without switching is still sampled;
 *   - task_rename (prctl, /proc comm, exec) by the task itself, and
 *     sched_process_exec, where the filter may stop or start matching;
 *   - the report: the CLI runs the task iterator on_report before every
 *     drain, which samples the watched tasks that have been off CPU since
 *     their interval ended, from the counters they saved when they left
 *     (which cannot have moved since), and gives tasks that no longer
 *     match the filter (renamed by another thread) their last sample.
 *
 * The per-task state is a slot in `slots`, a preallocated hash keyed by
 * the task's address (not its pid: a reused pid is another task, and a
 * thread that execs takes its leader's), and the task's start time in the
 * slot tells a task from a later one at the same address: see owned().
 * A slot is written only from the task's own context except for
 * the hand-over in ->off, which lets the iterator sample a task that is
 * off CPU:
 *   the task, leaving its CPU, saves its counters in ->at_off and then
 *   (a full barrier) its switch time in ->off; before it changes anything
 *   in the slot again it takes ->off back with compare-and-swap to 0.  The
 *   iterator, finding ->off set, reads the slot and claims it with
 *   compare-and-swap(->off, seen, RI_CUT | now): success proves the task
 *   did not take it back in between, so what it read was stable; on
 *   failure its record is discarded.  The task, taking it back, finds the
 *   cut and starts its interval there.
 * RI_RETIRED: the iterator's claim of a task that no longer matches; the
 * task's probes leave such a slot alone.  RI_LEFT: set by the task itself
 * when it renames itself out of the filter (its last sample is taken
 * there).  RI_HELD: the task's rename or exec program is working on the
 * slot; they run with interrupts on (and preemptible where a kernel runs
 * tracepoints so on PREEMPT_RT), so the task's tick, or its own switch,
 * could otherwise come in half-way (the module turns interrupts off
 * there): those leave a held slot alone and sample at the next tick or
 * switch.
 *
 * Only the task's own context deletes its slot (its last switch, an exec
 * that takes it out of the filter, or its finding the slot retired when
 * it is watched again): a preallocated hash reuses a deleted element at
 * once, and the iterator's compare-and-swap against the value it read is
 * what keeps it from writing into a slot that changed hands meanwhile.
 * So a retired slot stays in the table until its task execs or exits;
 * the table holds twice max_tasks slots, and `active_slots` (slots not
 * retired) is what max_tasks bounds.
 */
#include "diag.bpf.h"

/* set by the CLI before load */
const volatile __u64 interval_ns;
const volatile __u64 max_tasks;
const volatile __u64 total_ram_bytes;

#define RI_CUT		(1ULL << 63)
#define RI_RETIRED	(~0ULL)		/* no time is that late */
#define RI_LEFT		(~0ULL - 1)
#define RI_HELD		(~0ULL - 2)

#define RI_TASK_DEAD	0x80		/* include/linux/sched.h */
#define RI_PF_EXITING	0x00000004
#define RI_CAS_TRIES	4
#define RI_EEXIST	17

/* What a task has used since it started, as far as a sample is concerned. */
struct ri_counters {
	__u64 sum_exec;
	__u64 rchar, wchar, read_bytes, write_bytes;
	__u64 nvcsw, nivcsw;
};

struct ri_slot {
	__u64 task;		/* the task_struct it was made for (its key) */
	__u64 task_start;	/* the task's start_time when the slot was made */
	__u64 start_ns;		/* start of the current interval */
	struct ri_counters at_start;
	__u64 cpus;		/* CPUs run on since the start */
	__u64 off;		/* 0 on CPU, else switch time, RI_CUT | cut time,
				 * RI_RETIRED, RI_LEFT or RI_HELD */
	struct ri_counters at_off;	/* the counters when it left its CPU */
	__u32 off_cpu;		/* the CPU it left */
	__u32 reserved;
};

/* max_entries set by the CLI: twice max_tasks (see above) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, __u64);	/* the task_struct's address */
	__type(value, struct ri_slot);
} slots SEC(".maps");

/* slots that count against max_tasks: those not retired */
__s64 active_slots;
/* the table-full record is written once per activation */
__u64 full_reported;

enum ri_found {
	RI_NO_SLOT,
	RI_OWN,		/* the slot, taken back from the report */
	RI_OWN_LEFT,	/* the same, left by a rename (asked for) */
	RI_NOT_NOW,	/* left by a rename, retired by the report, or held */
};

static __always_inline __u64 cpu_bit(__u32 cpu)
{
	return cpu < 64 ? 1ULL << cpu : 0;
}

static __always_inline void read_counters(struct task_struct *p,
					  struct ri_counters *c)
{
	c->sum_exec = BPF_CORE_READ(p, se.sum_exec_runtime);
	c->rchar = BPF_CORE_READ(p, ioac.rchar);
	c->wchar = BPF_CORE_READ(p, ioac.wchar);
	c->read_bytes = BPF_CORE_READ(p, ioac.read_bytes);
	c->write_bytes = BPF_CORE_READ(p, ioac.write_bytes);
	c->nvcsw = BPF_CORE_READ(p, nvcsw);
	c->nivcsw = BPF_CORE_READ(p, nivcsw);
}

/* The slot at @p's address, whether @p's or not: see owned(). */
static __always_inline struct ri_slot *lookup(struct task_struct *p)
{
	__u64 key = (__u64)p;

	return bpf_map_lookup_elem(&slots, &key);
}

/*
 * Whether the slot @s at @p's address is @p's.  A task_struct is freed
 * after its task is reaped and a later fork may get the same memory, with
 * a later start_time; the one change of a live task's start_time is
 * de_thread(), which gives the exec'ing thread its leader's, always
 * earlier.  So the slot is @p's when its start time is not earlier than
 * @p's; otherwise its task is gone (and its last switch was not seen).
 */
static __always_inline bool owned(const struct ri_slot *s,
				  struct task_struct *p)
{
	return s->task_start >= BPF_CORE_READ(p, start_time);
}

/*
 * Deletes the slot at @p's address; false if the hash refused (it does
 * when a program on this CPU interrupted another one holding the bucket).
 */
static __always_inline bool delete_slot(struct task_struct *p)
{
	__u64 key = (__u64)p;

	return !bpf_map_delete_elem(&slots, &key);
}

static __always_inline void start_interval(struct ri_slot *s,
					   const struct ri_counters *at,
					   __u64 now_ns)
{
	s->start_ns = now_ns;
	s->at_start = *at;
	s->cpus = 0;
}

static __always_inline void identify(struct diag_resource_record *r,
				     struct task_struct *p)
{
	r->pid = BPF_CORE_READ(p, pid);
	r->tgid = BPF_CORE_READ(p, tgid);
	bpf_probe_read_kernel(r->comm, DIAG_COMM_LEN, &p->comm);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	if (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD)
		r->flags |= DIAG_RI_KTHREAD;
}

/* The interval from @start_ns (counters @from) to @to, into @r. */
static __always_inline void fill(struct diag_resource_record *r,
				 __u64 start_ns, const struct ri_counters *from,
				 const struct ri_counters *to)
{
	r->start_ns = start_ns;
	r->cpu_ns = to->sum_exec - from->sum_exec;
	r->cpu_total_ns = to->sum_exec;
	r->total_ram_bytes = total_ram_bytes;
	r->rchar = to->rchar - from->rchar;
	r->wchar = to->wchar - from->wchar;
	r->read_bytes = to->read_bytes - from->read_bytes;
	r->write_bytes = to->write_bytes - from->write_bytes;
	r->rchar_total = to->rchar;
	r->wchar_total = to->wchar;
	r->nvcsw = to->nvcsw - from->nvcsw;
	r->nivcsw = to->nivcsw - from->nivcsw;
}

static __always_inline struct diag_resource_record *reserve_sample(void)
{
	struct diag_resource_record *r;

	r = reserve_record(DIAG_REC_RESOURCE, sizeof(*r));
	if (r)
		__builtin_memset((void *)r + sizeof(r->hdr), 0,
				 sizeof(*r) - sizeof(r->hdr));
	return r;
}

/* Say once per activation that a task could not be tracked. */
static __always_inline void table_full(struct task_struct *p)
{
	struct diag_resource_record *r;

	if (__sync_val_compare_and_swap(&full_reported, 0, 1))
		return;
	r = reserve_sample();
	if (!r)
		return;
	r->flags = DIAG_RI_TABLE_FULL;
	identify(r, p);
	bpf_ringbuf_submit(r, 0);
}

/* A new interval of @p from now, with its counters now. */
static __always_inline void begin(struct task_struct *p, struct ri_slot *s)
{
	struct ri_counters now;

	read_counters(p, &now);
	start_interval(s, &now, bpf_ktime_get_ns());
}

/*
 * The slot of @p, from @p's own context (@p is current or not running),
 * taken back from the report (see ->off), or NULL; *@found says which.
 * A slot left by a rename is taken only with @take_left.  ->off is left
 * at @hold: 0, or RI_HELD for a program that must not be interrupted
 * half-way by another of the task's (it then sets ->off itself).
 */
static __always_inline struct ri_slot *find(struct task_struct *p,
					    bool take_left, __u64 hold,
					    enum ri_found *found)
{
	struct ri_slot *s = lookup(p);
	__u64 off, seen;
	int i;

	*found = RI_NO_SLOT;
	if (!s || !owned(s, p))
		return NULL;
	off = s->off;
	for (i = 0; i < RI_CAS_TRIES; i++) {
		if (!off && !hold) {
			*found = RI_OWN;
			return s;
		}
		if (off == RI_RETIRED || off == RI_HELD ||
		    (off == RI_LEFT && !take_left)) {
			*found = RI_NOT_NOW;
			return NULL;
		}
		seen = __sync_val_compare_and_swap(&s->off, off, hold);
		if (seen == off)
			break;
		off = seen;	/* the report claimed it meanwhile */
	}
	if (i == RI_CAS_TRIES) {
		/* the report claims a slot once per drain: cannot happen */
		*found = RI_NOT_NOW;
		return NULL;
	}
	if (off == RI_LEFT) {
		*found = RI_OWN_LEFT;
		return s;
	}
	if (off & RI_CUT)	/* the report sampled the time off CPU */
		start_interval(s, &s->at_off, off & ~RI_CUT);
	*found = RI_OWN;
	return s;
}

/*
 * Deletes @p's slot @s, which it holds (not retired), from @p's own
 * context.  Exclusive with the report's retiring it: each takes ->off
 * first.  A slot the hash would not delete is retired instead (it stops
 * counting either way), and goes at the task's next exec or exit.
 */
static __always_inline void drop(struct task_struct *p, struct ri_slot *s)
{
	if (!delete_slot(p))
		__sync_lock_test_and_set(&s->off, RI_RETIRED);
	__sync_fetch_and_add(&active_slots, -1);
}

/*
 * From @p's own context: deletes a slot at its address that is its own
 * and retired by a report, or that belonged to a task that is gone (which
 * counted against max_tasks unless retired).  Not a slot left by a
 * rename: that is @p's own to take back.
 */
static __always_inline void drop_dead_or_retired(struct task_struct *p)
{
	struct ri_slot *s = lookup(p);

	if (!s)
		return;
	if (owned(s, p)) {
		if (s->off == RI_RETIRED)
			delete_slot(p);
		return;
	}
	if (s->off != RI_RETIRED && delete_slot(p))
		__sync_fetch_and_add(&active_slots, -1);
	else if (s->off == RI_RETIRED)
		delete_slot(p);
}

/*
 * The slot of @p as find(), made with a baseline when it has none (a
 * retired one of its own is replaced: @p is watched again).  NULL for
 * tasks that are going away (they get no slot after their exit began),
 * whose slot must not be used now, or that do not fit.
 */
static __always_inline struct ri_slot *slot_of(struct task_struct *p)
{
	struct ri_slot fresh = {}, *s;
	enum ri_found found;
	__u64 key = (__u64)p;
	long err;

	s = find(p, false, 0, &found);
	if (s || (BPF_CORE_READ(p, flags) & RI_PF_EXITING) ||
	    !BPF_CORE_READ(p, pid))
		return s;
	drop_dead_or_retired(p);
	if (found == RI_NOT_NOW && lookup(p))
		return NULL;	/* left by a rename: not now */
	if (__sync_fetch_and_add(&active_slots, 1) >= (__s64)max_tasks) {
		__sync_fetch_and_add(&active_slots, -1);
		table_full(p);
		return NULL;
	}
	begin(p, &fresh);
	fresh.task = (__u64)p;
	fresh.task_start = BPF_CORE_READ(p, start_time);
	err = bpf_map_update_elem(&slots, &key, &fresh, BPF_NOEXIST);
	if (err) {
		__sync_fetch_and_add(&active_slots, -1);
		/*
		 * -EEXIST: made meanwhile by the task's own switch, which
		 * preempted a rename or exec program (PREEMPT_RT); else full
		 * of slots retired by reports whose tasks still live
		 */
		if (err != -RI_EEXIST)
			table_full(p);
		return err == -RI_EEXIST ? find(p, false, 0, &found) : NULL;
	}
	return lookup(p);
}

/* Write a sample of current @p covering the time since s->start_ns. */
static __always_inline void sample(struct task_struct *p, struct ri_slot *s,
				   __u32 flags)
{
	struct diag_resource_record *r;
	struct ri_counters now;
	__u32 cpu;

	r = reserve_sample();
	if (!r)
		return;	/* counted as lost; the next sample covers this one */
	cpu = r->hdr.cpu;
	read_counters(p, &now);
	r->flags = flags;
	identify(r, p);
	fill(r, s->start_ns, &s->at_start, &now);
	r->cpus = s->cpus | cpu_bit(cpu);
	r->cpu = cpu;
	r->rss_bytes = task_rss_bytes_sum(p);
	r->rss_unsynced_bytes = task_rss_unsynced_bytes(p);
	/* the next interval starts where this one ends */
	start_interval(s, &now, r->hdr.ts_ns);
	bpf_ringbuf_submit(r, 0);
}

static __always_inline bool due(const struct ri_slot *s)
{
	return bpf_ktime_get_ns() - s->start_ns >= interval_ns;
}

/* The end of @p's slot @s, taken with find(.., true, ..): its last sample. */
static __always_inline void end(struct task_struct *p, struct ri_slot *s,
				enum ri_found found, __u32 flags)
{
	if (found == RI_OWN)
		sample(p, s, flags);
	drop(p, s);
}

/* @p is current, leaving its CPU. */
static __always_inline void switch_out(struct task_struct *p)
{
	struct ri_slot *s = slot_of(p);
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 now;

	if (!s)
		return;
	s->cpus |= cpu_bit(cpu);
	if (due(s))
		sample(p, s, 0);
	/* for a report while it is off CPU */
	read_counters(p, &s->at_off);
	s->off_cpu = cpu;
	now = bpf_ktime_get_ns();
	/* a full barrier: ->at_off is complete before ->off says so */
	__sync_lock_test_and_set(&s->off, now ? now : 1);
}

/*
 * @p's last switch (TASK_DEAD), its counters final.  Whether it is watched
 * or not: a task that stopped matching in a way no program saw (renamed
 * by another thread, its pid taken by de_thread()) frees its slot here.
 */
static __always_inline void switch_dead(struct task_struct *p)
{
	enum ri_found found;
	struct ri_slot *s;

	s = find(p, true, 0, &found);
	if (s)
		end(p, s, found, DIAG_RI_EXITED);
	else
		drop_dead_or_retired(p);
}

/* every context switch of the machine comes here: filter first */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	if (prev_state & RI_TASK_DEAD)
		switch_dead(prev);
	else if (filter_match(prev))
		switch_out(prev);
	/* a baseline for a task seen first; the slot back from a report */
	if (filter_match(next))
		slot_of(next);
	return 0;
}

/*
 * A watched task is born: its slot, with the counters it starts with (all
 * zero), before it first runs (the tracepoint comes before
 * wake_up_new_task(), so nothing of the child's can run meanwhile).  Its
 * first switch onto a CPU would make the same baseline; this one does not
 * depend on that one switch being seen.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (filter_match(child))
		slot_of(child);
	return 0;
}

/* Whether @p would be watched under the name @comm (as it will be stored). */
static __always_inline bool watched_as(struct task_struct *p,
				       const char *comm)
{
	char name[DIAG_COMM_LEN] = {};
	int i;

	if (filter_pid && p->pid != filter_pid)
		return false;
	if (filter_tgid && p->tgid != filter_tgid)
		return false;
	if (!filter_has_comm)
		return true;
	/* __set_task_comm() stores it as strscpy_pad() does: NUL-padded */
	if (bpf_probe_read_kernel_str(name, sizeof(name), comm) < 0)
		return false;
	for (i = 0; i < DIAG_COMM_LEN; i++)
		if (name[i] != filter_comm[i])
			return false;
	return true;
}

/*
 * __set_task_comm(), just before @p->comm becomes @comm: every exec,
 * prctl(PR_SET_NAME), writes to /proc/PID/comm.  A task renaming itself
 * out of the filter gets its last sample, under the name it was watched
 * by, and its slot is left (RI_LEFT); one renaming itself back in starts
 * again.  Another task's rename is for its last switch or a report.
 */
SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *p, const char *comm)
{
	enum ri_found found;
	struct ri_slot *s;
	bool watched;

	if (p != bpf_get_current_task_btf())
		return 0;
	watched = watched_as(p, comm);
	s = find(p, watched, RI_HELD, &found);
	if (!s)
		return 0;
	if (found == RI_OWN_LEFT) {
		begin(p, s);		/* back under a watched name */
	} else if (!watched) {
		sample(p, s, 0);
		__sync_lock_test_and_set(&s->off, RI_LEFT);
		return 0;
	}
	__sync_lock_test_and_set(&s->off, 0);
	return 0;
}

/*
 * An exec succeeded; @p is current and runs the new program from here.
 * de_thread() may have given it another pid: its slot stays its own (it
 * is keyed by the task) and if the pid takes it out of the filter, it
 * ends here, as does a slot left by the exec's rename.  A task watched
 * from this exec on starts here.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	bool watched = filter_match(p);
	enum ri_found found;
	struct ri_slot *s;

	s = find(p, true, RI_HELD, &found);
	if (!watched) {
		if (s)
			end(p, s, found, 0);
		else
			drop_dead_or_retired(p);
		return 0;
	}
	if (s) {
		if (found == RI_OWN_LEFT)
			begin(p, s);
		__sync_lock_test_and_set(&s->off, 0);
	} else {
		slot_of(p);	/* none yet, or one retired by a report */
	}
	return 0;
}

#ifndef DIAG_NO_PERCPU_KSYMS
static __always_inline bool in_hardirq(void)
{
	return preempt_count_now() & DIAG_HARDIRQ_MASK;
}
#else
/*
 * Without the preempt count, every caller of update_curr() for the task
 * itself: a sample due then is taken there (flagged as taken while the
 * task ran) rather than at its switch a moment later.
 */
static __always_inline bool in_hardirq(void)
{
	return true;
}
#endif

/*
 * update_curr() of a CFS task: at every tick, at wakeups, as it leaves the
 * CPU and when its runtime is read.  Only the hard-interrupt callers are
 * needed (they sample a task that runs for seconds without switching, and
 * the sample says it was taken while the task ran); its switches are
 * sampled at sched_switch.  Only when the task is current: update_curr()
 * also runs for tasks on other CPUs.  The first argument is the task on
 * every kernel (6.8 dropped the third, vruntime).
 */
SEC("tp_btf/sched_stat_runtime")
int BPF_PROG(on_runtime, struct task_struct *p)
{
	struct ri_slot *s;

	if (!filter_match(p))
		return 0;
	if (p != bpf_get_current_task_btf() || !in_hardirq())
		return 0;
	s = slot_of(p);
	if (!s)
		return 0;
	s->cpus |= cpu_bit(bpf_get_smp_processor_id());
	if (due(s))
		sample(p, s, DIAG_RI_RUNNING);
	return 0;
}

/*
 * Run by the CLI before every drain, in process context: samples each
 * watched task off CPU past its interval, from what it saved when it left
 * (see ->off), and gives a task that no longer matches the filter its
 * last sample and retires its slot.  A full ring leaves the rest for the
 * next report: their counters wait in the slots, nothing is lost.
 */
SEC("iter/task")
int on_report(struct bpf_iter__task *ctx)
{
	struct task_struct *p = ctx->task;
	struct diag_resource_record *r;
	const struct ri_counters *from;
	__u64 off, start, cpus, claim;
	struct ri_slot *s;
	bool leave;

	if (!p)
		return 0;
	s = lookup(p);
	if (!s || !owned(s, p))
		return 0;
	off = __sync_fetch_and_add(&s->off, 0);	/* ->at_off is complete */
	if (!off || off == RI_RETIRED || off == RI_HELD)
		return 0;	/* on a CPU, or retired by an earlier report */
	/*
	 * Still @p's after that full barrier: @p may have deleted its slot
	 * since the lookup (this runs preemptible) and the hash given the
	 * element to another task, whose ->off the claim below could then
	 * match only by an identical time.
	 */
	if (s->task != (__u64)p)
		return 0;
	leave = !filter_match(p);
	if (off == RI_LEFT && !leave)
		return 0;	/* its new name is on its way */
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
		/* nothing since the cut, or its rename took its last sample */
		if (__sync_val_compare_and_swap(&s->off, off, RI_RETIRED) == off)
			__sync_fetch_and_add(&active_slots, -1);
		return 0;
	}
	if (!leave && bpf_ktime_get_ns() - start < interval_ns)
		return 0;
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r)
		return 0;
	__builtin_memset((void *)r + sizeof(r->hdr), 0,
			 sizeof(*r) - sizeof(r->hdr));
	fill_header(&r->hdr, DIAG_REC_RESOURCE, sizeof(*r));
	r->flags = DIAG_RI_OFF_CPU;
	identify(r, p);
	fill(r, start, from, &s->at_off);
	r->cpus = cpus | cpu_bit(s->off_cpu);
	r->cpu = s->off_cpu;
	r->rss_bytes = task_rss_bytes_sum(p);
	r->rss_unsynced_bytes = task_rss_unsynced_bytes(p);
	claim = leave ? RI_RETIRED : RI_CUT | r->hdr.ts_ns;
	/* fully ordered: everything above was read before the claim */
	if (__sync_val_compare_and_swap(&s->off, off, claim) != off) {
		/* it took the slot back meanwhile: drop this one */
		bpf_ringbuf_discard(r, 0);
		return 0;
	}
	bpf_ringbuf_submit(r, 0);
	if (claim == RI_RETIRED)
		__sync_fetch_and_add(&active_slots, -1);
	return 0;
}
