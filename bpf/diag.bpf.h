/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every diagnose BPF program shares: the task filter, the record
 * ring, the count of records it could not store, and CO-RE reads of task
 * fields that moved between kernel versions.
 *
 * The programs write the records of uapi/diagnose.h, byte for byte what
 * the module writes, so the CLI decodes both backends' reports alike.
 *
 * Invariant: every record a program starts is either committed to
 * `records` or counted in `lost` (per CPU) - never dropped uncounted.
 * The CLI turns `lost` into the report's DIAG_REC_LOST records, and adds
 * the calls the kernel skipped (its recursion misses of the programs).
 */
#ifndef DIAG_BPF_H
#define DIAG_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "uapi/diagnose.h"
#include "bpf/diag_bpf_abi.h"

#define DIAG_PF_KTHREAD		0x00200000	/* include/linux/sched.h */
#define DIAG_TASK_WAKING	0x00000200
#define DIAG_PAGE_SHIFT		12

char LICENSE[] SEC("license") = "GPL";

/* the filter, set by the CLI before load (0 / empty: not set) */
const volatile __s32 filter_tgid;
const volatile __s32 filter_pid;
const volatile char filter_comm[DIAG_COMM_LEN];
const volatile __u32 filter_has_comm;

/* the records; the CLI sizes it before load (a power of two of pages) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} records SEC(".maps");

/* records that did not fit, per CPU, since activation */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Kept for the CLI, never touched by the programs: the settings the
 * function was activated with, the part of `lost` already reported, and
 * the part of the programs' recursion misses already reported (calls the
 * kernel skipped because the program was already running on that CPU: a
 * trampoline program preempted there, or an interrupt inside a program;
 * the kernel counts them per program, and the CLI reports them as lost).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct diag_settings_blob);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_reported SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} misses_reported SEC(".maps");

static __always_inline void count_lost_n(__u64 count)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	/* atomic: on PREEMPT_RT two programs can interleave on one CPU */
	if (n)
		__sync_fetch_and_add(n, count);
}

static __always_inline void count_lost(void)
{
	count_lost_n(1);
}

/* The header of a record of @size bytes, taken on this CPU now. */
static __always_inline void fill_header(struct diag_record_header *h,
					__u16 type, __u32 size)
{
	h->size = size;
	h->type = type;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
}

/* A record of @size bytes with its header filled in, or NULL (counted). */
static __always_inline void *reserve_record(__u16 type, __u32 size)
{
	struct diag_record_header *h;

	h = bpf_ringbuf_reserve(&records, size, 0);
	if (!h) {
		count_lost();
		return NULL;
	}
	fill_header(h, type, size);
	return h;
}

/*
 * @p is a trusted BTF pointer (a tp_btf argument): plain loads, relocated
 * by CO-RE, are checked by the verifier and cost no helper call - this is
 * the path every event of the machine takes, watched or not.
 */
static __always_inline bool filter_match(struct task_struct *p)
{
	int i;

	if (filter_pid && p->pid != filter_pid)
		return false;
	if (filter_tgid && p->tgid != filter_tgid)
		return false;
	if (filter_has_comm) {
		/* unrolled: constant offsets, as loads from @p must have */
#pragma unroll
		for (i = 0; i < DIAG_COMM_LEN; i++)
			if (p->comm[i] != filter_comm[i])
				return false;
	}
	return true;
}

static __always_inline __u32 task_cpu(struct task_struct *p)
{
	return BPF_CORE_READ(p, thread_info.cpu);
}

/* Whether @cpu is in @p's affinity (p->cpus_ptr). */
static __always_inline bool task_allows_cpu(struct task_struct *p, __u32 cpu)
{
	const cpumask_t *mask = BPF_CORE_READ(p, cpus_ptr);
	unsigned long word = 0;

	bpf_probe_read_kernel(&word, sizeof(word),
			      &mask->bits[(cpu / 64) & 127]);
	return word & (1UL << (cpu % 64));
}

