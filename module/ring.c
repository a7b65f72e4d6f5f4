// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU record rings.  See ring.h for the concurrency rules.
 *
 * Layout: head and tail count bytes ever written and consumed, so
 * head - tail is the fill level and (pos % size) the offset in the buffer.
 * A record never wraps: when it does not fit before the end of the buffer,
 * the producer skips the gap and starts again at 0.  Record sizes and the
 * buffer size are multiples of REC_ALIGN (8), but a header is 16 bytes, so
 * a gap is either big enough for a PAD record, which the producer writes
 * there, or exactly 8 bytes, which hold no header at all.  Both sides keep
 * the same rule: an offset with less than a header's room before the end
 * of the buffer is padding (see gap_is_implicit()).
 *
 * Accounting: every reservation either becomes a record that a drain
 * delivers, or is counted in ->lost of its CPU, which a drain delivers as
 * a LOST record.  A drain consumes (moves tail, and ->lost_reported)
 * only once everything it delivers has reached user space.
 */
#include <linux/slab.h>
#include <linux/overflow.h>
#include <linux/vmalloc.h>
#include <linux/uaccess.h>
#include <linux/timekeeping.h>
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/printk.h>
#include "ring.h"
#include "mem.h"

#define REC_ALIGN	8
#define HDR_SIZE	sizeof(struct diag_record_header)

/* The tail of the buffer from @off on is too short to hold a header. */
static inline bool gap_is_implicit(u32 size, u32 off)
{
	return size - off < HDR_SIZE;
}

int diag_ring_alloc(struct diag_ring *ring, u32 kib, u32 min_bytes)
{
	u64 size = (u64)kib * 1024;
	int cpu;

	if (!kib || kib > DIAG_RING_KIB_MAX || size < min_bytes)
		return -EINVAL;
	size = round_down(size, REC_ALIGN);
	ring->charged = size * num_possible_cpus();
	if (diag_mem_charge(ring->charged)) {
		ring->charged = 0;
		return -E2BIG;
	}

	ring->size = size;
	ring->cpu = alloc_percpu(struct diag_ring_cpu);
	if (!ring->cpu) {
		diag_ring_free(ring);
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		struct diag_ring_cpu *rc = per_cpu_ptr(ring->cpu, cpu);

		/*
		 * On the CPU's own node: the producer is that CPU, and it
		 * touches the buffer on every record.  Zeroed so that no stale
		 * kernel memory can ever reach user space.
		 */
		rc->data = diag_mem_alloc_node(size, cpu_to_node(cpu));
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

	if (ring->cpu) {
		for_each_possible_cpu(cpu)
			diag_mem_free(per_cpu_ptr(ring->cpu, cpu)->data);
		free_percpu(ring->cpu);
		ring->cpu = NULL;
	}
	diag_mem_uncharge(ring->charged);
	ring->charged = 0;
}

/* @ts_ns 0: read the clock once interrupts are off. */
static void *reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
		     u16 type, u32 size, u64 ts_ns, bool count_lost)
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
		if (!gap_is_implicit(rc->size, off)) {
			hdr = rc->data + off;
			hdr->size = gap;
			hdr->type = DIAG_REC_PAD;
		}
		/* the gap is published with the record, by diag_ring_commit() */
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
	hdr->ts_ns = ts_ns ?: ktime_get_mono_fast_ns();
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
	return reserve(ring, slot, type, size, 0, true);
}

void *diag_ring_reserve_at(struct diag_ring *ring, struct diag_ring_slot *slot,
			   u16 type, u32 size, u64 ts_ns)
{
	return reserve(ring, slot, type, size, ts_ns, true);
}

void *diag_ring_try_reserve(struct diag_ring *ring, struct diag_ring_slot *slot,
			    u16 type, u32 size)
{
	return reserve(ring, slot, type, size, 0, false);
}

