/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why a task migrated: which scheduler path called set_task_cpu().
 * Shared by migrate-image and the light-weight migration trace.
 */
#ifndef DIAG_MIGRATE_CAUSE_H
#define DIAG_MIGRATE_CAUSE_H

#include <linux/sched.h>
#include "../uapi/diagnose.h"

void diag_migrate_cause_init(void);

/*
 * Classify the migration of @p to @dest_cpu that is in progress: call
 * from the sched_migrate_task tracepoint only, on the CPU doing the move.
 * Returns an enum diag_migrate_cause; *@caller gets the kernel address of
 * the frame that decided, or of set_task_cpu()'s caller when none is
 * known.  Several probes of one migration share one stack walk.
 */
u32 diag_migrate_cause(struct task_struct *p, u32 dest_cpu,
		       unsigned long *caller);

/* DIAG_MIGRATE_* flags that describe @p at the move. */
u32 diag_migrate_flags(struct task_struct *p);

/* Printable name of a cause ("unknown" when out of range). */
const char *diag_migrate_cause_name(u32 cause);

#endif /* DIAG_MIGRATE_CAUSE_H */
