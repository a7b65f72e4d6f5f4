// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task state table.  See task_table.h for the rules.
 */
#include <linux/kernel.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/atomic.h>
#include "task_table.h"
#include "mem.h"

#define KEY_FREE	0U		/* never used: ends a probe sequence */
#define KEY_GONE	(~0U)		/* freed: probing continues past it */

int diag_task_table_alloc(struct diag_task_table *t, u32 entries,
			  u32 slot_size)
{
	u32 nr = roundup_pow_of_two(max_t(u32, 2 * entries,
					  DIAG_TASK_TABLE_PROBES));

	t->slot_size = ALIGN(slot_size, 8);
	t->bytes = array_size(nr, t->slot_size);
	if (diag_mem_charge(t->bytes))
		return -E2BIG;
	t->slots = diag_mem_alloc_node(t->bytes, NUMA_NO_NODE);
	if (!t->slots) {
		diag_mem_uncharge(t->bytes);
		return -ENOMEM;
	}
	t->nr = nr;
	t->bits = ilog2(nr);
	t->max = entries;
	atomic_set(&t->used, 0);
	return 0;
}

void diag_task_table_free(struct diag_task_table *t)
{
	if (!t->slots)
		return;
	diag_mem_free(t->slots);
	diag_mem_uncharge(t->bytes);
	t->slots = NULL;
	t->nr = 0;
}

static inline struct diag_task_slot *slot_at(struct diag_task_table *t,
					     u32 i)
{
	return t->slots + (size_t)(i & (t->nr - 1)) * t->slot_size;
}

void *diag_task_table_find(struct diag_task_table *t, pid_t pid)
{
	u32 key = (u32)pid + 1, h = hash_32(key, t->bits), i;

	for (i = 0; i < DIAG_TASK_TABLE_PROBES; i++) {
		struct diag_task_slot *s = slot_at(t, h + i);
		/* pairs with the release in insert: the slot is initialised */
		u32 k = smp_load_acquire(&s->key);

		if (k == key)
			return s;
		if (k == KEY_FREE)
			break;
	}
	return NULL;
}

void *diag_task_table_insert(struct diag_task_table *t, pid_t pid)
{
	u32 key = (u32)pid + 1, h = hash_32(key, t->bits), i;

	if (atomic_inc_return(&t->used) > t->max)
		goto full;
	for (i = 0; i < DIAG_TASK_TABLE_PROBES; i++) {
		struct diag_task_slot *s = slot_at(t, h + i);
		u32 k = READ_ONCE(s->key);

		if (k != KEY_FREE && k != KEY_GONE)
			continue;
		/*
		 * Claim with a placeholder so that no other task takes the
		 * slot, clear the state, then publish the key: only the owner
		 * reads the state, but find() must never match a half-made
		 * slot of a task that reuses a pid.
		 */
		if (cmpxchg(&s->key, k, KEY_GONE - 1) != k)
			continue;
		memset((void *)(s + 1), 0, t->slot_size - sizeof(*s));
		smp_store_release(&s->key, key);
		return s;
	}
full:
	atomic_dec(&t->used);
	return NULL;
}

void diag_task_table_remove(struct diag_task_table *t, void *slot)
{
	struct diag_task_slot *s = slot;

	smp_store_release(&s->key, KEY_GONE);
	atomic_dec(&t->used);
}

void *diag_task_table_slot(struct diag_task_table *t, u32 i)
{
	struct diag_task_slot *s = slot_at(t, i);
	/* pairs with the release in insert: the slot is initialised */
	u32 k = smp_load_acquire(&s->key);

	return (k == KEY_FREE || k >= KEY_GONE - 1) ? NULL : s;
}
