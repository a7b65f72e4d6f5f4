// SPDX-License-Identifier: GPL-2.0
/*
 * Stack capture shared by every stack-bearing function.
 */
#include <linux/kernel.h>
#include <linux/stacktrace.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/rcupdate.h>
#include <linux/uaccess.h>
#include <linux/mm.h>
#include <asm/ptrace.h>
#include "stack.h"
#include "ksyms.h"
#include "task_maps.h"

void diag_capture_kernel_stack(struct diag_kernel_stack *stack,
			       unsigned int skip)
{
	unsigned int i;

	/* saved in place: the ABI's __u64 is the kernel's unsigned long */
	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(stack->ips[0]));
	stack->nr = stack_trace_save((unsigned long *)stack->ips,
				     DIAG_KSTACK_MAX, skip);
	stack->reserved = 0;
	for (i = stack->nr; i < DIAG_KSTACK_MAX; i++)
		stack->ips[i] = 0;
}

typedef unsigned int (*save_regs_fn)(struct pt_regs *regs,
				     unsigned long *store, unsigned int size,
				     unsigned int skipnr);
static save_regs_fn save_regs;

void diag_stack_init(void)
{
	unsigned long addr;

	if (READ_ONCE(save_regs))
		return;
	addr = diag_ksym_addr("stack_trace_save_regs");
	/* called indirectly: only where that cannot fault (IBT) */
	if (diag_ksym_callable(addr))
		WRITE_ONCE(save_regs, (save_regs_fn)addr);
}

static void capture_at(struct diag_kernel_stack *stack, unsigned long func,
		       unsigned long size)
{
	unsigned int i, from;

	diag_capture_kernel_stack(stack, 0);
	for (from = 0; from < stack->nr; from++)
		if (stack->ips[from] - func < size)
			break;
	if (from == stack->nr || from == 0)
		return;
	for (i = from; i < stack->nr; i++)
		stack->ips[i - from] = stack->ips[i];
	stack->nr -= from;
	for (i = stack->nr; i < DIAG_KSTACK_MAX; i++)
		stack->ips[i] = 0;
}

void diag_capture_kernel_stack_regs(struct diag_kernel_stack *stack,
				    const struct pt_regs *regs,
				    unsigned long addr,
				    unsigned long func, unsigned long size)
{
	save_regs_fn fn = READ_ONCE(save_regs);
	struct pt_regs at;
	unsigned int i;

	if (!fn) {
		capture_at(stack, func, size);
		return;
	}
	at = *regs;
	instruction_pointer_set(&at, addr);
	stack->nr = fn(&at, (unsigned long *)stack->ips, DIAG_KSTACK_MAX, 0);
	stack->reserved = 0;
	for (i = stack->nr; i < DIAG_KSTACK_MAX; i++)
		stack->ips[i] = 0;
}

static void save_user_regs(u64 *r, const struct pt_regs *regs)
{
	r[DIAG_UREG_AX] = regs->ax;
	r[DIAG_UREG_DX] = regs->dx;
	r[DIAG_UREG_CX] = regs->cx;
	r[DIAG_UREG_BX] = regs->bx;
	r[DIAG_UREG_SI] = regs->si;
	r[DIAG_UREG_DI] = regs->di;
	r[DIAG_UREG_BP] = regs->bp;
	r[DIAG_UREG_SP] = regs->sp;
	r[DIAG_UREG_R8] = regs->r8;
	r[DIAG_UREG_R9] = regs->r9;
	r[DIAG_UREG_R10] = regs->r10;
	r[DIAG_UREG_R11] = regs->r11;
	r[DIAG_UREG_R12] = regs->r12;
	r[DIAG_UREG_R13] = regs->r13;
	r[DIAG_UREG_R14] = regs->r14;
	r[DIAG_UREG_R15] = regs->r15;
	r[DIAG_UREG_IP] = regs->ip;
}

u32 diag_capture_user_stack(struct diag_user_stack *us, void *buf,
			    u32 max_len)
{
	struct task_struct *p = current;
	struct mm_struct *mm = READ_ONCE(p->mm);
	const struct pt_regs *regs;
	unsigned long sp;
	u32 copied = 0;

	memset(us, 0, sizeof(*us));
	/* a kthread may borrow an mm (kthread_use_mm); it has no user stack */
	if (!mm || (p->flags & PF_KTHREAD))
		return 0;
	/*
	 * The registers saved at the top of the kernel stack when the task
	 * last entered the kernel: from user mode by definition, also when
	 * this probe runs in an interrupt that came in over a syscall.
	 */
	regs = task_pt_regs(p);
	save_user_regs(us->regs, regs);
	us->flags = DIAG_USTACK_VALID;
	us->mm_key = diag_mm_key(mm);
	if (!user_64bit_mode((struct pt_regs *)regs)) {
		us->flags |= DIAG_USTACK_COMPAT;
		return 0;
	}
	sp = regs->sp;
	us->sp = sp;
	/*
	 * Page by page, so that the copy ends at the first page that is not
	 * present (the top of the stack mapping, or swapped out) with what
	 * came before it kept.  copy_from_user_nofault() never sleeps.
	 */
	while (copied < max_len) {
		unsigned long addr = sp + copied;
		u32 chunk = min_t(unsigned long, max_len - copied,
				  PAGE_SIZE - offset_in_page(addr));

		if (copy_from_user_nofault(buf + copied,
					   (const void __user *)addr, chunk)) {
			us->flags |= DIAG_USTACK_FAULTED;
			break;
		}
		copied += chunk;
	}
	us->len = copied;
	return copied;
}

u32 diag_capture_process_chain(struct diag_process_link *links, u32 max)
{
	struct task_struct *t;
	u32 n = 0;

	/* task_structs are freed after a grace period; parents may change */
	rcu_read_lock();
	t = READ_ONCE(current->group_leader);
	while (n < max) {
		struct diag_process_link *l = &links[n++];

		l->pid = t->tgid;
		/* a torn name (concurrent rename) is still terminated */
		memcpy(l->comm, t->comm, DIAG_COMM_LEN);
		l->comm[DIAG_COMM_LEN - 1] = '\0';
		l->reserved = 0;
		/* init (1), or the idle task / kthreadd's parent (0) */
		if (t->tgid <= 1)
			break;
		t = rcu_dereference(t->real_parent);
		t = READ_ONCE(t->group_leader);
	}
	rcu_read_unlock();
	return n;
}
