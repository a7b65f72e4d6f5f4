/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU record rings: one single-producer/single-consumer byte ring per
 * CPU, allocated when a function is activated and freed when it is
 * deactivated.
 *
 * Producers are probes running on the ring's own CPU.  They never take a
 * lock shared with another CPU and never allocate: a record is reserved
 * with interrupts off on the local CPU (so a probe that fires in an
 * interrupt cannot interleave with one in process context), filled in
 * place and published with a release store of the head.  When a record
 * does not fit, it is counted as lost on that CPU and dropped.  What
 * interrupts cannot keep out (an NMI, or the breakpoint of a kprobe, which
 * the kernel handles as an NMI, in code that runs while a record is being
 * made) finds the CPU's ring busy: its record is counted as lost too.
 *
 * The consumer is the report ioctl, in process context, serialised by the
 * owning function's mutex.  It copies records out between tail and an
 * acquire load of head, merging CPUs in timestamp order, then releases the
 * space with a store of tail.
 */
#ifndef DIAG_RING_H
#define DIAG_RING_H

#include <linux/types.h>
#include <linux/percpu.h>
#include <asm/local.h>
#include <asm/local64.h>
#include "../uapi/diagnose.h"

struct diag_ring_iter;

struct diag_ring_cpu {
	u64 head;		/* bytes ever written, incl. padding; producer */
	u64 tail;		/* bytes ever consumed; consumer */
	local64_t lost;		/* records dropped because the ring was full */
	local_t busy;		/* 1 between reserve and commit */
	u64 lost_reported;	/* consumer's copy of lost at its last report */
	u32 size;		/* bytes, multiple of 8 */
	void *data;
};

struct diag_ring {
	struct diag_ring_cpu __percpu *cpu;
	u32 size;		/* per-CPU bytes */
	u64 charged;		/* bytes charged to the memory budget (mem.h) */
};

/* The largest per-CPU ring: record offsets are u32. */
#define DIAG_RING_KIB_MAX	(1024 * 1024)	/* 1 GiB */

/* A reservation, between diag_ring_reserve() and diag_ring_commit(). */
struct diag_ring_slot {
	struct diag_ring_cpu *rc;
	unsigned long irq_flags;
	u64 head;		/* head once the record is committed */
};

/*
 * @kib per possible CPU, at least @min_bytes: 0, -EINVAL for a size out of
 * range, -E2BIG when the module's memory budget (mem.h) has no room for it,
 * -ENOMEM when the allocation fails.  Process context.
 */
int diag_ring_alloc(struct diag_ring *ring, u32 kib, u32 min_bytes);
void diag_ring_free(struct diag_ring *ring);

/*
 * Reserve a record of @size bytes (header included) on this CPU and fill
 * in its header.  Returns NULL when it does not fit (the loss is counted).
 * Must be followed by diag_ring_commit() on the same CPU when non-NULL.
 * Callable from any context, NMI included; the caller has preemption
 * disabled.
 */
void *diag_ring_reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
			u16 type, u32 size);
/*
 * The same with a timestamp the caller read already, so that one event
 * can carry the same time in several places.  @ts_ns must be
 * ktime_get_mono_fast_ns() read with interrupts off on this CPU, so that
 * the CPU's records stay in time order.
 */
void *diag_ring_reserve_at(struct diag_ring *ring, struct diag_ring_slot *slot,
			   u16 type, u32 size, u64 ts_ns);
/*
 * The same, for a producer that keeps what does not fit and tries again
 * later: a failure is not counted as lost.
 */
void *diag_ring_try_reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
			    u16 type, u32 size);
void diag_ring_commit(struct diag_ring_slot *slot);

/*
 * Count a record as lost on this CPU without reserving: for a producer
 * that gives up before it reserves.  Any context; preemption off.
 */
void diag_ring_count_lost(struct diag_ring *ring);

/*
 * Shrink the reserved record @rec to @size bytes before committing it,
 * for records whose length is known only once filled (a stack copy that
 * stopped early).  The space given back is reused by the next record.
 */
void diag_ring_trim(struct diag_ring_slot *slot, void *rec, u32 size);

/*
 * Copy buffered records to user space in timestamp order, at most @len
 * bytes, LOST records first; fills in @rep (more, when records remain).
 * Nothing is consumed yet: on success *@pending holds the drain, which
 * the caller ends with diag_ring_drain_commit() once the caller's own
 * results have reached user space too, or with diag_ring_drain_abort(),
 * which leaves every record and loss count for the next drain.  On error
 * nothing was consumed either.  Process context only; one drain at a
 * time per ring (the caller's lock), producers may run.
 */
int diag_ring_drain(struct diag_ring *ring, void __user *buf, u32 len,
		    struct diag_report *rep, struct diag_ring_iter **pending);
void diag_ring_drain_commit(struct diag_ring_iter *pending);
void diag_ring_drain_abort(struct diag_ring_iter *pending);

/*
 * Reading without consuming: an iterator over the records buffered when it
 * was started, merged across CPUs in timestamp order.  Process context;
 * the caller keeps the ring alive and, if producers may run, accepts that
 * records committed after the start are not seen.
 */
struct diag_ring_iter *diag_ring_iter_start(struct diag_ring *ring);
/* The oldest record not yet passed, or NULL at the end. */
struct diag_record_header *diag_ring_iter_peek(struct diag_ring_iter *it);
/* Step past the record diag_ring_iter_peek() returned. */
void diag_ring_iter_next(struct diag_ring_iter *it);
void diag_ring_iter_end(struct diag_ring_iter *it);

u64 diag_ring_lost(struct diag_ring *ring);
bool diag_ring_empty(struct diag_ring *ring);

#endif /* DIAG_RING_H */
