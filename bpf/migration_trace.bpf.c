// SPDX-License-Identifier: GPL-2.0
/*
 * The light-weight migration trace on BPF: what module/migration_lite.c
 * and module/migration_trace.c record, for `diagnose-tools
 * migration-trace` (docs/migration-trace.md), on kernels that cannot load
 * the module.
 *
 *  - a migration: sched_migrate_task fires in set_task_cpu() before the
 *    task's CPU changes, so task_cpu(p) is the source; a call that keeps
 *    the CPU is not a migration (no se.nr_migrations either).  The cause
 *    comes from the classifier migrate-image uses (migrate_cause.bpf.h).
 *  - a fork placement: wake_up_new_task() places a new task with
 *    __set_task_cpu(), no migration for the kernel; sched_wakeup_new runs
 *    in the parent on its CPU, and records the placement when the child is
 *    on another one.
 *  - names: sched_process_fork (copy_process), task_rename (set_task_comm,
 *    which exec and prctl both go through).
 *  - start_sched_clock, task_list and marks: the control program, which
 *    the CLI runs with BPF_PROG_TEST_RUN on the CPU concerned (its own for
 *    a mark, so the mark carries the writer's pid, CPU and time, as the
 *    module's).  The CLI lists the tasks alive for task_list from /proc:
 *    a task iterator sees only the CLI's pid namespace, /proc the same,
 *    and the names must be the ones /proc shows.
 *
 * Storage, with the module's semantics: one mmapable array of 32-byte
 * slots, slots_per_cpu per CPU, each CPU's part written only by programs
 * running there; a slot is claimed by an atomic add on the CPU's counter
 * (PREEMPT_RT can interleave programs on one CPU, and the CLI runs the
 * control program from process context).  The buffers never wrap: the
 * first claim past a CPU's end stops the trace on every CPU (state FULL,
 * with the CPU and time), and that event and every later one that got
 * past the state check are counted lost, as are the moves the kernel made
 * without calling the program (move_gap.bpf.h, from se.nr_migrations:
 * every task's count is expected from the start, by the task iterator
 * mt_tasks and at each new task, and checked once more when the trace
 * stops, before the programs go).  A skipped move is known only when its
 * task's count is next looked at: one revealed after the stop (or after a
 * buffer filled, until the CLI settles the trace) is counted lost though
 * it may have come after the trace's end.
 * Nothing is consumed: the CLI reads the array as often as it likes until
 * a reset removes the pins.  `done` counts the slots written, so the CLI
 * can tell that no program is still writing one before it reads.
 */
#include "diag.bpf.h"
#include "migrate_cause.bpf.h"
#include "move_gap.bpf.h"
#include "bpf/migration_trace_abi.h"

/* set by the CLI before load */
const volatile __u64 slots_per_cpu = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_mt_control);
} mt_control SEC(".maps");

/* nr_cpus * slots_per_cpu slots; the CLI sizes it before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_mt_event);
} mt_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_mt_cpu);
} mt_cpus SEC(".maps");

static __always_inline struct diag_mt_control *control(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mt_control, &zero);
}

/* A volatile read: the CLI and other CPUs change it under us. */
static __always_inline bool in_state(struct diag_mt_control *c, __u64 state)
{
	return *(volatile __u64 *)&c->state == state;
}

/* The first CPU to find its buffer full stops the trace everywhere. */
static __always_inline void buffer_full(struct diag_mt_control *c, __u32 cpu)
{
	if (__sync_val_compare_and_swap(&c->full_cpu, -1, (__s64)cpu) != -1)
		return;
	c->full_ts = bpf_ktime_get_ns();
	/* the CLI's stop may have come first: then it stays stopped */
	if (__sync_val_compare_and_swap(&c->state, DIAG_MTB_RUNNING,
					DIAG_MTB_FULL) != DIAG_MTB_RUNNING)
		__sync_val_compare_and_swap(&c->state, DIAG_MTB_STARTING,
					    DIAG_MTB_FULL);
}

/*
 * A slot of this CPU's buffer for an event of @kind by @pid, its time
 * taken, or NULL: the buffer is full (counted lost, trace stopped).  The
 * caller fills it in and calls commit().
 */