/*
 * The mm counters: plain atomics before 6.2, per-CPU counters since.  Both
 * layouts through flavors, so that the programs compile against the
 * vmlinux.h of either kernel and load on both.
 */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

struct percpu_counter___new {
	s64 count;
	s32 *counters;		/* per CPU */
} __attribute__((preserve_access_index));

struct mm_struct___new {
	struct percpu_counter___new rss_stat[4];
} __attribute__((preserve_access_index));

/*
 * One mm counter, @i a constant (a macro, not a function): CO-RE relocates
 * an array index only when it is part of the access expression itself; a
 * variable index would be scaled by the local flavor's element size (8
 * bytes) instead of the kernel's (struct percpu_counter: 40).
 */
#define rss_counter(mm, i)						\
	(bpf_core_type_exists(struct mm_rss_stat___old) ?		\
	 BPF_CORE_READ((struct mm_struct___old *)(mm),		\
		       rss_stat.count[i].counter) :			\
	 BPF_CORE_READ((struct mm_struct___new *)(mm), rss_stat[i].count))

static __always_inline __u64 positive(long v)
{
	return v > 0 ? v : 0;
}

/* get_mm_rss() of @p's own mm in bytes, as the module reads it; 0 for kthreads */
static __always_inline __u64 task_rss_bytes(struct task_struct *p)
{
	struct mm_struct *mm = BPF_CORE_READ(p, mm);

	if (!mm || (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD))
		return 0;
	return (positive(rss_counter(mm, MM_FILEPAGES)) +
		positive(rss_counter(mm, MM_ANONPAGES)) +
		positive(rss_counter(mm, MM_SHMEMPAGES))) << DIAG_PAGE_SHIFT;
}

/* the possible CPUs, set by the CLI of a function that sums per-CPU counters */
const volatile __u32 nr_cpus;

/*
 * The verifier follows every turn of a sum's loop (nr_cpus is a constant
 * to it) at every place a sample is written: beyond this many CPUs the
 * programs would near its instruction limit, and the shared counts serve.
 */
#define DIAG_SUM_MAX_CPUS	64

/*
 * Per-CPU variables of the kernel (typed ksyms) need their addresses in
 * /proc/kallsyms (CONFIG_KALLSYMS_ALL), where the verifier looks them up;
 * a kernel without cannot load a program that names one.  So there the
 * CLI loads programs that do not: resource-image, whose every program
 * sums RSS, is built a second time with DIAG_NO_PERCPU_KSYMS; kprobe,
 * which only reads the preempt count, has a _noirq twin of its program.
 */
#ifndef DIAG_NO_PERCPU_KSYMS
/*
 * Any per-CPU variable: a CPU's copy less the variable's own per-CPU
 * address is the CPU's per-CPU offset (__per_cpu_offset[cpu], which is in
 * no BTF), what a per-CPU pointer is moved by to reach that CPU's copy.
 */
extern const struct rq runqueues __ksym;

/*
 * @copy - @var as a number.  The verifier allows the difference of two
 * pointers (for root) as an unknown scalar, but no arithmetic on a per-CPU
 * pointer with one: the subtraction is written out so that the compiler
 * cannot fold it into a sum with the per-CPU pointer.
 */
static __always_inline __u64 percpu_offset_of(const void *copy, const void *var)
{
	__u64 off = (__u64)copy;

	asm volatile("%[off] -= %[var]" : [off] "+r"(off) : [var] "r"(var));
	return off;
}

/*
 * mm counter @i (a constant) summed over the CPUs, as
 * percpu_counter_sum_positive() and so VmRSS read it (since 6.2; the
 * plain counter before).  A CPU that went offline had its part folded
 * into the shared count and zeroed, so the possible CPUs can all be
 * added.  Beyond DIAG_SUM_MAX_CPUS CPUs (or nr_cpus not set), or without
 * per-CPU ksyms, the shared count alone, which lags by up to a batch per
 * CPU.
 */
