/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kprobe on BPF: every hit of one kernel function by the watched tasks,
 * with the kernel stack, the user registers and a copy of the user stack,
 * the cgroup and the process chain, as module/kprobe.c records them.
 *
 * Two programs, of which the CLI loads one: on_fentry, a BPF trampoline on
 * the function's entry where the kernel has trampolines and the function
 * an fentry call (the cheaper way), else on_kprobe, a kprobe on the
 * function (through ftrace where the kernel has kprobes on ftrace, else a
 * breakpoint, entered like an NMI); each
 * also as _noirq, for kernels whose kallsyms lacks the preempt count.
 *
 * A hit is built in the scratch record of its CPU (it is far bigger than
 * the 512-byte BPF stack) and copied into the ring with the bytes of user
 * stack actually copied: bpf_ringbuf_reserve takes constant sizes only.
 *
 * Invariant: the scratch record of a CPU is used by one hit at a time.
 * Only one of the two programs is ever loaded; a kprobe program does not
 * run while another kprobe or tracing BPF program runs on the CPU
 * (bpf_prog_active), and a trampoline program does not run again on a
 * CPU where it already runs (its own per-CPU recursion guard, also when
 * the first run was preempted).  The kernel counts the calls it skipped
 * for these reasons in the program's recursion misses, which the CLI
 * reports as lost: every hit is a record or counted (a kprobe program's
 * skips only from 6.7, which counts them; docs/kprobe.md).
 */
#include "diag.bpf.h"

#define KP_PAGE			4096
#define KP_USTACK_MAX		(DIAG_USTACK_KIB_MAX * 1024)
/* pages a copy of KP_USTACK_MAX bytes from any start can touch */
#define KP_USTACK_CHUNKS	(KP_USTACK_MAX / KP_PAGE + 1)

/* include/linux/preempt.h, the same on every kernel this runs on */
#define KP_SOFTIRQ_OFFSET	0x00000100
#define KP_HARDIRQ_OFFSET	0x00010000
#define KP_NMI_MASK		0x00f00000
#define KP_NMI_OFFSET		0x00100000

/* arch/x86/include/asm/segment.h: a 64-bit task's user code segment */
#define KP_USER_CS		0x33

/* set by the CLI before load */
const volatile __u32 ustack_bytes;	/* the user stack copied per hit */
const volatile __u32 cpus_set;
const volatile __u64 cpus[DIAG_CPUSET_WORDS];
/* the probed function: stacks start at its frame, as the module's do */
const volatile __u64 func_start, func_end;

struct kp_scratch {
	struct diag_kprobe_record r;
	/*
	 * The user stack copy follows the record, as it does in the ring;
	 * a page of slack past the most that is copied keeps every chunk's
	 * bounds provable.
	 */
	__u8 stack[KP_USTACK_MAX + KP_PAGE];
	/* a kernel stack, then zeroes: copied from a variable start */
	__u64 ips[2 * DIAG_KSTACK_MAX];
};

/*
 * One scratch record per CPU, indexed by CPU id: a per-CPU array cannot
 * hold values over 32 KiB.  The CLI sizes it to the possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kp_scratch);
} scratch SEC(".maps");

/*
 * Whether the probed code ran in a hard or soft interrupt, as the module
 * tells it: a breakpoint kprobe is entered like an NMI, so that layer is
 * taken off first (a hit in a real NMI shows as the context it
 * interrupted).  Neither variable (another architecture): not known, 0.
 */
static __always_inline bool probed_in_interrupt(void)
{
	unsigned int pc = preempt_count_now();

	if (pc & KP_NMI_MASK)
		pc -= KP_NMI_OFFSET + KP_HARDIRQ_OFFSET;
	return pc & (DIAG_HARDIRQ_MASK | KP_SOFTIRQ_OFFSET);
}

static __always_inline bool cpu_watched(__u32 cpu)
{
	if (!cpus_set)
		return true;
	return cpus[(cpu / 64) & (DIAG_CPUSET_WORDS - 1)] & (1ULL << (cpu % 64));
}

/*
 * The task's process, then its ancestors up to init, as
 * diag_capture_process_chain() walks them.  Probe reads: a parent can be
 * exiting while we look, and the reads then fail instead of faulting.
 */
