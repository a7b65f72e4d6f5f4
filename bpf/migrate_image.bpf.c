// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-image on BPF: every CPU migration of the watched tasks with the
 * task's load, memory and I/O, and the cause, as module/migrate_image.c
 * records it.
 *
 * sched_migrate_task fires inside set_task_cpu() before the task's CPU
 * changes, so task_cpu(p) is the source; a move to the same CPU is not a
 * migration (se.nr_migrations does not count it either).  New tasks are
 * placed by wake_up_new_task() without the tracepoint: sched_wakeup_new
 * records that placement when it is not the parent's CPU, flagged so that
 * it never counts as a migration.
 *
 * The cause: a TASK_WAKING task is being placed by try_to_wake_up() (no
 * other path can move it); otherwise the first return address of the
 * kernel stack inside a deciding function of DIAG_MIGRATE_CAUSE_SITES,
 * whose ranges the CLI resolved from /proc/kallsyms (migrate_cause.bpf.h).
 */
#include "diag.bpf.h"
#include "migrate_cause.bpf.h"
#include "move_gap.bpf.h"

static __always_inline __u32 migrate_flags(struct task_struct *p)
{
	__u32 flags = 0;

	if (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD)
		flags |= DIAG_MIGRATE_KTHREAD;
	if (!task_allows_cpu(p, task_cpu(p)))
		flags |= DIAG_MIGRATE_SRC_DISALLOWED;
	return flags;
}

static __always_inline void record_move(struct task_struct *p, __u32 orig_cpu,
					__u32 dest_cpu, __u32 cause,
					__u64 caller, __u32 flags)
{
	struct diag_migrate_record *r;

	r = reserve_record(DIAG_REC_MIGRATE, sizeof(*r));
	if (!r)
		return;
	r->pid = BPF_CORE_READ(p, pid);
	r->tgid = BPF_CORE_READ(p, tgid);
	BPF_CORE_READ_INTO(&r->comm, p, comm);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->prio = BPF_CORE_READ(p, prio);
	r->cause = cause;
	r->orig_cpu = orig_cpu;
	r->dest_cpu = dest_cpu;
	r->flags = flags;
	r->reserved = 0;
	r->load_avg = BPF_CORE_READ(p, se.avg.load_avg);
	r->util_avg = BPF_CORE_READ(p, se.avg.util_avg);
	r->rss_bytes = task_rss_bytes(p);
	r->rchar = BPF_CORE_READ(p, ioac.rchar);
	r->wchar = BPF_CORE_READ(p, ioac.wchar);
	r->read_bytes = BPF_CORE_READ(p, ioac.read_bytes);
	r->write_bytes = BPF_CORE_READ(p, ioac.write_bytes);
	r->caller = caller;
	bpf_ringbuf_submit(r, 0);
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(on_migrate_task, struct task_struct *p, int dest_cpu)
{
	__u32 orig_cpu;
	__u64 caller, gap;
	__u32 cause;

	bool watched = filter_match(p);

	/*
	 * A task that pid= or tgid= rejects never matches (a thread exec,
	 * which changes the pid, is on_process_exec's); only comm= can let
	 * a task go and take it back, so only then do unwatched tasks' moves
	 * go through unseen_moves() (the common case stays at the filter).
	 */
	if (!watched && !filter_has_comm)
		return 0;
	orig_cpu = task_cpu(p);
	if (orig_cpu == (__u32)dest_cpu)
		return 0;
	gap = unseen_moves(p, watched);
	if (!watched)
		return 0;
	if (gap)
		count_lost_n(gap);
	cause = classify(ctx, p, &caller);
	record_move(p, orig_cpu, dest_cpu, cause, caller, migrate_flags(p));
	return 0;
}

/* A task's last unseen moves are lost too; its entry goes with it. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *p)
{
	__u64 gap = unseen_moves_at_exit(p);

	if (gap)
		count_lost_n(gap);
	return 0;
}

/*
 * A thread that exec'd took its leader's pid: its entry follows it, if
 * the filter still matches it (pid= may not, now), or goes.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_process_exec, struct task_struct *p, pid_t old_pid)
{
	__s32 pid = p->pid;

	if (filter_match(p)) {
		moves_after_exec(p, old_pid);
	} else {
		bpf_map_delete_elem(&expected, &old_pid);
		bpf_map_delete_elem(&expected, &pid);
	}
	return 0;
}

/* Runs in the parent, on the CPU the child started from. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	__u32 parent_cpu = bpf_get_smp_processor_id();
	__u32 cpu;

	if (!filter_match(p))
		return 0;
	expect_moves(p);	/* its first move is checked too */
	cpu = task_cpu(p);
	if (cpu == parent_cpu)
		return 0;
	record_move(p, parent_cpu, cpu, DIAG_CAUSE_SCHED_FORK, 0,
		    migrate_flags(p) | DIAG_MIGRATE_FORK_PLACEMENT);
	return 0;
}

/*
 * Run by the CLI over every task (a task iterator) when it activates and
 * before each report: a watched task's moves are expected from then on
 * (move_gap.bpf.h), and the moves the kernel made without calling
 * on_migrate_task that nothing has counted yet (a task whose last moves
 * were skipped and that has neither moved nor exited since) are counted
 * lost in this report rather than at the task's next move or exit.
 */
SEC("iter/task")
int on_report(struct bpf_iter__task *ctx)
{
	struct task_struct *p = ctx->task;
	__u64 gap;

	if (!p || !filter_match(p))
		return 0;
	expect_moves(p);
	gap = unseen_moves_now(p);
	if (gap)
		count_lost_n(gap);
	return 0;
}
