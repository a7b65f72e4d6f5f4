/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stack capture shared by every stack-bearing function.
 */
#ifndef DIAG_STACK_H
#define DIAG_STACK_H

#include "../uapi/diagnose.h"

/*
 * Capture the current kernel stack with the kernel's own unwinder, skipping
 * @skip innermost frames (the probe machinery).  Safe in any context a
 * probe runs in; no allocation, no locks.
 */
void diag_capture_kernel_stack(struct diag_kernel_stack *stack,
			       unsigned int skip);

#endif /* DIAG_STACK_H */
