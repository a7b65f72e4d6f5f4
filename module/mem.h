/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One memory budget for every buffer the module allocates on a user's
 * request (function rings, the migration trace and stat, per-task tables):
 * together they may take at most a share of RAM (the mem_limit_mib
 * parameter, default 1/8 of RAM).  A request is charged before anything is
 * allocated, so an oversized one is refused at once with -ENOMEM instead of
 * pushing the machine into reclaim or the OOM killer; the allocations
 * themselves give up early (__GFP_NORETRY) and are charged to the caller's
 * memory cgroup (__GFP_ACCOUNT).
 */
#ifndef DIAG_MEM_H
#define DIAG_MEM_H

#include <linux/types.h>

void diag_mem_init(void);

/*
 * Reserve @bytes of the budget: 0, or -ENOMEM when it would pass the
 * limit.  Undo with diag_mem_uncharge().
 */
int diag_mem_charge(u64 bytes);
void diag_mem_uncharge(u64 bytes);

/* The limit and what is charged now, in bytes, for messages. */
u64 diag_mem_limit(void);
u64 diag_mem_used(void);

/*
 * Zeroed memory on @node (NUMA_NO_NODE for any), physically contiguous
 * when that is cheap, else virtually; free with diag_mem_free().  Process
 * context.  Does not charge the budget: the caller charged the total.
 */
void *diag_mem_alloc_node(size_t size, int node);
void diag_mem_free(void *p);

#endif /* DIAG_MEM_H */