void diag_ring_count_lost(struct diag_ring *ring)
{
	/* local64_inc() is one instruction: safe against any nesting */
	local64_inc(&this_cpu_ptr(ring->cpu)->lost);
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

/* The reader's view of one CPU: from pos up to the head seen at start. */
struct ring_cursor {
	struct diag_ring_cpu *rc;
	u64 pos;
	u64 head;
	u32 off;				/* pos % rc->size */
	struct diag_record_header *next;	/* record at pos, or NULL */
	u64 lost;		/* drain: ->lost as delivered, for the commit */
	unsigned int cpu;
};

struct diag_ring_iter {
	unsigned int nr;
	struct ring_cursor *best;	/* cursor of the last peek */
	struct ring_cursor cur[];
};

/* Step over the record at the cursor; records never wrap (see top). */
static void cursor_skip(struct ring_cursor *c, u32 size)
{
	c->pos += size;
	c->off += size;
	if (c->off == c->rc->size)
		c->off = 0;
}

/* Skip padding; set c->next to the record at c->pos or NULL when done. */
static void cursor_load(struct ring_cursor *c)
{
	struct diag_ring_cpu *rc = c->rc;

	c->next = NULL;
	while (c->pos < c->head) {
		struct diag_record_header *hdr = rc->data + c->off;

		if (gap_is_implicit(rc->size, c->off)) {
			cursor_skip(c, rc->size - c->off);
			continue;
		}
		if (unlikely(hdr->size < sizeof(*hdr) ||
			     hdr->size % REC_ALIGN ||
			     hdr->size > rc->size - c->off)) {
			/* cannot happen; if it does, drop the CPU's backlog */
			pr_err_ratelimited("diagnose: corrupt record at %u, dropping %llu bytes\n",
					   c->off, c->head - c->pos);
			c->pos = c->head;
			return;
		}
		if (hdr->type != DIAG_REC_PAD) {
			c->next = hdr;
			return;
		}
		cursor_skip(c, hdr->size);
	}
}

struct diag_ring_iter *diag_ring_iter_start(struct diag_ring *ring)
{
	struct diag_ring_iter *it;
	int cpu;

	it = kvmalloc(struct_size(it, cur, num_possible_cpus()), GFP_KERNEL);
	if (!it)
		return NULL;
	it->nr = 0;
	it->best = NULL;
	for_each_possible_cpu(cpu) {
		struct ring_cursor *c = &it->cur[it->nr++];

		c->rc = per_cpu_ptr(ring->cpu, cpu);
		c->cpu = cpu;
		c->lost = c->rc->lost_reported;
		c->pos = c->rc->tail;
		c->off = c->pos % c->rc->size;
		/* pairs with diag_ring_commit(): records up to head are whole */
		c->head = smp_load_acquire(&c->rc->head);
		cursor_load(c);
	}
	return it;
}

/*
 * k-way merge by timestamp.  CPUs are few enough that a linear scan of
 * the cursors' next records beats keeping a heap.
 */
struct diag_record_header *diag_ring_iter_peek(struct diag_ring_iter *it)
{
	struct ring_cursor *best = NULL;
	unsigned int i;

	for (i = 0; i < it->nr; i++) {
		struct ring_cursor *c = &it->cur[i];

		if (c->next && (!best || c->next->ts_ns < best->next->ts_ns))
			best = c;
	}
	it->best = best;
	return best ? best->next : NULL;
}

void diag_ring_iter_next(struct diag_ring_iter *it)
{
	struct ring_cursor *c = it->best;

	if (!c || !c->next)
		return;
	cursor_skip(c, c->next->size);
	cursor_load(c);
	it->best = NULL;
}

void diag_ring_iter_end(struct diag_ring_iter *it)
{
	kvfree(it);
}

/*
 * The LOST records of the CPUs that lost records since the last drain,
 * into @buf.  Each cursor keeps the count it delivered, committed with
 * the tails.
 */
static int put_lost_records(struct diag_ring_iter *it, void __user *buf,
			    u32 len, struct diag_report *rep)
{
	unsigned int i;

	for (i = 0; i < it->nr; i++) {
		struct ring_cursor *c = &it->cur[i];
		struct diag_ring_cpu *rc = c->rc;
		struct diag_lost_record rec = {};

		c->lost = local64_read(&rc->lost);
		if (c->lost == rc->lost_reported)
			continue;
		if (len - rep->bytes < sizeof(rec)) {
			/* delivered by the next drain */
			c->lost = rc->lost_reported;
			rep->more = 1;
			continue;
		}
		rec.hdr.size = sizeof(rec);
		rec.hdr.type = DIAG_REC_LOST;
		rec.hdr.cpu = c->cpu;
		rec.hdr.ts_ns = ktime_get_ns();
		rec.count = c->lost - rc->lost_reported;
		if (copy_to_user(buf + rep->bytes, &rec, sizeof(rec)))
			return -EFAULT;
		rep->bytes += sizeof(rec);
		rep->records++;
	}
	return 0;
}

int diag_ring_drain(struct diag_ring *ring, void __user *buf, u32 len,
		    struct diag_report *rep, struct diag_ring_iter **pending)
{
	struct diag_record_header *hdr;
	struct diag_ring_iter *it;
	int ret;

	*pending = NULL;
	rep->bytes = 0;
	rep->records = 0;
	rep->more = 0;
	rep->nr_cpus = num_possible_cpus();

	it = diag_ring_iter_start(ring);
	if (!it)
		return -ENOMEM;
	ret = put_lost_records(it, buf, len, rep);
	if (ret)
		goto abort;
	while ((hdr = diag_ring_iter_peek(it))) {
		if (len - rep->bytes < hdr->size) {
			rep->more = 1;
			break;
		}
		if (copy_to_user(buf + rep->bytes, hdr, hdr->size)) {
			ret = -EFAULT;
			goto abort;
		}
		rep->bytes += hdr->size;
		rep->records++;
		diag_ring_iter_next(it);
		if (need_resched())
			cond_resched();
	}
	if (rep->more && !rep->records) {
		ret = -ENOSPC;	/* not even one record fits */
		goto abort;
	}
	rep->lost = diag_ring_lost(ring);
	*pending = it;
	return 0;

abort:
	diag_ring_iter_end(it);
	return ret;
}

void diag_ring_drain_commit(struct diag_ring_iter *it)
{
	unsigned int i;

	for (i = 0; i < it->nr; i++) {
		struct ring_cursor *c = &it->cur[i];

		c->rc->lost_reported = c->lost;
		/* pairs with the producer's acquire of tail: the space is free */
		smp_store_release(&c->rc->tail, c->pos);
	}
	diag_ring_iter_end(it);
}

void diag_ring_drain_abort(struct diag_ring_iter *it)
{
	diag_ring_iter_end(it);
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