#define rss_counter_sum(mm, i)						\
({									\
	long __sum = rss_counter(mm, i);				\
	if (!bpf_core_type_exists(struct mm_rss_stat___old) &&		\
	    nr_cpus <= DIAG_SUM_MAX_CPUS) {				\
		__u64 __pcpu = (__u64)BPF_CORE_READ(			\
			(struct mm_struct___new *)(mm), rss_stat[i].counters);	\
		__u32 __cpu;						\
		for (__cpu = 0; __cpu < DIAG_SUM_MAX_CPUS && __cpu < nr_cpus; __cpu++) {\
			const struct rq *__rq = bpf_per_cpu_ptr(&runqueues, __cpu);\
			__s32 __part = 0;				\
			if (!__rq)					\
				break;					\
			bpf_probe_read_kernel(&__part, sizeof(__part),	\
				(void *)(__pcpu + percpu_offset_of(__rq, &runqueues)));\
			__sum += __part;				\
		}							\
	}								\
	__sum;								\
})
#else
#define rss_counter_sum(mm, i)	rss_counter(mm, i)
#endif

/*
 * The preempt count of this CPU: a per-CPU int, __preempt_count, on x86
 * before 6.2 and again since 6.15; from 6.2 to 6.14 pcpu_hot's.  Both
 * weak: the one this kernel lacks resolves to NULL (and neither, on
 * another architecture: 0).  A program that reads it needs per-CPU ksyms
 * (see above).
 */
#define DIAG_HARDIRQ_MASK	0x000f0000	/* include/linux/preempt.h */

extern const int __preempt_count __ksym __weak;

struct pcpu_hot___diag {
	int preempt_count;
} __attribute__((preserve_access_index));

extern const struct pcpu_hot___diag pcpu_hot __ksym __weak;

/* bpf_ksym_exists() of libbpf 1.2, which older headers lack */
#define diag_ksym_exists(sym) (!!(&(sym)))

static __always_inline unsigned int preempt_count_now(void)
{
	if (diag_ksym_exists(__preempt_count))
		return *(int *)bpf_this_cpu_ptr(&__preempt_count);
	if (diag_ksym_exists(pcpu_hot))
		return ((struct pcpu_hot___diag *)bpf_this_cpu_ptr(&pcpu_hot))->preempt_count;
	return 0;
}

/* As task_rss_bytes(), summed over the CPUs as VmRSS is: not cheaper. */
static __always_inline __u64 task_rss_bytes_sum(struct task_struct *p)
{
	struct mm_struct *mm = BPF_CORE_READ(p, mm);

	if (!mm || (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD))
		return 0;
	return (positive(rss_counter_sum(mm, MM_FILEPAGES)) +
		positive(rss_counter_sum(mm, MM_ANONPAGES)) +
		positive(rss_counter_sum(mm, MM_SHMEMPAGES))) << DIAG_PAGE_SHIFT;
}

/*
 * Before 6.2 (SPLIT_RSS_COUNTING): each thread caches its own page counts
 * and folds them into the mm every 64 faults and at exit; what @p has not
 * folded yet, in bytes (exact only for current).  0 on later kernels.
 */
struct task_rss_stat___old {
	int events;
	int count[4];
} __attribute__((preserve_access_index));

struct task_struct___old {
	struct task_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

static __always_inline __s64 task_rss_unsynced_bytes(struct task_struct *p)
{
	struct task_struct___old *o = (void *)p;

	if (!bpf_core_field_exists(o->rss_stat) || !BPF_CORE_READ(p, mm) ||
	    (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD))
		return 0;
	return ((__s64)BPF_CORE_READ(o, rss_stat.count[MM_FILEPAGES]) +
		BPF_CORE_READ(o, rss_stat.count[MM_ANONPAGES]) +
		BPF_CORE_READ(o, rss_stat.count[MM_SHMEMPAGES])) << DIAG_PAGE_SHIFT;
}

#endif /* DIAG_BPF_H */