static __always_inline __u32 capture_chain(struct diag_process_link *links,
					   struct task_struct *tsk)
{
	struct task_struct *t = BPF_CORE_READ(tsk, group_leader);
	__u32 n;

	for (n = 0; n < DIAG_CHAIN_MAX; n++) {
		struct diag_process_link *l = &links[n];
		__s32 tgid = BPF_CORE_READ(t, tgid);

		l->pid = tgid;
		bpf_probe_read_kernel(l->comm, sizeof(l->comm), &t->comm);
		l->comm[DIAG_COMM_LEN - 1] = '\0';
		l->reserved = 0;
		/* init (1), or the idle task / kthreadd's parent (0) */
		if (tgid <= 1)
			return n + 1;
		t = BPF_CORE_READ(t, real_parent, group_leader);
		if (!t)
			return n + 1;
	}
	return n;
}

/*
 * The kernel stack from the probed function's frame outwards: what the
 * unwinder sees before it (this program, the trampoline) is cut.  No
 * frame inside the function (it was not found in kallsyms): all of it.
 */
static __always_inline void capture_kstack(void *ctx, struct kp_scratch *s)
{
	struct diag_kernel_stack *st = &s->r.kstack;
	__u32 nr, first = 0, i;
	long bytes;

	bytes = bpf_get_stack(ctx, s->ips, DIAG_KSTACK_MAX * sizeof(__u64), 0);
	nr = bytes > 0 ? bytes / sizeof(__u64) : 0;
	if (func_start) {
		for (i = 0; i < DIAG_KSTACK_MAX && i < nr; i++) {
			if (s->ips[i] >= func_start && s->ips[i] < func_end) {
				first = i;
				break;
			}
		}
	}
	st->nr = nr - first;
	st->reserved = 0;
	/*
	 * One copy from a variable start: the upper half of s->ips is never
	 * written and bpf_get_stack() zeroes what it does not fill, so the
	 * frames past the stack read as zero.
	 */
	if (bpf_probe_read_kernel(st->ips, sizeof(st->ips),
				  &s->ips[first & (DIAG_KSTACK_MAX - 1)]))
		st->nr = 0;
}

/*
 * The user registers saved when the task last entered the kernel, and up
 * to @want bytes of its stack from the user sp, page by page so that the
 * copy ends at the first page that is not present with what came before
 * kept, as diag_capture_user_stack() does.  Returns the bytes copied.
 */
static __always_inline __u32 capture_ustack(struct kp_scratch *s,
					    struct task_struct *tsk,
					    struct mm_struct *mm, __u32 want)
{
	struct diag_user_stack *us = &s->r.ustack;
	__u64 sp, copied = 0;
	struct pt_regs *regs;
	__u32 i;

	regs = (struct pt_regs *)bpf_task_pt_regs(tsk);
	if (!regs)
		return 0;
	us->regs[DIAG_UREG_AX] = regs->ax;
	us->regs[DIAG_UREG_DX] = regs->dx;
	us->regs[DIAG_UREG_CX] = regs->cx;
	us->regs[DIAG_UREG_BX] = regs->bx;
	us->regs[DIAG_UREG_SI] = regs->si;
	us->regs[DIAG_UREG_DI] = regs->di;
	us->regs[DIAG_UREG_BP] = regs->bp;
	us->regs[DIAG_UREG_SP] = regs->sp;
	us->regs[DIAG_UREG_R8] = regs->r8;
	us->regs[DIAG_UREG_R9] = regs->r9;
	us->regs[DIAG_UREG_R10] = regs->r10;
	us->regs[DIAG_UREG_R11] = regs->r11;
	us->regs[DIAG_UREG_R12] = regs->r12;
	us->regs[DIAG_UREG_R13] = regs->r13;
	us->regs[DIAG_UREG_R14] = regs->r14;
	us->regs[DIAG_UREG_R15] = regs->r15;
	us->regs[DIAG_UREG_IP] = regs->ip;
	us->flags = DIAG_USTACK_VALID;
	/* x86 gives every mm a ctx_id never reused, as diag_mm_key() uses */
	us->mm_key = BPF_CORE_READ(mm, context.ctx_id);
	/*
	 * user_64bit_mode(): cs is an unsigned long before 6.9 and a u16 in
	 * a union since (FRED); the low 16 bits are the selector in both.
	 */
	if ((__u16)BPF_CORE_READ(regs, cs) != KP_USER_CS) {
		us->flags |= DIAG_USTACK_COMPAT;
		return 0;
	}
	sp = regs->sp;
	us->sp = sp;
	for (i = 0; i < KP_USTACK_CHUNKS; i++) {
		__u64 addr = sp + copied, chunk;

		if (copied >= want)
			break;
		chunk = KP_PAGE - (addr & (KP_PAGE - 1));
		if (chunk > want - copied)
			chunk = want - copied;
		/*
		 * No-ops (want <= KP_USTACK_MAX, chunk <= KP_PAGE) that the
		 * verifier needs on the very registers passed to the helper.
		 */
		barrier_var(copied);
		if (copied > KP_USTACK_MAX)
			break;
		chunk &= 2 * KP_PAGE - 1;
		barrier_var(chunk);
		if (chunk > KP_PAGE)
			break;
		if (bpf_probe_read_user(&s->stack[copied], chunk, (void *)addr)) {
			us->flags |= DIAG_USTACK_FAULTED;
			break;
		}
		copied += chunk;
	}
	us->len = copied;
	return copied;
}

