/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Moves the kernel made that no program of ours saw, from the kernel's own
 * count of each task's migrations (se.nr_migrations): shared by the
 * programs that record migrations (migrate_image.bpf.c,
 * migration_trace.bpf.c, migration_stat.bpf.c), which count what these
 * return as lost.
 *
 * Why: the kernel does skip a BPF program now and then (seen on 6.18, in
 * interrupts, with no recursion miss counted), and such a move would
 * otherwise be missing silently.
 *
 * The table: a preallocated hash keyed by pid (its lookups take no lock
 * and allocate nothing; the CLI sizes it from the number of tasks before
 * load, and when it is full a task simply goes unchecked), each entry the
 * count its task will have after the next move a program sees, checked
 * against the task's start time (pid reuse).  set_task_cpu() counts a move
 * only after the tracepoint, so a count on entry beyond the expected one
 * means moves no program was called for.
 *
 * Who writes an entry:
 *  - expect_moves(): a task's moves are expected from now on (the task
 *    iterator when a recording starts, with expect_moves_from_now(); each
 *    new task at fork or at sched_wakeup_new), so that even a task's first
 *    move is checked;
 *  - unseen_moves(), at sched_migrate_task;
 *  - unseen_moves_now(), the task iterator again when the CLI wants the
 *    count (a report, a stop): the moves skipped since the task's last
 *    seen one, which no later move or exit has revealed yet;
 *  - unseen_moves_at_exit(), which removes the entry;
 *  - moves_after_exec(): a thread that execs takes its leader's pid and
 *    start time (de_thread()); its entry follows it.
 *
 * Invariant: each unseen move is counted once.  One task's tracepoint and
 * its exit never run at once (a move needs the task off its CPU, or being
 * woken; the exit runs in the task), but the iterator runs beside both: the
 * tracepoint and the exit take the old count with an atomic exchange, the
 * iterator replaces it only by a compare-and-exchange, and whoever moved
 * the count forward counts the gap.
 */
#ifndef DIAG_MOVE_GAP_BPF_H
#define DIAG_MOVE_GAP_BPF_H

#include "diag.bpf.h"

#define DIAG_PF_EXITING 0x00000004	/* include/linux/sched.h */

struct expected_moves {
	__u64 start_time;
	__u64 next_nr;
};

/* the CLI sets max_entries before load (size_move_table()) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __s32);
	__type(value, struct expected_moves);
} expected SEC(".maps");

/*
 * The moves of @p before this one (call from sched_migrate_task, for a
 * real move) that no program saw, or 0 when it has no entry: then one is
 * made when @track (migrate-image: a watched task; the trace and the stat:
 * every task, so that a move in flight while the iterator seeds the table
 * is not taken for a skipped one).  An existing entry is always kept current
 * (a comm= filter can let a task go and take it back); whether its gap
 * counts is the caller's business.
 */
static __always_inline __u64 unseen_moves(struct task_struct *p, bool track)
{
	__u64 nr = BPF_CORE_READ(p, se.nr_migrations);
	__u64 start = BPF_CORE_READ(p, start_time);
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e, fresh;
	__u64 prev;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (e && e->start_time == start) {
		prev = __sync_lock_test_and_set(&e->next_nr, nr + 1);
		return nr > prev ? nr - prev : 0;
	}
	/* past its exit tracepoint, which removed its entry for good */
	if (!track || (BPF_CORE_READ(p, flags) & DIAG_PF_EXITING))
		return 0;
	fresh.start_time = start;
	fresh.next_nr = nr + 1;
	bpf_map_update_elem(&expected, &pid, &fresh, BPF_ANY);
	return 0;
}

/*
 * From now on, every move of @p is expected to be seen: an entry at its
 * current count, unless it has one.  Not for a task that is exiting (nor
 * in unseen_moves()): its exit may already have run, and nothing would
 * remove the entry.
 */
static __always_inline void expect_moves(struct task_struct *p)
{
	struct expected_moves fresh = {
		.start_time = BPF_CORE_READ(p, start_time),
		.next_nr = BPF_CORE_READ(p, se.nr_migrations),
	};
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e;

	if (BPF_CORE_READ(p, exit_state) || (BPF_CORE_READ(p, flags) & DIAG_PF_EXITING))
		return;
	e = bpf_map_lookup_elem(&expected, &pid);
	if (e && e->start_time == fresh.start_time)
		return;
	/* none, or a dead task's under a reused pid */
	bpf_map_update_elem(&expected, &pid, &fresh, e ? BPF_ANY : BPF_NOEXIST);
}

/*
 * The moves of @p that no program saw, now (not from sched_migrate_task):
 * a move in flight has its entry ahead of the count, and no gap; a task
 * past its exit tracepoint has none.  (One race is left: the entry freed
 * by an exit between the lookup and the compare-and-exchange and given to
 * another task whose count happens to equal the one read.)
 */
static __always_inline __u64 unseen_moves_now(struct task_struct *p)
{
	__u64 nr = BPF_CORE_READ(p, se.nr_migrations);
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e;
	__u64 prev;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (!e || e->start_time != BPF_CORE_READ(p, start_time))
		return 0;
	prev = e->next_nr;
	if (nr <= prev)
		return 0;
	/* lost to a tracepoint or the exit that just took the gap */
	if (__sync_val_compare_and_swap(&e->next_nr, prev, nr) != prev)
		return 0;
	return nr - prev;
}

/*
 * As expect_moves(), for a recording that starts now: an entry made
 * earlier (by a move seen while the programs were loading) is brought to
 * the current count, its gap not counted: a move skipped before the start
 * is no loss of this recording.
 */
static __always_inline void expect_moves_from_now(struct task_struct *p)
{
	expect_moves(p);
	unseen_moves_now(p);
}

/* At sched_process_exit: @p's last unseen moves; its entry goes. */
static __always_inline __u64 unseen_moves_at_exit(struct task_struct *p)
{
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e;
	__u64 nr, prev, gap = 0;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (!e)
		return 0;
	if (e->start_time == BPF_CORE_READ(p, start_time)) {
		nr = BPF_CORE_READ(p, se.nr_migrations);
		/* no count is ever this high: the iterator finds no gap */
		prev = __sync_lock_test_and_set(&e->next_nr, ~0ULL);
		if (nr > prev)
			gap = nr - prev;
	}
	bpf_map_delete_elem(&expected, &pid);
	return gap;
}

/*
 * At sched_process_exec: @p ran as @old_pid before a thread exec, and now
 * has its leader's pid and start time; the leader has exited (its entry
 * went then, unless it was made while it was a zombie).  @p's entry, if
 * it had one, moves to the new pid (unless a move since de_thread() made
 * one there); a leftover under the new pid goes.
 */
static __always_inline void moves_after_exec(struct task_struct *p,
					     __s32 old_pid)
{
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e, moved;

	if (old_pid == pid)
		return;
	moved.start_time = BPF_CORE_READ(p, start_time);
	/* a move between de_thread() and here made it already */
	e = bpf_map_lookup_elem(&expected, &pid);
	if (e && e->start_time == moved.start_time) {
		bpf_map_delete_elem(&expected, &old_pid);
		return;
	}
	e = bpf_map_lookup_elem(&expected, &old_pid);
	if (!e) {
		bpf_map_delete_elem(&expected, &pid);
		return;
	}
	moved.next_nr = e->next_nr;
	bpf_map_delete_elem(&expected, &old_pid);
	bpf_map_update_elem(&expected, &pid, &moved, BPF_ANY);
}

#endif /* DIAG_MOVE_GAP_BPF_H */
