// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU record rings.  See ring.h for the concurrency rules.
 *
 * Layout: head and tail count bytes ever written and consumed, so
 * head - tail is the fill level and (pos % size) the offset in the buffer.
 * A record never wraps: when it does not fit before the end of the buffer,
 * the producer fills the gap with a PAD record and starts again at 0.
 * Every record size is a multiple of 8, so a gap is always big enough for
 * a PAD header.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/uaccess.h>
#include <linux/timekeeping.h>
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/printk.h>
#include "ring.h"

#define REC_ALIGN	8

int diag_ring_alloc(struct diag_ring *ring, u32 kib, u32 min_bytes)
{
	u64 size = (u64)kib * 1024;
	int cpu;

	if (!kib || kib > DIAG_BUF_KIB_MAX || size < min_bytes)
		return -EINVAL;
	size = round_down(size, REC_ALIGN);

	ring->size = size;
	ring->cpu = alloc_percpu(struct diag_ring_cpu);
	if (!ring->cpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct diag_ring_cpu *rc = per_cpu_ptr(ring->cpu, cpu);

		/*
		 * On the CPU's own node: the producer is that CPU, and it
		 * touches the buffer on every record.  Zeroed so that no stale
		 * kernel memory can ever reach user space.
		 */
		rc->data = vzalloc_node(size, cpu_to_node(cpu));
		if (!rc->data) {
			diag_ring_free(ring);
			return -ENOMEM;
		}
		rc->size = size;
		local64_set(&rc->lost, 0);
		local_set(&rc->busy, 0);
	}
	return 0;
}

void diag_ring_free(struct diag_ring *ring)
{
	int cpu;

	if (!ring->cpu)
		return;
	for_each_possible_cpu(cpu)
		vfree(per_cpu_ptr(ring->cpu, cpu)->data);
	free_percpu(ring->cpu);
	ring->cpu = NULL;
}

static void *reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
		     u16 type, u32 size, bool count_lost)
{
	struct diag_ring_cpu *rc = this_cpu_ptr(ring->cpu);
	struct diag_record_header *hdr;
	u64 head, room;
	u32 off, gap;

	size = ALIGN(size, REC_ALIGN);

	local_irq_save(slot->irq_flags);
	/*
	 * Interrupts off cannot keep an NMI (or a kprobe's breakpoint, handled
	 * as one) out of a half-made record: whoever comes second on this CPU
	 * finds the ring busy and gives up.  local_cmpxchg() is a single
	 * instruction on this CPU, so it is atomic against such nesting.
	 */
	if (local_cmpxchg(&rc->busy, 0, 1) != 0)
		goto lost;
	head = rc->head;
	/* pairs with the consumer's release of tail: the space is free */
	room = rc->size - (head - smp_load_acquire(&rc->tail));
	off = head % rc->size;
	gap = rc->size - off;
	if (gap < size) {
		if (room < (u64)gap + size)
			goto lost_busy;
		hdr = rc->data + off;
		hdr->size = gap;
		hdr->type = DIAG_REC_PAD;
		/* the pad is published with the record, by diag_ring_commit() */
		head += gap;
		room -= gap;
		off = 0;
	}
	if (room < size)
		goto lost_busy;

	hdr = rc->data + off;
	hdr->size = size;
	hdr->type = type;
	hdr->cpu = smp_processor_id();
	hdr->ts_ns = ktime_get_mono_fast_ns();
	slot->rc = rc;
	slot->head = head + size;
	return hdr;

lost_busy:
	local_set(&rc->busy, 0);
lost:
	if (count_lost)
		local64_inc(&rc->lost);
	local_irq_restore(slot->irq_flags);
	return NULL;
}

void *diag_ring_reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
			u16 type, u32 size)
{
	return reserve(ring, slot, type, size, true);
}

void *diag_ring_try_reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
			    u16 type, u32 size)
{
	return reserve(ring, slot, type, size, false);
}

void diag_ring_commit(struct diag_ring_slot *slot)
{
	struct diag_ring_cpu *rc = slot->rc;

	/* pairs with the consumer's acquire of head: the record is complete */
	smp_store_release(&rc->head, slot->head);
	local_set(&rc->busy, 0);
	local_irq_restore(slot->irq_flags);
}

void diag_ring_trim(struct diag_ring_slot *slot, void *rec, u32 size)
{
	struct diag_record_header *hdr = rec;

	size = ALIGN(max_t(u32, size, sizeof(*hdr)), REC_ALIGN);
	if (size >= hdr->size)
		return;
	/* nothing was reserved after this record: interrupts are still off */
	slot->head -= hdr->size - size;
	hdr->size = size;
}

