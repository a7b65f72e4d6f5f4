/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-task state for probes that must remember something about a task
 * from one of its events to the next.  A module cannot add a field to
 * task_struct, so this is a fixed table, allocated at activate, keyed by
 * pid: open addressing with linear probing over a bounded window, so that
 * a lookup costs at most DIAG_TASK_TABLE_PROBES compares however full the
 * table is.  Probes never allocate: when no slot is free in the window the
 * task is not tracked and the caller says so.
 *
 * Concurrency: every operation on one pid must come from that task's own
 * path (its syscalls, its switches on and off a CPU, its exit), which the
 * kernel serialises: a task runs on one CPU at a time, and moving it
 * implies full barriers.  So a key has one writer at a time; different
 * keys only race for free slots, which cmpxchg settles.  Callers must
 * hold preemption off (every probe does).
 */
#ifndef DIAG_TASK_TABLE_H
#define DIAG_TASK_TABLE_H

#include <linux/types.h>
#include <linux/atomic.h>

#define DIAG_TASK_TABLE_PROBES	32

/* Every slot starts with this; the caller's state follows it. */
struct diag_task_slot {
	u32 key;		/* pid + 1; 0 = never used, ~0 = freed */
	u32 reserved;
};

struct diag_task_table {
	void *slots;
	u32 nr;			/* power of two */
	u32 slot_size;		/* bytes, header included, multiple of 8 */
	u32 bits;
	u32 max;		/* tasks held at once */
	size_t bytes;		/* charged to the memory budget (mem.h) */
	atomic_t used;
};

/*
 * Room for @entries tasks of @slot_size bytes each (header
 * included); the table is twice that so that probing stays short.
 * Process context.  The slots are zeroed.  -E2BIG when the module's memory
 * budget (mem.h) has no room, -ENOMEM when the allocation fails.
 */
int diag_task_table_alloc(struct diag_task_table *t, u32 entries,
			  u32 slot_size);
void diag_task_table_free(struct diag_task_table *t);

/* The slot of @pid, or NULL. */
void *diag_task_table_find(struct diag_task_table *t, pid_t pid);

/*
 * A zeroed slot for @pid, which the caller has just failed to find; NULL
 * when @entries tasks are held already or the window is full.
 */
void *diag_task_table_insert(struct diag_task_table *t, pid_t pid);

/* Forget a slot returned by find or insert. */
void diag_task_table_remove(struct diag_task_table *t, void *slot);

/*
 * Slot @i (0 <= @i < t->nr) when it holds a task, else NULL: for a reader
 * in process context that visits every task.  Its owner may change or
 * remove it at any time, so the reader must be able to tell (see
 * resource_image.c).
 */
void *diag_task_table_slot(struct diag_task_table *t, u32 i);

/* The pid a slot was made for. */
static inline pid_t diag_task_table_pid(const void *slot)
{
	return (pid_t)(READ_ONCE(((const struct diag_task_slot *)slot)->key) - 1);
}

#endif /* DIAG_TASK_TABLE_H */
