/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots of the executable mappings of the address spaces whose user
 * stacks a function recorded, so that the CLI can symbolize them even when
 * the process has exited by the time of the report.
 *
 * A probe calls diag_maps_request() for the address space of each user
 * stack it records.  The first request for an address space since the
 * previous report pins the mm (mmget: an atomic increment, safe anywhere)
 * and queues it; a worker soon after walks its VMAs in process context,
 * keeps the executable ones (a reference on each file) and lets go of the
 * mm, so the memory of an exited process is not held for long.  Before each
 * report (the function's ->sync), diag_maps_emit() writes the snapshots
 * into the function's ring as DIAG_REC_TASK_MAPS records, with paths
 * resolved in the reporting process, which then opens them.  Every report
 * therefore carries the mappings of every address space its stacks use.
 */
#ifndef DIAG_TASK_MAPS_H
#define DIAG_TASK_MAPS_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/irq_work.h>
#include <linux/workqueue.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include "ring.h"

/*
 * An id for an address space that is never reused: x86 gives every mm a
 * unique ctx_id.  Elsewhere the mm's address (reuse after exec possible).
 */
static inline u64 diag_mm_key(struct mm_struct *mm)
{
#ifdef CONFIG_X86
	return mm->context.ctx_id;
#else
	return (unsigned long)mm;
#endif
}

struct diag_maps_entry;

struct diag_maps {
	struct diag_ring *ring;		/* where the records go */
	struct diag_maps_entry *table;	/* open addressing, keyed by mm_key */
	u32 mask;
	atomic_t gen;			/* bumped by every emit */
	atomic64_t dropped;		/* address spaces not tracked: table full */
	struct llist_head pending;	/* entries with a pinned mm to snapshot */
	struct irq_work irq_work;	/* probe -> worker, without locks */
	struct work_struct work;
	struct mutex lock;		/* snapshots, path_buf */
	struct list_head snapshots;	/* taken, not yet emitted */
	u32 seq;			/* of the next snapshot */
	char *path_buf;
};

/* Process context, before any probe can run.  @slots: a power of two. */
int diag_maps_init(struct diag_maps *m, struct diag_ring *ring, u32 slots);

/* Probe context: current's @mm (not a borrowed one) had a stack recorded. */
void diag_maps_request(struct diag_maps *m, struct mm_struct *mm, pid_t tgid);

/*
 * Process context (->sync): snapshot what is pending and write every
 * snapshot into the ring.  Snapshots that find no room are kept for the
 * next call (not counted as lost); returns true when some are left.
 */
bool diag_maps_emit(struct diag_maps *m);

/* Address spaces that could not be tracked since init. */
static inline u64 diag_maps_dropped(struct diag_maps *m)
{
	return atomic64_read(&m->dropped);
}

/* After the probes are detached: wait for the worker, free everything. */
void diag_maps_destroy(struct diag_maps *m);

#endif /* DIAG_TASK_MAPS_H */
