// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of executable mappings for user-stack symbolization.  See
 * task_maps.h for the life of a snapshot.
 *
 * The table of address spaces is open addressing over a fixed array
 * allocated at activation: probes insert keys with cmpxchg and never
 * remove them, so lookups need no lock.  An entry is requested again in
 * each report generation, and whenever the address space's executable
 * mappings changed since its last request (mm->exec_vm, the pages mapped
 * executable, moves when a library is loaded or unloaded): the first hit
 * of a process often comes from the dynamic loader, before its libraries
 * are mapped.  The PENDING bit keeps an entry on the pending list at most
 * once; the snapshot it stands for is taken later, so it sees at least the
 * mappings of every hit that found it pending.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/dcache.h>
#include <linux/hash.h>
#include <linux/kdev_t.h>
#include <linux/limits.h>
#include "task_maps.h"

#define MAPS_PROBE_MAX	32	/* slots a lookup may visit: bounded work */
#define MAPS_VMAS_MAX	4096	/* executable mappings kept per snapshot */
#define ENTRY_PENDING	0

struct diag_maps_entry {
	u64 key;			/* diag_mm_key(); 0: free */
	atomic_t gen;			/* generation of the last request */
	unsigned long exec_vm;		/* mm->exec_vm at the last request */
	unsigned long flags;		/* ENTRY_PENDING */
	struct mm_struct *mm;		/* pinned while pending */
	pid_t tgid;
	struct llist_node node;
};

struct maps_vma {
	u64 start, end, pgoff;
	u32 flags;			/* DIAG_MAP_* */
	struct file *file;		/* referenced; NULL for vdso/anon */
};

struct maps_snapshot {
	struct list_head list;
	u64 key;
	pid_t tgid;
	u32 seq;
	u32 count;
	u32 emitted;			/* records written to the ring so far */
	struct maps_vma vmas[];
};

static void maps_work(struct work_struct *work);

static void maps_irq_work(struct irq_work *w)
{
	struct diag_maps *m = container_of(w, struct diag_maps, irq_work);

	/* hard interrupt, no lock of the probed context held: safe to queue */
	queue_work(system_unbound_wq, &m->work);
}

int diag_maps_init(struct diag_maps *m, struct diag_ring *ring, u32 slots)
{
	memset(m, 0, sizeof(*m));
	m->table = kvcalloc(slots, sizeof(*m->table), GFP_KERNEL);
	m->path_buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!m->table || !m->path_buf) {
		kvfree(m->table);
		kfree(m->path_buf);
		return -ENOMEM;
	}
	m->ring = ring;
	m->mask = slots - 1;
	/* entries start at generation 0, so the first request always counts */
	atomic_set(&m->gen, 1);
	atomic64_set(&m->dropped, 0);
	init_llist_head(&m->pending);
	init_irq_work(&m->irq_work, maps_irq_work);
	INIT_WORK(&m->work, maps_work);
	mutex_init(&m->lock);
	INIT_LIST_HEAD(&m->snapshots);
	return 0;
}

static struct diag_maps_entry *lookup(struct diag_maps *m, u64 key)
{
	u32 h = hash_64(key, 32), i;

	for (i = 0; i < MAPS_PROBE_MAX; i++) {
		struct diag_maps_entry *e = &m->table[(h + i) & m->mask];
		u64 k = READ_ONCE(e->key);

		if (k == 0)
			k = cmpxchg(&e->key, 0, key) ?: key;
		if (k == key)
			return e;
	}
	return NULL;
}

void diag_maps_request(struct diag_maps *m, struct mm_struct *mm, pid_t tgid)
{
	unsigned long exec_vm = READ_ONCE(mm->exec_vm);
	int gen = atomic_read(&m->gen);
	struct diag_maps_entry *e;

	e = lookup(m, diag_mm_key(mm));
	if (!e) {
		atomic64_inc(&m->dropped);
		return;
	}
	if (atomic_read(&e->gen) == gen && READ_ONCE(e->exec_vm) == exec_vm)
		return;
	/* still queued: the snapshot not yet taken will see this state too */
	if (test_and_set_bit_lock(ENTRY_PENDING, &e->flags))
		return;
	atomic_set(&e->gen, gen);
	WRITE_ONCE(e->exec_vm, exec_vm);
	/*
	 * current's own mm cannot go away under current, and a reference
	 * keeps its VMAs after the process exits, until the worker is done.
	 */
	mmget(mm);
	e->mm = mm;
	e->tgid = tgid;
	llist_add(&e->node, &m->pending);	/* a full barrier */
	irq_work_queue(&m->irq_work);
}

static bool vma_is_vdso(struct vm_area_struct *vma)
{
	const char *name;

	if (!vma->vm_ops || !vma->vm_ops->name)
		return false;
	name = vma->vm_ops->name(vma);
	return name && !strcmp(name, "[vdso]");
}

static struct maps_snapshot *snapshot(struct diag_maps *m,
				      struct mm_struct *mm, u64 key, pid_t tgid)
{
	struct vm_area_struct *vma;
	struct maps_snapshot *s;
	u32 n = 0;