static __always_inline struct diag_mt_event *
claim(struct diag_mt_control *c, struct diag_mt_cpu **pc, __u32 kind,
      __s32 pid)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id(), key;
	struct diag_mt_event *e;
	struct diag_mt_cpu *mc;
	__u64 idx;

	mc = bpf_map_lookup_elem(&mt_cpus, &zero);
	if (!mc)
		return NULL;
	idx = __sync_fetch_and_add(&mc->next, 1);
	if (idx >= slots_per_cpu) {
		__sync_fetch_and_add(&mc->lost, 1);
		buffer_full(c, cpu);
		return NULL;
	}
	key = cpu * slots_per_cpu + idx;
	e = bpf_map_lookup_elem(&mt_events, &key);
	if (!e) {
		/* a CPU beyond nr_cpus: cannot happen; the slot stays
		 * unwritten (ts 0, skipped), and the event is counted */
		__sync_fetch_and_add(&mc->lost, 1);
		__sync_fetch_and_add(&mc->done, 1);
		return NULL;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->pid = pid;
	*pc = mc;
	return e;
}

static __always_inline void commit(struct diag_mt_cpu *mc)
{
	/* a full barrier: the slot is written before it counts as done */
	__sync_fetch_and_add(&mc->done, 1);
}

/* Moves the kernel made without calling us (move_gap.bpf.h): lost. */
static __always_inline void count_unseen(__u64 n)
{
	__u32 zero = 0;
	struct diag_mt_cpu *mc = bpf_map_lookup_elem(&mt_cpus, &zero);

	if (mc)
		__sync_fetch_and_add(&mc->lost, n);
}

static __always_inline void record_move(struct diag_mt_control *c, __s32 pid,
					__u32 kind, __u32 orig_cpu,
					__u32 dest_cpu)
{
	struct diag_mt_event *e;
	struct diag_mt_cpu *mc;

	e = claim(c, &mc, kind, pid);
	if (!e)
		return;
	e->move.orig_cpu = orig_cpu;
	e->move.dest_cpu = dest_cpu;
	commit(mc);
}

/* @comm: a kernel pointer to a name that may change under us */
static __always_inline void record_comm(struct diag_mt_control *c, __s32 pid,
					__u32 kind, const char *comm)
{
	struct diag_mt_event *e;
	struct diag_mt_cpu *mc;

	e = claim(c, &mc, kind, pid);
	if (!e)
		return;
	if (bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm) < 0)
		e->comm[0] = '\0';
	e->comm[sizeof(e->comm) - 1] = '\0';
	commit(mc);
}

/*
 * Whether the moves the kernel made without calling us count as lost
 * now: from when every task's count is current after start_ts until the
 * CLI's last check after the stop (so, once stopped, for the moves made
 * before the stop); not while starting.
 */
