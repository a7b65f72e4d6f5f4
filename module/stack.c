// SPDX-License-Identifier: GPL-2.0
/*
 * Stack capture shared by every stack-bearing function.
 */
#include <linux/kernel.h>
#include <linux/stacktrace.h>
#include "stack.h"

void diag_capture_kernel_stack(struct diag_kernel_stack *stack,
			       unsigned int skip)
{
	unsigned long entries[DIAG_KSTACK_MAX];
	unsigned int i;

	/* stack_trace_save() wants unsigned long; the ABI wants __u64 */
	stack->nr = stack_trace_save(entries, DIAG_KSTACK_MAX, skip);
	stack->reserved = 0;
	for (i = 0; i < stack->nr; i++)
		stack->ips[i] = entries[i];
	for (; i < DIAG_KSTACK_MAX; i++)
		stack->ips[i] = 0;
}