/*
 * @irq_known: the program reads the preempt count.  Its variable must be
 * in kallsyms for the kernel to load such a program (CONFIG_KALLSYMS_ALL);
 * where it is not, the CLI loads the _noirq programs, whose hits never
 * say they were in an interrupt.
 */
static __always_inline void kp_hit(void *ctx, bool irq_known)
{
	struct task_struct *tsk = bpf_get_current_task_btf();
	struct diag_kprobe_record *r;
	struct mm_struct *mm;
	struct kp_scratch *s;
	__u32 cpu, len = 0, size, k;
	bool kthread;

	if (!filter_match(tsk))
		return;
	cpu = bpf_get_smp_processor_id();
	if (!cpu_watched(cpu))
		return;
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s) {
		count_lost();
		return;
	}
	r = &s->r;
	r->pid = tsk->pid;
	r->tgid = tsk->tgid;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), &tsk->comm);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	/* the path is resolved later, in user space, as the module's is */
	r->cgroup_id = bpf_get_current_cgroup_id();
	kthread = tsk->flags & DIAG_PF_KTHREAD;
	r->flags = (kthread ? DIAG_KPROBE_KTHREAD : 0) |
		   (irq_known && probed_in_interrupt() ? DIAG_KPROBE_IN_IRQ : 0);
	__builtin_memset(r->chain, 0, sizeof(r->chain));
	r->nr_chain = capture_chain(r->chain, tsk);
	capture_kstack(ctx, s);
	__builtin_memset(&r->ustack, 0, sizeof(r->ustack));
	/* a kthread may borrow an mm (kthread_use_mm); it has no user stack */
	mm = tsk->mm;
	if (mm && !kthread)
		len = capture_ustack(s, tsk, mm, ustack_bytes);

	/* always true: for the verifier, which indexes the stack with it */
	if (len > KP_USTACK_MAX)
		len = KP_USTACK_MAX;
	barrier_var(len);
	/* the record's padding to 8 bytes is zero, as the module's is */
#pragma unroll
	for (k = 0; k < 7; k++)
		s->stack[len + k] = 0;
	size = sizeof(*r) + ((len + 7) & ~7U);
	fill_header(&r->hdr, DIAG_REC_KPROBE, size);
	barrier_var(size);
	if (size > sizeof(*r) + KP_USTACK_MAX)
		size = sizeof(*r) + KP_USTACK_MAX;
	if (bpf_ringbuf_output(&records, s, size, 0))
		count_lost();
}

SEC("fentry")
int BPF_PROG(on_fentry)
{
	kp_hit(ctx, true);
	return 0;
}

SEC("kprobe")
int on_kprobe(struct pt_regs *ctx)
{
	kp_hit(ctx, true);
	return 0;
}

SEC("fentry")
int BPF_PROG(on_fentry_noirq)
{
	kp_hit(ctx, false);
	return 0;
}

SEC("kprobe")
int on_kprobe_noirq(struct pt_regs *ctx)
{
	kp_hit(ctx, false);
	return 0;
}