/* The consumer's view of one CPU during a drain. */
struct drain_cursor {
	struct diag_ring_cpu *rc;
	u64 pos;
	u64 head;
};

/* Skip padding; return the next record or NULL when the CPU is drained. */
static struct diag_record_header *cursor_peek(struct drain_cursor *c)
{
	struct diag_ring_cpu *rc = c->rc;

	while (c->pos < c->head) {
		u32 off = c->pos % rc->size;
		struct diag_record_header *hdr = rc->data + off;

		if (unlikely(hdr->size < sizeof(*hdr) ||
			     hdr->size % REC_ALIGN ||
			     hdr->size > rc->size - off)) {
			/* cannot happen; if it does, drop the CPU's backlog */
			pr_err_ratelimited("diagnose: corrupt record at %u, dropping %llu bytes\n",
					   off, c->head - c->pos);
			c->pos = c->head;
			return NULL;
		}
		if (hdr->type != DIAG_REC_PAD)
			return hdr;
		c->pos += hdr->size;
	}
	return NULL;
}

static int put_lost_records(struct diag_ring *ring, void __user *buf, u32 len,
			    struct diag_report *rep)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct diag_ring_cpu *rc = per_cpu_ptr(ring->cpu, cpu);
		u64 lost = local64_read(&rc->lost);
		struct diag_lost_record rec = {};

		if (lost == rc->lost_reported)
			continue;
		if (len - rep->bytes < sizeof(rec)) {
			rep->more = 1;
			return 0;
		}
		rec.hdr.size = sizeof(rec);
		rec.hdr.type = DIAG_REC_LOST;
		rec.hdr.cpu = cpu;
		rec.hdr.ts_ns = ktime_get_ns();
		rec.count = lost - rc->lost_reported;
		if (copy_to_user(buf + rep->bytes, &rec, sizeof(rec)))
			return -EFAULT;
		rc->lost_reported = lost;
		rep->bytes += sizeof(rec);
		rep->records++;
	}
	return 0;
}

int diag_ring_drain(struct diag_ring *ring, void __user *buf, u32 len,
		    struct diag_report *rep)
{
	struct drain_cursor *cur;
	unsigned int nr = 0, i;
	int cpu, ret;

	rep->bytes = 0;
	rep->records = 0;
	rep->more = 0;
	rep->nr_cpus = num_possible_cpus();

	ret = put_lost_records(ring, buf, len, rep);
	if (ret)
		return ret;

	cur = kmalloc_array(num_possible_cpus(), sizeof(*cur), GFP_KERNEL);
	if (!cur)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct diag_ring_cpu *rc = per_cpu_ptr(ring->cpu, cpu);

		cur[nr].rc = rc;
		cur[nr].pos = rc->tail;
		/* pairs with diag_ring_commit(): records up to head are whole */
		cur[nr].head = smp_load_acquire(&rc->head);
		nr++;
	}

	/*
	 * k-way merge by timestamp.  CPUs are few enough that a linear scan
	 * for the oldest head record beats keeping a heap.
	 */
	for (;;) {
		struct diag_record_header *best = NULL, *hdr;
		struct drain_cursor *from = NULL;

		for (i = 0; i < nr; i++) {
			hdr = cursor_peek(&cur[i]);
			if (hdr && (!best || hdr->ts_ns < best->ts_ns)) {
				best = hdr;
				from = &cur[i];
			}
		}
		if (!best)
			break;
		if (len - rep->bytes < best->size) {
			rep->more = 1;
			if (!rep->records)
				ret = -ENOSPC;	/* not even one record fits */
			break;
		}
		if (copy_to_user(buf + rep->bytes, best, best->size)) {
			ret = -EFAULT;
			break;
		}
		rep->bytes += best->size;
		rep->records++;
		from->pos += best->size;
		if (need_resched())
			cond_resched();
	}

	/* pairs with the producer's acquire of tail: the space is free */
	for (i = 0; i < nr; i++)
		smp_store_release(&cur[i].rc->tail, cur[i].pos);
	kfree(cur);
	rep->lost = diag_ring_lost(ring);
	return ret;
}

u64 diag_ring_lost(struct diag_ring *ring)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += local64_read(&per_cpu_ptr(ring->cpu, cpu)->lost);
	return sum;
}

bool diag_ring_empty(struct diag_ring *ring)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct diag_ring_cpu *rc = per_cpu_ptr(ring->cpu, cpu);

		if (smp_load_acquire(&rc->head) != rc->tail)
			return false;
	}
	return true;
}
