/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-task state for probes that must remember something about a task
 * from one of its events to the next.  A module cannot add a field to
 * task_struct, so this is a fixed table, allocated at activate, keyed by
 * the task: open addressing with linear probing over a bounded window, so
 * that a lookup costs at most DIAG_TASK_TABLE_PROBES compares however full
 * the table is.  Probes never allocate: when no slot is free in the window
 * the task is not tracked and the caller says so.
 *
 * Identity.  A slot is made for one task and remembers its task_struct
 * address and start_time; a lookup matches both, so a slot never passes
 * to another task:
 *   - not a pid: pids are reused as soon as a task is reaped, and a thread
 *     that execs takes over its group leader's pid (de_thread());
 *   - not the address alone: a task_struct is freed after its task is
 *     reaped and the next fork may get the same memory.  start_time tells
 *     the two apart: a task reusing the memory was forked after the old
 *     one was freed, so its start_time is later.  The one change of a
 *     live task's start_time is de_thread(), which gives the exec'ing
 *     thread its leader's, always earlier: so a slot is @p's when its
 *     start_time is not earlier than @p's.
 * A slot found with the address of @p and an earlier start_time belonged
 * to a task that is gone (its memory is @p's now): the lookup frees it.
 * The slot also keeps the task's pid, for a reader in process context
 * that must find the task to look at it (diag_task_table_get_task()).
 *
 * Concurrency: every operation on a slot comes from its task's own
 * context (its syscalls, its switches on and off a CPU, its interrupts,
 * its exit), which the kernel serialises: a task runs on one CPU at a
 * time, and moving it implies full barriers.  Callers hold preemption off
 * (every probe does), and one that can be interrupted by another probe of
 * the same task (process context) holds interrupts off.  Different tasks
 * only race for free slots, which cmpxchg settles.  A reader in process
 * context (a report) may look at any slot, knowing that its owner may
 * change or free it at any time, and may take a slot from a live owner
 * only by diag_task_table_retire(), when it has made sure by the caller's
 * own protocol that the owner will not use it any more (see
 * resource_image.c).
 */
#ifndef DIAG_TASK_TABLE_H
#define DIAG_TASK_TABLE_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/sched.h>

#define DIAG_TASK_TABLE_PROBES	32

/* Every slot starts with this; the caller's state follows it. */
struct diag_task_slot {
	unsigned long key;	/* the task_struct's address, or a state */
	u64 start_time;		/* the task's start_time when the slot was made */
	pid_t pid;		/* its pid, as last seen by its own probes */
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

/* Whether any task holds a slot: a cheap test before a lookup. */
static inline bool diag_task_table_in_use(struct diag_task_table *t)
{
	return atomic_read(&t->used) != 0;
}

/*
 * The slot of @p, or NULL; from @p's own context.  Frees a slot left by a
 * task whose task_struct @p reuses, and notes a new pid of @p's.
 */
void *diag_task_table_find(struct diag_task_table *t, struct task_struct *p);

/*
 * A zeroed slot for @p, which the caller has just failed to find; NULL
 * when @entries tasks are held already or the window is full.
 */
void *diag_task_table_insert(struct diag_task_table *t, struct task_struct *p);

/* Forget a slot returned by find or insert; from its task's context. */
void diag_task_table_remove(struct diag_task_table *t, void *slot);

/*
 * Slot @i (0 <= @i < t->nr) when it holds a task, else NULL: for a reader
 * in process context that visits every task.
 */
void *diag_task_table_slot(struct diag_task_table *t, u32 i);

/*
 * The task of a slot from diag_task_table_slot(), with a reference (put
 * it with put_task_struct()), or NULL when its pid does not lead to that
 * task any more: it is gone (and its last switch is freeing or has freed
 * the slot), or it has just taken another pid in an exec (its next
 * probe notes it).  Process context.  While the reference is held the
 * task's memory cannot be reused, so the slot keyed by it stays its own
 * until the task itself frees it.
 */
struct task_struct *diag_task_table_get_task(const void *slot);

/* Whether @slot (any state) is the slot of @p now. */
bool diag_task_table_owned_by(const void *slot, const struct task_struct *p);

/*
 * Take slot @slot away from its live task @p, from process context: the
 * caller holds a reference to @p and has made sure that @p will not use
 * the slot any more (a probe of @p that finds it before this must see
 * that, by the caller's own protocol).  Lookups stop finding it at once;
 * it is not reused until diag_task_table_flush_retired(), which waits
 * until no probe that found it can be running.
 */
void diag_task_table_retire(struct diag_task_table *t, void *slot);

/* Make the retired slots free again.  Process context; sleeps. */
void diag_task_table_flush_retired(struct diag_task_table *t);

#endif /* DIAG_TASK_TABLE_H */
