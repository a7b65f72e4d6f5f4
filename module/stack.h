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
#include "../uapi/diagnose.h"

/*
 * Capture the current kernel stack with the kernel's own unwinder, skipping
 * @skip innermost frames (the probe machinery).
 */
void diag_capture_kernel_stack(struct diag_kernel_stack *stack,
			       unsigned int skip);

/*
 * Capture the current kernel stack from inside a probe on the function at
 * [@func, @func + @size): frames of the probe machinery before the first
 * frame in that function are dropped, so the stack starts at the probed
 * function.  When no frame lies in it, nothing is dropped.
 */
void diag_capture_kernel_stack_at(struct diag_kernel_stack *stack,
				  unsigned long func, unsigned long size);

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
