// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task state table.  See task_table.h for the rules.
 */
#include <linux/kernel.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/atomic.h>
#include "task_table.h"
#include "mem.h"

/*
 * States of a key that is not a task_struct's address (those are
 * aligned, and never this low).
 */
#define KEY_FREE	0UL	/* never used: ends a probe sequence */
#define KEY_GONE	1UL	/* freed: probing continues past it */
#define KEY_MAKING	2UL	/* being made by an insert */
#define KEY_RETIRED	3UL	/* taken from its task, not yet reusable */
#define KEY_TASK	4UL	/* the first address that is a task's */

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

static inline u32 hash_of(struct diag_task_table *t,
			  const struct task_struct *p)
{
	return hash_ptr(p, t->bits);
}

/* see task_table.h: only de_thread() moves a task's start_time, back */
static inline bool same_task(const struct diag_task_slot *s,
			     const struct task_struct *p)
{
	return READ_ONCE(s->start_time) >= p->start_time;
}

void *diag_task_table_find(struct diag_task_table *t, struct task_struct *p)
{
	unsigned long key = (unsigned long)p;
	u32 h = hash_of(t, p), i;

	for (i = 0; i < DIAG_TASK_TABLE_PROBES; i++) {
		struct diag_task_slot *s = slot_at(t, h + i);
		/* pairs with the release in insert: the slot is initialised */
		unsigned long k = smp_load_acquire(&s->key);

		if (k == KEY_FREE)
			break;
		if (k != key)
			continue;
		if (!same_task(s, p)) {
			/*
			 * Left by a task that is gone: its task_struct is
			 * @p's now.  Nothing else writes it: its task is dead,
			 * and no reader can hold that task any more.
			 */
			diag_task_table_remove(t, s);
			continue;
		}
		/* the pid an exec (de_thread) gave it, for readers */
		if (unlikely(s->pid != p->pid))
			WRITE_ONCE(s->pid, p->pid);
		return s;
	}
	return NULL;
}

void *diag_task_table_insert(struct diag_task_table *t, struct task_struct *p)
{
	u32 h = hash_of(t, p), i;

	if (atomic_inc_return(&t->used) > t->max)
		goto full;
	for (i = 0; i < DIAG_TASK_TABLE_PROBES; i++) {
		struct diag_task_slot *s = slot_at(t, h + i);
		unsigned long k = READ_ONCE(s->key);

		if (k != KEY_FREE && k != KEY_GONE)
			continue;
		/*
		 * Claim with a placeholder so that no other task takes the
		 * slot, clear the state, then publish the key: find() and
		 * readers must never see a half-made slot.
		 */
		if (cmpxchg(&s->key, k, KEY_MAKING) != k)
			continue;
		memset((void *)(s + 1), 0, t->slot_size - sizeof(*s));
		WRITE_ONCE(s->start_time, p->start_time);
		WRITE_ONCE(s->pid, p->pid);
		smp_store_release(&s->key, (unsigned long)p);
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
	unsigned long k = smp_load_acquire(&s->key);

	return k >= KEY_TASK ? s : NULL;
}

bool diag_task_table_owned_by(const void *slot, const struct task_struct *p)
{
	const struct diag_task_slot *s = slot;

	/* pairs with the release in insert: start_time is @p's */
	return smp_load_acquire(&s->key) == (unsigned long)p &&
	       same_task(s, p);
}

struct task_struct *diag_task_table_get_task(const void *slot)
{
	const struct diag_task_slot *s = slot;
	struct task_struct *p;

	/*
	 * The key cannot be followed: the task_struct may have been freed.
	 * The pid can, under RCU, to a task that is still there; it is the
	 * slot's task only if its address and start time are the slot's.
	 * Slots hold global pids (the probes see task->pid).
	 */
	rcu_read_lock();
	p = pid_task(find_pid_ns(READ_ONCE(s->pid), &init_pid_ns),
		     PIDTYPE_PID);
	if (p && diag_task_table_owned_by(s, p))
		get_task_struct(p);
	else
		p = NULL;
	rcu_read_unlock();
	return p;
}

void diag_task_table_retire(struct diag_task_table *t, void *slot)
{
	struct diag_task_slot *s = slot;

	smp_store_release(&s->key, KEY_RETIRED);
}

void diag_task_table_flush_retired(struct diag_task_table *t)
{
	u32 i;

	/*
	 * Probes run with preemption off: once a grace period has passed,
	 * none that found a retired slot before it was retired is still
	 * running, and none can find it since.
	 */
	synchronize_rcu();
	for (i = 0; i < t->nr; i++) {
		struct diag_task_slot *s = slot_at(t, i);

		if (READ_ONCE(s->key) == KEY_RETIRED) {
			smp_store_release(&s->key, KEY_GONE);
			atomic_dec(&t->used);
		}
		if (!(i & 1023))
			cond_resched();
	}
}