static __always_inline bool counting_unseen(struct diag_mt_control *c)
{
	return *(volatile __u64 *)&c->count_gaps;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(mt_migrate_task, struct task_struct *p, int dest_cpu)
{
	struct diag_mt_control *c = control();
	__u32 orig_cpu;
	__u64 caller, gap;

	if (!c)
		return 0;
	orig_cpu = task_cpu(p);
	if (orig_cpu == (__u32)dest_cpu)
		return 0;
	/* the expected counts stay current in every state (move_gap.bpf.h) */
	gap = unseen_moves(p, true);
	if (gap && counting_unseen(c))
		count_unseen(gap);
	if (in_state(c, DIAG_MTB_RUNNING))
		record_move(c, p->pid, classify(ctx, p, &caller), orig_cpu,
			    dest_cpu);
	return 0;
}

/* A task's last moves that no program saw are lost too. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(mt_process_exit, struct task_struct *p)
{
	struct diag_mt_control *c = control();
	__u64 gap;

	if (!c)
		return 0;
	gap = unseen_moves_at_exit(p);
	if (gap && counting_unseen(c))
		count_unseen(gap);
	return 0;
}

/* A thread that exec'd took its leader's pid: its entry follows it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(mt_process_exec, struct task_struct *p, pid_t old_pid)
{
	moves_after_exec(p, old_pid);
	return 0;
}

/* Runs in the parent, on the CPU the child was created on. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(mt_wakeup_new, struct task_struct *p)
{
	struct diag_mt_control *c = control();
	__u32 parent_cpu = bpf_get_smp_processor_id(), cpu;

	if (!c)
		return 0;
	/* threads that no sched_process_fork announces (io_uring's) too */
	if (in_state(c, DIAG_MTB_STARTING) || in_state(c, DIAG_MTB_RUNNING))
		expect_moves(p);
	if (!in_state(c, DIAG_MTB_RUNNING))
		return 0;
	cpu = task_cpu(p);
	if (cpu != parent_cpu)
		record_move(c, p->pid, DIAG_MT_FORK_PLACEMENT, parent_cpu, cpu);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(mt_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	struct diag_mt_control *c = control();

	if (!c)
		return 0;
	if (in_state(c, DIAG_MTB_STARTING) || in_state(c, DIAG_MTB_RUNNING))
		expect_moves(child);	/* its first move is checked too */
	if (in_state(c, DIAG_MTB_RUNNING))
		record_comm(c, child->pid, DIAG_MT_COPY_PROCESS, child->comm);
	return 0;
}

/* Fires before the new name is copied in: @comm is the new name. */
SEC("tp_btf/task_rename")
int BPF_PROG(mt_task_rename, struct task_struct *task, const char *comm)
{
	struct diag_mt_control *c = control();

	if (!c || !in_state(c, DIAG_MTB_RUNNING))
		return 0;
	record_comm(c, task->pid, DIAG_MT_SET_TASK_COMM, comm);
	return 0;
}

/*
 * Run by the CLI over every task (a task iterator): once recording, before
 * the unseen moves count, every task's moves from then on are expected
 * (move_gap.bpf.h); once stopped, before the programs go, the moves no
 * program saw and nothing counted since (a task whose last moves were
 * skipped and that neither moved nor exited again) are counted lost.
 */
SEC("iter/task")
int mt_tasks(struct bpf_iter__task *ctx)
{
	struct diag_mt_control *c = control();
	struct task_struct *p = ctx->task;
	__u64 gap;

	if (!p || !c)
		return 0;
	if (in_state(c, DIAG_MTB_RUNNING) && !counting_unseen(c)) {
		expect_moves_from_now(p);
	} else if (counting_unseen(c) && !in_state(c, DIAG_MTB_RUNNING)) {
		gap = unseen_moves_now(p);
		if (gap)
			count_unseen(gap);
	}
	return 0;
}

/*
 * Run by the CLI (BPF_PROG_TEST_RUN, attached to nothing): args[0] is a
 * DIAG_MTB_OP_*.  A start event on the CPU it runs on while the trace
 * starts; a task_list event or a mark by the calling task while it runs.
 * Returns a DIAG_MTB_RET_*, which the CLI turns into the module's errnos.
 */
SEC("raw_tp")
int mt_control_op(struct bpf_raw_tracepoint_args *ctx)
{
	struct diag_mt_control *c = control();
	__u64 op = ctx->args[0], a = ctx->args[1], b = ctx->args[2];
	struct diag_mt_event *e;
	struct diag_mt_cpu *mc;

	if (!c)
		return DIAG_MTB_RET_NOT_RUNNING;
	if (op == DIAG_MTB_OP_START) {
		if (!in_state(c, DIAG_MTB_STARTING))
			return DIAG_MTB_RET_NOT_RUNNING;
		e = claim(c, &mc, DIAG_MTB_KIND_START, -1);
		if (!e)
			return DIAG_MTB_RET_FULL;
		e->start.sec = a;
		e->start.usec = b;
		e->start.reserved = 0;
		commit(mc);
		return DIAG_MTB_RET_OK;
	}
	if (op == DIAG_MTB_OP_TASK) {
		if (!in_state(c, DIAG_MTB_RUNNING))
			return DIAG_MTB_RET_NOT_RUNNING;
		e = claim(c, &mc, DIAG_MT_TASK_LIST, a);
		if (!e)
			return DIAG_MTB_RET_FULL;
		/* the name's 16 bytes, NUL-padded by the CLI */
		*(__u64 *)&e->comm[0] = b;
		*(__u64 *)&e->comm[8] = ctx->args[3];
		e->comm[sizeof(e->comm) - 1] = '\0';
		commit(mc);
		return DIAG_MTB_RET_OK;
	}
	if (op == DIAG_MTB_OP_MARK) {
		if (!in_state(c, DIAG_MTB_RUNNING))
			return DIAG_MTB_RET_NOT_RUNNING;
		e = claim(c, &mc, DIAG_MT_MARK,
			  (__u32)bpf_get_current_pid_tgid());
		if (!e)
			return DIAG_MTB_RET_FULL;
		e->mark = a;
		commit(mc);
		return DIAG_MTB_RET_OK;
	}
	return DIAG_MTB_RET_BAD_OP;
}
