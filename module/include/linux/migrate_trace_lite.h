/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API of the light-weight migration trace in diagnose.ko
 * (/sys/kernel/debug/migration_trace/, docs/migration-trace.md).
 *
 * Build against it with -I<diagnose-tools>/module/include and
 * KBUILD_EXTRA_SYMBOLS=<diagnose-tools>/module/Module.symvers; the module
 * that calls these keeps diagnose.ko loaded.
 */
#ifndef _LINUX_MIGRATE_TRACE_LITE_H
#define _LINUX_MIGRATE_TRACE_LITE_H

/*
 * Start (@enable 1) or stop (@enable 0) the trace, as writing the enable
 * file does.  A start is refused with -EEXIST while the buffer holds a
 * trace, unless @allow_restart: the trace then goes on after a gap that
 * the analysis tools cannot see, so only ask for it knowingly.  Other
 * refusals: -EALREADY (already tracing), -ENOSPC (restart of a trace whose
 * buffer filled), -ENOMEM, -EINVAL (@enable not 0 or 1).  May sleep.
 * Returns 0 on success.
 */
int mt_trace_enable(int enable, int allow_restart);

/*
 * Add a mark event labelled @mark (any value; unique values make good
 * begin/end filters).  Ignored while not tracing.  Any context but NMI.
 */
void mt_trace_mark(unsigned long mark);

#endif /* _LINUX_MIGRATE_TRACE_LITE_H */
