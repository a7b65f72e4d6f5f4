/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why a task migrated, on BPF: which scheduler path called set_task_cpu().
 * Shared by every program that classifies a move (migrate_image.bpf.c,
 * migration_trace.bpf.c), as module/migrate_cause.c is by the module's.
 *
 * A TASK_WAKING task is being placed by try_to_wake_up() (no other path
 * can move it); otherwise the cause is that of the first return address
 * of the kernel stack inside a deciding function of
 * DIAG_MIGRATE_CAUSE_SITES, whose ranges the CLI resolves from
 * /proc/kallsyms (resolve_cause_ranges() in bpf_loader.h) and stores in
 * cause_ranges before load.  Call classify() from sched_migrate_task only.
 */
#ifndef DIAG_MIGRATE_CAUSE_BPF_H
#define DIAG_MIGRATE_CAUSE_BPF_H

#include "diag.bpf.h"

/*
 * Writable data, not read-only: the verifier then sees the ranges as
 * unknown values and checks the search once, instead of following every
 * branch the constants would decide (which exceeds its instruction limit).
 * The CLI sets them before load; nothing writes them afterwards.
 */
struct diag_cause_range cause_ranges[DIAG_BPF_MAX_CAUSE_RANGES] SEC(".data.causes");
__u32 nr_cause_ranges SEC(".data.causes");

/* the stack of one migration; per CPU, as it is too big for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[DIAG_CAUSE_WALK_DEPTH]);
} stack_buf SEC(".maps");

/* The range holding @addr: binary search over the sorted ranges. */
static __always_inline int find_range(__u64 addr)
{
	__u32 lo = 0, hi = nr_cause_ranges, i;

	if (hi > DIAG_BPF_MAX_CAUSE_RANGES)
		hi = DIAG_BPF_MAX_CAUSE_RANGES;
	/* 2^6 > DIAG_BPF_MAX_CAUSE_RANGES: six halvings always finish */
	for (i = 0; i < 6 && lo < hi; i++) {
		__u32 mid = ((lo + hi) / 2) & (DIAG_BPF_MAX_CAUSE_RANGES - 1);

		if (addr <= cause_ranges[mid].start)
			hi = mid;
		else if (addr > cause_ranges[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

static __always_inline __u32 refine_stopper_cause(struct task_struct *p)
{
	if (BPF_CORE_READ_BITFIELD_PROBED(p, in_execve))
		return DIAG_CAUSE_SCHED_EXEC;
	if (!task_allows_cpu(p, task_cpu(p)))
		return DIAG_CAUSE_MIGRATE_TASK;
	return DIAG_CAUSE_MIGRATE_TASK_TO;
}

static __always_inline __u32 classify(void *ctx, struct task_struct *p,
				      __u64 *caller)
{
	bool past_set_task_cpu = false;
	__u32 zero = 0;
	__u64 *ips;
	long len;
	int i;

	*caller = 0;
	if (BPF_CORE_READ(p, __state) == DIAG_TASK_WAKING)
		return DIAG_CAUSE_TRY_TO_WAKE_UP;
	ips = bpf_map_lookup_elem(&stack_buf, &zero);
	if (!ips)
		return DIAG_CAUSE_UNKNOWN;
	len = bpf_get_stack(ctx, ips, DIAG_CAUSE_WALK_DEPTH * sizeof(__u64), 0);
	if (len <= 0)
		return DIAG_CAUSE_UNKNOWN;
	for (i = 0; i < DIAG_CAUSE_WALK_DEPTH; i++) {
		__u32 cause;
		int r;

		if (i * sizeof(__u64) >= len)
			break;
		if (past_set_task_cpu && !*caller)
			*caller = ips[i];
		r = find_range(ips[i]);
		if (r < 0)
			continue;
		cause = cause_ranges[r & (DIAG_BPF_MAX_CAUSE_RANGES - 1)].cause;
		if (cause == DIAG_CAUSE_SITE_SET_TASK_CPU) {
			past_set_task_cpu = true;
			continue;
		}
		*caller = ips[i];
		if (cause == DIAG_CAUSE_SITE_STOPPER)
			return refine_stopper_cause(p);
		return cause;
	}
	return DIAG_CAUSE_UNKNOWN;
}

#endif /* DIAG_MIGRATE_CAUSE_BPF_H */
