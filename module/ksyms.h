/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lookups of kernel symbols that are not exported to modules.  This is
 * the only place that reaches past the exported interface.
 */
#ifndef DIAG_KSYMS_H
#define DIAG_KSYMS_H

#include <linux/types.h>

void diag_ksyms_init(void);

/* Address of a kernel symbol by name, or 0 (also when lookups are unavailable). */
unsigned long diag_ksym_addr(const char *name);

/* Size of the symbol containing @addr, or 0 when unknown. */
unsigned long diag_ksym_size(unsigned long addr);

#endif /* DIAG_KSYMS_H */
