/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a probe may read about a task that is not current.  The callers
 * hold the task still: it is being migrated, woken or switched, so it is
 * not running its own exit path and its mm cannot be released under us.
 */
#ifndef DIAG_TASK_INFO_H
#define DIAG_TASK_INFO_H

#include <linux/sched.h>
#include <linux/mm.h>
#include <linux/version.h>

/* Resident set of @p's mm in bytes; 0 for kernel threads. */
static inline u64 diag_task_rss_bytes(struct task_struct *p)
{
	struct mm_struct *mm = READ_ONCE(p->mm);

	/* a kthread may borrow an mm (kthread_use_mm); that is not its own */
	if (!mm || (p->flags & PF_KTHREAD))
		return 0;
	return (u64)get_mm_rss(mm) << PAGE_SHIFT;
}

/*
 * Resident pages of @mm as VmRSS counts them.  Since 6.2 the counters are
 * per-CPU: their shared total alone (get_mm_rss()) misses what each CPU
 * has not folded in yet, up to the batch (32 pages, or 2 per CPU) per
 * counter and CPU, while VmRSS sums the CPUs' parts (since 6.16, and in
 * the stable kernels that took that fix, Debian's 6.12 among them).  The
 * sum takes each counter's raw lock and visits every online CPU: bounded,
 * and allowed with interrupts off.  Before 6.2 the counters are plain;
 * see diag_task_rss_unsynced_pages() for what they miss there.
 */
static inline unsigned long diag_mm_rss_pages(struct mm_struct *mm)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return percpu_counter_sum_positive(&mm->rss_stat[MM_FILEPAGES]) +
	       percpu_counter_sum_positive(&mm->rss_stat[MM_ANONPAGES]) +
	       percpu_counter_sum_positive(&mm->rss_stat[MM_SHMEMPAGES]);
#else
	return get_mm_rss(mm);
#endif
}

/* As diag_task_rss_bytes(), summed over the CPUs: as VmRSS, not cheaper. */
static inline u64 diag_task_rss_bytes_sum(struct task_struct *p)
{
	struct mm_struct *mm = READ_ONCE(p->mm);

	if (!mm || (p->flags & PF_KTHREAD))
		return 0;
	return (u64)diag_mm_rss_pages(mm) << PAGE_SHIFT;
}

/*
 * RSS changes @p made that are not yet in its mm's counters, in pages.
 * With SPLIT_RSS_COUNTING (up to 6.1) each thread caches its own page
 * counts and folds them into the mm every 64 faults and at exit, so
 * get_mm_rss() (and VmRSS, which reads the same counters) lags by up to
 * that much per thread.  Exact only for current: other threads write
 * their own caches.  Later kernels count per CPU instead and have none.
 */
static inline long diag_task_rss_unsynced_pages(struct task_struct *p)
{
#ifdef SPLIT_RSS_COUNTING
	if (!p->mm || (p->flags & PF_KTHREAD))
		return 0;
	return (long)READ_ONCE(p->rss_stat.count[MM_FILEPAGES]) +
	       READ_ONCE(p->rss_stat.count[MM_ANONPAGES]) +
	       READ_ONCE(p->rss_stat.count[MM_SHMEMPAGES]);
#else
	return 0;
#endif
}

struct diag_task_io {
	u64 rchar, wchar, read_bytes, write_bytes;
};

/* @p's own cumulative I/O counters, as in /proc/PID/task/TID/io. */
static inline void diag_task_io(struct task_struct *p, struct diag_task_io *io)
{
#ifdef CONFIG_TASK_XACCT
	io->rchar = p->ioac.rchar;
	io->wchar = p->ioac.wchar;
#else
	io->rchar = 0;
	io->wchar = 0;
#endif
#ifdef CONFIG_TASK_IO_ACCOUNTING
	io->read_bytes = p->ioac.read_bytes;
	io->write_bytes = p->ioac.write_bytes;
#else
	io->read_bytes = 0;
	io->write_bytes = 0;
#endif
}

#endif /* DIAG_TASK_INFO_H */