	if (mmap_read_lock_killable(mm))
		return NULL;
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma)
			if (vma->vm_flags & VM_EXEC)
				n++;
	}
	n = min_t(u32, n, MAPS_VMAS_MAX);
	s = kmalloc(struct_size(s, vmas, n), GFP_KERNEL);
	if (s) {
		VMA_ITERATOR(vmi, mm, 0);

		s->key = key;
		s->tgid = tgid;
		s->seq = m->seq++;
		s->count = 0;
		s->emitted = 0;
		for_each_vma(vmi, vma) {
			struct maps_vma *v;

			if (!(vma->vm_flags & VM_EXEC))
				continue;
			if (s->count == n)
				break;
			v = &s->vmas[s->count++];
			v->start = vma->vm_start;
			v->end = vma->vm_end;
			v->pgoff = (u64)vma->vm_pgoff << PAGE_SHIFT;
			v->file = vma->vm_file ? get_file(vma->vm_file) : NULL;
			if (v->file)
				v->flags = 0;
			else
				v->flags = vma_is_vdso(vma) ? DIAG_MAP_VDSO :
							      DIAG_MAP_ANON;
		}
	}
	mmap_read_unlock(mm);
	return s;
}

static void free_snapshot(struct maps_snapshot *s)
{
	u32 i;

	for (i = 0; i < s->count; i++)
		if (s->vmas[i].file)
			fput(s->vmas[i].file);
	kfree(s);
}

/* Caller holds m->lock. */
static void take_pending(struct diag_maps *m)
{
	struct llist_node *list = llist_del_all(&m->pending);
	struct diag_maps_entry *e, *next;

	llist_for_each_entry_safe(e, next, list, node) {
		struct mm_struct *mm = e->mm;
		struct maps_snapshot *s;
		u64 key = e->key;
		pid_t tgid = e->tgid;

		e->mm = NULL;
		/* from here a probe may queue the entry again */
		clear_bit_unlock(ENTRY_PENDING, &e->flags);
		s = snapshot(m, mm, key, tgid);
		mmput(mm);
		if (s)
			list_add_tail(&s->list, &m->snapshots);
	}
}

static void maps_work(struct work_struct *work)
{
	struct diag_maps *m = container_of(work, struct diag_maps, work);

	mutex_lock(&m->lock);
	take_pending(m);
	mutex_unlock(&m->lock);
}

static bool write_map(struct diag_maps *m, const struct maps_snapshot *s,
		      u32 index)
{
	const struct maps_vma *v = &s->vmas[index];
	struct diag_task_map_record *r;
	struct diag_ring_slot slot;
	const char *path = "[anon]";
	u32 flags = v->flags, len;
	u64 ino = 0;
	u32 dev = 0;

	if (v->file) {
		struct inode *inode = file_inode(v->file);

		/* in the reporting process's root, so that it can open it */
		path = d_path(&v->file->f_path, m->path_buf, PATH_MAX);
		if (IS_ERR(path))
			path = "[unreachable]";
		if (d_unlinked(v->file->f_path.dentry))
			flags |= DIAG_MAP_DELETED;
		ino = inode->i_ino;
		dev = (MAJOR(inode->i_sb->s_dev) << 20) |
		      MINOR(inode->i_sb->s_dev);
	} else if (flags & DIAG_MAP_VDSO) {
		path = "[vdso]";
	}
	len = strlen(path) + 1;

	/* the ring's producers run with preemption off, on their own CPU */
	preempt_disable();
	r = diag_ring_try_reserve(m->ring, &slot, DIAG_REC_TASK_MAPS,
				  sizeof(*r) + len);
	if (r) {
		r->mm_key = s->key;
		r->tgid = s->tgid;
		r->flags = flags;
		r->seq = s->seq;
		r->index = index;
		r->count = s->count;
		r->start = v->start;
		r->end = v->end;
		r->pgoff = v->pgoff;
		r->ino = ino;
		r->dev = dev;
		r->path_len = len;
		r->reserved = 0;
		memcpy(r + 1, path, len);
		/* no stale bytes in the padding */
		memset((char *)(r + 1) + len, 0,
		       r->hdr.size - sizeof(*r) - len);
		diag_ring_commit(&slot);
	}
	preempt_enable();
	return r != NULL;
}

bool diag_maps_emit(struct diag_maps *m)
{
	struct maps_snapshot *s, *next;
	bool full = false;

	mutex_lock(&m->lock);
	take_pending(m);
	list_for_each_entry_safe(s, next, &m->snapshots, list) {
		/*
		 * Each record names its snapshot and index, so a snapshot
		 * larger than the ring's free space is written over several
		 * drains, each going on where the last one stopped.
		 */
		while (s->emitted < s->count && !full) {
			full = !write_map(m, s, s->emitted);
			if (!full)
				s->emitted++;
		}
		if (full)
			break;
		list_del(&s->list);
		free_snapshot(s);
		cond_resched();
	}
	/* from now on, the next stack of any address space asks again */
	if (atomic_inc_return(&m->gen) == 0)
		atomic_inc(&m->gen);
	mutex_unlock(&m->lock);
	return full;
}

void diag_maps_destroy(struct diag_maps *m)
{
	struct maps_snapshot *s, *snext;
	struct diag_maps_entry *e, *next;
	struct llist_node *list;

	if (!m->table)
		return;
	/* no probe runs any more: nothing can queue the irq_work or work */
	irq_work_sync(&m->irq_work);
	cancel_work_sync(&m->work);
	list = llist_del_all(&m->pending);
	llist_for_each_entry_safe(e, next, list, node)
		mmput(e->mm);
	list_for_each_entry_safe(s, snext, &m->snapshots, list)
		free_snapshot(s);
	INIT_LIST_HEAD(&m->snapshots);
	kvfree(m->table);
	kfree(m->path_buf);
	m->table = NULL;
	m->path_buf = NULL;
}
