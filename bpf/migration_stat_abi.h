/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The migration stat on BPF (bpf/migration_stat.bpf.c): what its program
 * and the CLI (cli/src/bpf_backend/bpf_migration_stat.cpp) share, the
 * layout of its maps.  Not an ABI with anything else: both halves are
 * built together, and a stat lives no longer than the pins of the CLI
 * that made it.
 */
#ifndef DIAG_MIGRATION_STAT_ABI_H
#define DIAG_MIGRATION_STAT_ABI_H

/* the counts of one period: every cause, then fork placements */
#define DIAG_MS_NR_FIELDS	(DIAG_NR_CAUSES + 1)
#define DIAG_MS_FORK_FIELD	DIAG_NR_CAUSES

/* ms_control.state */
enum {
	DIAG_MSB_LOADED		= 0,	/* attached, not counting yet */
	DIAG_MSB_RUNNING	= 1,
	DIAG_MSB_STOPPED	= 2,	/* by the CLI */
	DIAG_MSB_FULL		= 3,	/* time ran past the last period */
};

/*
 * The control word of a stat, in an mmapable array: the CLI and the
 * programs change the state with the same atomic operations, so a stop
 * and the stat filling at the same moment cannot undo each other.
 */
struct diag_ms_control {
	__u64 state;
	__u64 start_ts;		/* CLOCK_MONOTONIC ns, set before running */
	__u64 stop_ts;		/* the stop, or the end of the last period */
	__s64 start_sec;	/* gettimeofday at the start */
	__u32 start_usec;
	__u32 nr_cpus;		/* possible CPUs: count arrays */
	__u32 period_msec;
	__u32 hours;
	__u64 periods;		/* per CPU: hours * 3600 */
	/* moves the kernel made that no program saw (move_gap.bpf.h) */
	__u64 lost;
	/* the programs' calls the kernel skipped, read by the CLI before
	 * their links went: counted lost too */
	__u64 misses;
};

/*
 * One CPU's counts for one period; ms_counts holds nr_cpus * periods of
 * them, CPU by CPU.  An even number of words: an array map's elements
 * are 8-byte aligned, and the CLI reads the array through a mapping.
 */
struct diag_ms_period {
	__u32 count[(DIAG_MS_NR_FIELDS + 1) & ~1];
};

#endif /* DIAG_MIGRATION_STAT_ABI_H */
