// SPDX-License-Identifier: GPL-2.0
/*
 * The module's memory budget.  See mem.h.
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/atomic.h>
#include "mem.h"

static unsigned long mem_limit_mib;
module_param(mem_limit_mib, ulong, 0644);
MODULE_PARM_DESC(mem_limit_mib,
		 "most memory all buffers may take together, MiB (default 0: 1/8 of RAM)");

static atomic64_t mem_used = ATOMIC64_INIT(0);

void diag_mem_init(void)
{
	atomic64_set(&mem_used, 0);
}

u64 diag_mem_limit(void)
{
	unsigned long mib = READ_ONCE(mem_limit_mib);

	if (mib)
		return (u64)mib << 20;
	return ((u64)totalram_pages() << PAGE_SHIFT) / 8;
}

u64 diag_mem_used(void)
{
	return atomic64_read(&mem_used);
}

int diag_mem_charge(u64 bytes)
{
	u64 limit = diag_mem_limit();
	s64 used = atomic64_read(&mem_used);

	/* a cmpxchg loop, so that two requests cannot both fit the last room */
	do {
		if (bytes > limit || used > limit - bytes)
			return -ENOMEM;
	} while (!atomic64_try_cmpxchg(&mem_used, &used, used + bytes));
	return 0;
}

void diag_mem_uncharge(u64 bytes)
{
	atomic64_sub(bytes, &mem_used);
}

void *diag_mem_alloc_node(size_t size, int node)
{
	return kvmalloc_node(size, GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT |
			     __GFP_NORETRY | __GFP_NOWARN, node);
}

void diag_mem_free(void *p)
{
	kvfree(p);
}
