/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel symbols that are not exported to modules: where they are, and
 * whether one may be called.  This is the only place that reaches past
 * the exported interface, and it never calls an unexported function
 * itself: addresses come from the kprobe core (which resolves names for
 * any probeable function), sizes and offsets from sprint_symbol().
 */
#ifndef DIAG_KSYMS_H
#define DIAG_KSYMS_H

#include <linux/types.h>

/*
 * Start address and size of the kernel function @name, or 0 (the
 * function does not exist, is not probeable, or lookups are off).
 * Process context: it may sleep.
 */
unsigned long diag_ksym_addr(const char *name);

/* The same for @n names at once (one grace period); 0 or -ENOMEM. */
int diag_ksym_addrs(const char *const *names, unsigned long *addrs,
		    unsigned int n);

/* Size of the symbol containing @addr, or 0 when unknown. */
unsigned long diag_ksym_size(unsigned long addr);

/*
 * Whether an indirect call to the function at @addr is safe: always on
 * kernels without indirect branch tracking (IBT) at run time; with IBT,
 * only when the function starts with an ENDBR64 that the kernel did not
 * seal (it seals the ENDBR of functions it never calls indirectly, and an
 * indirect call to one of them is a control-protection fault).  False
 * with the module parameter unexported_calls=0.
 */
bool diag_ksym_callable(unsigned long addr);

#endif /* DIAG_KSYMS_H */
