/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The light-weight migration trace facility: migration_trace/ (every
 * migration in detail, migration_trace.c) and migration_stat/ (counts per
 * period for days, migration_stat.c), fed by one set of probes
 * (migration_lite.c) so that an event classified for one is classified
 * once for both and carries the same timestamp in both.
 *
 * Locking: each facility has a mutex that serialises its control files,
 * its readers and its kernel API; the probes take no lock.  A facility
 * holds one reference on the probes while it may record; when it stops
 * itself from probe context (buffer full) it cannot detach there, so it
 * asks for a settle: an irq_work that schedules a work item that drops the
 * reference in process context.
 */
#ifndef DIAG_MIGRATION_LITE_H
#define DIAG_MIGRATION_LITE_H

#include <linux/types.h>
#include <linux/sched.h>
#include <asm/barrier.h>
#include "../uapi/diagnose.h"

/* module init/exit (main.c) */
int diag_mlite_init(void);
void diag_mlite_exit(void);

/* Attach the probes on first use, detach on last put (may sleep). */
int mlite_probes_get(void);
void mlite_probes_put(void);
/* From any context but NMI: run mtrace_settle() and mstat_settle() soon. */
void mlite_settle_later(void);

/*
 * The number written to one of the control files: the whole write must be
 * the number (base as kstrtou64(); an optional trailing newline), else
 * -EINVAL, the errno docs/migration-trace.md gives for garbage; -EFAULT
 * when the buffer is not readable.
 */
int mlite_parse_write(const char __user *ubuf, size_t count, unsigned int base,
		      u64 *val);

/* migration_trace.c */
int mtrace_init(void);
void mtrace_exit(void);
void mtrace_settle(void);
extern bool mtrace_on;	/* probes record into the trace */
static inline bool mtrace_recording(void)
{
	/* pairs with the release in mtrace_start(): the buffer is ready */
	return smp_load_acquire(&mtrace_on);
}
void mtrace_record_move(struct task_struct *p, u32 orig_cpu, u32 dest_cpu,
		    u32 kind, u64 ts_ns);
void mtrace_record_comm(struct task_struct *p, const char *comm, u32 kind);

/* migration_stat.c */
int mstat_init(void);
void mstat_exit(void);
void mstat_settle(void);
extern bool mstat_on;	/* probes count into the stat */
static inline bool mstat_recording(void)
{
	/* pairs with the release in mstat_start(): counters are ready */
	return smp_load_acquire(&mstat_on);
}
/* @field: a cause number, or MSTAT_FIELD_FORK for a fork placement */
void mstat_count(u32 field, u64 ts_ns);
#define MSTAT_FIELD_FORK	DIAG_NR_CAUSES

#endif /* DIAG_MIGRATION_LITE_H */
