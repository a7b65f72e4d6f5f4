// SPDX-License-Identifier: GPL-2.0
/*
 * The migration stat on BPF: what module/migration_stat.c counts, for
 * `diagnose-tools migration-trace stat` (docs/migration-trace.md), on
 * kernels that cannot load the module.  Migrations per cause and fork
 * placements, per period since the start; cheap enough to leave running
 * for days: no ring, no record, one counter incremented per event.
 *
 *  - a migration: sched_migrate_task with a source CPU other than the
 *    destination, its cause from the classifier migrate-image and the
 *    trace use (migrate_cause.bpf.h);
 *  - a fork placement: sched_wakeup_new in the parent, the child on
 *    another CPU (as migration_trace.bpf.c);
 *  - moves the kernel made without calling the program (move_gap.bpf.h,
 *    every task expected from the start by the iterator ms_tasks and at
 *    sched_wakeup_new, checked again at each print and at the stop) are
 *    counted in ms_control.lost: the stat cannot tell their cause or
 *    their period, but they are not missing silently.
 *
 * Storage, the module's: each CPU counts into its own part of one
 * mmapable array, periods * DIAG_MS_NR_FIELDS counters, written only by
 * programs running on that CPU (atomically all the same: PREEMPT_RT can
 * interleave programs on one CPU).  Counting stops, on every CPU, when a
 * program's time runs past the last period (state FULL); the CLI notices
 * the same when it looks and no program did.
 */
#include "diag.bpf.h"
#include "migrate_cause.bpf.h"
#include "move_gap.bpf.h"
#include "bpf/migration_stat_abi.h"

/* set by the CLI before load */
const volatile __u64 period_ns = 1000000000;
const volatile __u64 periods = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_ms_control);
} ms_control SEC(".maps");

/* nr_cpus * periods; the CLI sizes it before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_ms_period);
} ms_counts SEC(".maps");

static __always_inline struct diag_ms_control *control(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ms_control, &zero);
}

/* A volatile read: the CLI and other CPUs change it under us. */
static __always_inline __u64 state_of(struct diag_ms_control *c)
{
	return *(volatile __u64 *)&c->state;
}

/* The control word, if the stat is counting. */
static __always_inline struct diag_ms_control *counting(void)
{
	struct diag_ms_control *c = control();

	if (!c || state_of(c) != DIAG_MSB_RUNNING)
		return NULL;
	return c;
}

/*
 * Moves the kernel made without calling us count as lost once the stat
 * has started, and after it stopped (until the CLI drops the programs)
 * for the moves made before; the expected counts stay current in every
 * state (move_gap.bpf.h).
 */
static __always_inline void count_unseen(struct diag_ms_control *c, __u64 gap)
{
	if (gap && state_of(c) != DIAG_MSB_LOADED)
		__sync_fetch_and_add(&c->lost, gap);
}

/* @now: taken first thing, as near the tracepoint as can be */
static __always_inline void count(struct diag_ms_control *c, __u32 field,
				  __u64 now)
{
	__u64 start = c->start_ts, period;
	struct diag_ms_period *row;
	__u32 key;

	/*
	 * The CLI writes start_ts before it sets RUNNING, but the load of the
	 * state in counting() is no acquire: a CPU that reorders loads can
	 * see RUNNING with the map's initial 0 here.
	 */
	if (!start || now < start)
		return;
	period = (now - start) / period_ns;
	if (period >= periods) {
		/* the CLI's stop may have come first: then it stays stopped */
		if (__sync_val_compare_and_swap(&c->state, DIAG_MSB_RUNNING,
						DIAG_MSB_FULL) == DIAG_MSB_RUNNING)
			c->stop_ts = start + periods * period_ns;
		return;
	}
	key = bpf_get_smp_processor_id() * periods + period;
	row = bpf_map_lookup_elem(&ms_counts, &key);
	if (!row) {
		/* a CPU beyond nr_cpus: cannot happen, but not silently */
		__sync_fetch_and_add(&c->lost, 1);
		return;
	}
	/* checked here, where the verifier needs it (clang would hoist it) */
	barrier_var(field);
	if (field < DIAG_MS_NR_FIELDS)
		__sync_fetch_and_add(&row->count[field], 1);
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(ms_migrate_task, struct task_struct *p, int dest_cpu)
{
	__u64 now = bpf_ktime_get_ns(), caller;
	struct diag_ms_control *c = control();

	if (!c || task_cpu(p) == (__u32)dest_cpu)
		return 0;
	count_unseen(c, unseen_moves(p, true));
	if (state_of(c) == DIAG_MSB_RUNNING)
		count(c, classify(ctx, p, &caller), now);
	return 0;
}

/* A task's last moves that no program saw are lost too. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ms_process_exit, struct task_struct *p)
{
	struct diag_ms_control *c = control();

	if (c)
		count_unseen(c, unseen_moves_at_exit(p));
	return 0;
}

/* A thread that exec'd took its leader's pid: its entry follows it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ms_process_exec, struct task_struct *p, pid_t old_pid)
{
	moves_after_exec(p, old_pid);
	return 0;
}

/* Runs in the parent, on the CPU the child was created on. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(ms_wakeup_new, struct task_struct *p)
{
	__u64 now = bpf_ktime_get_ns();
	struct diag_ms_control *c = counting();

	expect_moves(p);	/* its first move is checked too */
	if (c && task_cpu(p) != bpf_get_smp_processor_id())
		count(c, DIAG_MS_FORK_FIELD, now);
	return 0;
}

/*
 * Run by the CLI over every task (a task iterator): before the stat
 * starts, every task's moves are expected from then on (move_gap.bpf.h);
 * afterwards (at each print, and once more when it stops, before its
 * programs go) the moves no program saw and nothing counted yet (a task
 * whose last moves were skipped and that neither moved nor exited since)
 * are counted lost.
 */
SEC("iter/task")
int ms_tasks(struct bpf_iter__task *ctx)
{
	struct diag_ms_control *c = control();
	struct task_struct *p = ctx->task;

	if (!p || !c)
		return 0;
	if (state_of(c) == DIAG_MSB_LOADED)
		expect_moves_from_now(p);
	else
		count_unseen(c, unseen_moves_now(p));
	return 0;
}
