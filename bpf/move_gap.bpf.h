/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Moves the kernel made that no program of ours saw, from the kernel's own
 * count of each task's migrations (se.nr_migrations): shared by the
 * programs that record migrations (migrate_image.bpf.c,
 * migration_trace.bpf.c), which count what these return as lost.
 *
 * The count is kept as it will be after the last move a program saw.
 * set_task_cpu() counts a move only after the tracepoint, so a move's count
 * on entry that is beyond the expected one means moves the program was not
 * called for: the kernel does skip a BPF program now and then (seen on
 * 6.18, in hard interrupts, with no recursion miss counted), and those
 * moves are counted lost rather than missing silently; so are the unseen
 * moves of a task that exits (sched_process_exit).  A preallocated hash
 * keyed by pid, checked against the task's start time (pid reuse): its
 * lookups take no lock and allocate nothing, and when it is full a task
 * simply goes unchecked.  A task's moves before a program first saw it
 * are not checked, unless its entry was made before (expect_moves(): the
 * migration trace makes one for every task when it starts and at every
 * fork, so a task whose only move is skipped is counted too).  A thread
 * that execs takes its leader's pid (de_thread()); forget_old_pid(), from
 * sched_process_exec, removes the entry of its old pid, which no exit
 * would remove.
 *
 * A move the kernel skipped that its task never follows with another
 * seen move or an exit is found by unseen_moves_now() when the recording
 * stops; for that, the entries must be kept current (unseen_moves() with
 * @watched false) by every move between the stop and that check.
 */
#ifndef DIAG_MOVE_GAP_BPF_H
#define DIAG_MOVE_GAP_BPF_H

#include "diag.bpf.h"

struct expected_moves {
	__u64 start_time;
	__u64 next_nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __s32);
	__type(value, struct expected_moves);
} expected SEC(".maps");

/*
 * The moves of @p before this one (call from sched_migrate_task, for a
 * real move) that no program saw.  A task that is not @watched is not
 * checked, but its entry, if any, is kept current (a comm= filter can let
 * a task go and take it back).
 */
static __always_inline __u64 unseen_moves(struct task_struct *p, bool watched)
{
	__u64 nr = BPF_CORE_READ(p, se.nr_migrations);
	__u64 start = BPF_CORE_READ(p, start_time);
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e, fresh;
	__u64 gap = 0;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (e && e->start_time == start) {
		if (watched && nr > e->next_nr)
			gap = nr - e->next_nr;
		e->next_nr = nr + 1;
		return gap;
	}
	if (!watched)
		return 0;
	fresh.start_time = start;
	fresh.next_nr = nr + 1;
	bpf_map_update_elem(&expected, &pid, &fresh, BPF_ANY);
	return 0;
}

/*
 * From now on, every move of @p is expected to be seen: an entry at its
 * current count, unless it has one.
 */
static __always_inline void expect_moves(struct task_struct *p)
{
	struct expected_moves fresh = {
		.start_time = BPF_CORE_READ(p, start_time),
		.next_nr = BPF_CORE_READ(p, se.nr_migrations),
	};
	__s32 pid = BPF_CORE_READ(p, pid);

	bpf_map_update_elem(&expected, &pid, &fresh, BPF_NOEXIST);
}

/*
 * The moves of @p that no program saw, now (not from sched_migrate_task):
 * a move in flight has its entry ahead of the count, and no gap.
 */
static __always_inline __u64 unseen_moves_now(struct task_struct *p)
{
	__u64 nr = BPF_CORE_READ(p, se.nr_migrations);
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e;
	__u64 gap;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (!e || e->start_time != BPF_CORE_READ(p, start_time) ||
	    nr <= e->next_nr)
		return 0;
	gap = nr - e->next_nr;
	e->next_nr = nr;
	return gap;
}

/* At sched_process_exit: @p's last unseen moves; its entry goes. */
static __always_inline __u64 unseen_moves_at_exit(struct task_struct *p)
{
	__s32 pid = BPF_CORE_READ(p, pid);
	struct expected_moves *e;
	__u64 nr, gap = 0;

	e = bpf_map_lookup_elem(&expected, &pid);
	if (!e)
		return 0;
	nr = BPF_CORE_READ(p, se.nr_migrations);
	if (e->start_time == BPF_CORE_READ(p, start_time) && nr > e->next_nr)
		gap = nr - e->next_nr;
	bpf_map_delete_elem(&expected, &pid);
	return gap;
}

/* At sched_process_exec: @p ran as @old_pid before a thread exec. */
static __always_inline void forget_old_pid(struct task_struct *p,
					   __s32 old_pid)
{
	if (old_pid != BPF_CORE_READ(p, pid))
		bpf_map_delete_elem(&expected, &old_pid);
}

#endif /* DIAG_MOVE_GAP_BPF_H */
