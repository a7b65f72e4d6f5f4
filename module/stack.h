/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stack capture shared by every stack-bearing function: the kernel stack,
 * the user registers with a bounded copy of the user stack (unwound later
 * by the CLI), and the process chain.  Everything here is safe in any
 * context a probe runs in but NMI: no allocation, no locks, no sleeping.
 */
#ifndef DIAG_STACK_H
#define DIAG_STACK_H

#include <linux/types.h>
#include <linux/ptrace.h>
#include "../uapi/diagnose.h"

/*
 * Capture the current kernel stack with the kernel's own unwinder, skipping
 * @skip innermost frames (the probe machinery).
 */
void diag_capture_kernel_stack(struct diag_kernel_stack *stack,
			       unsigned int skip);

/*
 * Capture the kernel stack of the context a kprobe interrupted, with the
 * kernel's unwinder, from @regs as they were at the probed instruction
 * @addr (which has not run yet: a kprobe's regs say addr + 1 after its
 * breakpoint, and unwinding from there would take the stack layout after
 * that instruction, wrong when it is the push of a prologue).  Needs
 * diag_stack_init(); without stack_trace_save_regs() (not exported, looked
 * up by name) it falls back to the current stack with the probe machinery
 * dropped: the frames before the first one in [@func, @func + @size), the
 * probed function.
 */
void diag_capture_kernel_stack_regs(struct diag_kernel_stack *stack,
				    const struct pt_regs *regs,
				    unsigned long addr,
				    unsigned long func, unsigned long size);

/* Process context, before probes that use the _regs capture are armed. */
void diag_stack_init(void);

/*
 * Save current's user registers (as of its last entry into the kernel) and
 * copy up to @max_len bytes of its user stack, from the user stack pointer
 * up, into @buf.  Pages that are not present end the copy; nothing faults
 * in.  Kernel threads get an empty stack (flags 0).  Returns the bytes
 * copied (@us->len).
 */
u32 diag_capture_user_stack(struct diag_user_stack *us, void *buf,
			    u32 max_len);

/*
 * current's process and its ancestors up to init, nearest first, at most
 * @max of them.  Returns how many were written.
 */
u32 diag_capture_process_chain(struct diag_process_link *links, u32 max);

#endif /* DIAG_STACK_H */
