/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The migration trace on BPF (bpf/migration_trace.bpf.c): what its program
 * and the CLI (cli/src/bpf_backend/bpf_migration_trace.cpp) share, the
 * layout of its maps.  Not an ABI with anything else: both halves are
 * built together, and a trace lives no longer than the pins of the CLI
 * that made it.
 */
#ifndef DIAG_MIGRATION_TRACE_ABI_H
#define DIAG_MIGRATION_TRACE_ABI_H

/* mt_control.state */
enum {
	DIAG_MTB_LOADED		= 0,	/* attached, not recording yet */
	DIAG_MTB_STARTING	= 1,	/* only start_sched_clock events */
	DIAG_MTB_RUNNING	= 2,
	DIAG_MTB_STOPPED	= 3,	/* by the CLI */
	DIAG_MTB_FULL		= 4,	/* a CPU's buffer filled: stopped itself */
};

/*
 * The one control word of a trace, in an mmapable array so that the CLI
 * changes the state with the same atomic operations as the programs: a
 * stop by the CLI and a buffer filling at the same moment cannot undo
 * each other.
 */
struct diag_mt_control {
	/* 64 bits: BPF's atomics before -mcpu=v3 take no narrower word */
	__u64 state;
	__s64 full_cpu;		/* -1, or the first CPU whose buffer filled */
	__u64 full_ts;		/* CLOCK_MONOTONIC ns: when it filled */
	__u64 start_ts;		/* set by the CLI */
	__u64 stop_ts;
	__u32 buffer_kib;	/* per CPU */
	__u32 nr_cpus;		/* possible CPUs: buffers */
	__u64 slots_per_cpu;
	/* the programs' calls the kernel skipped (recursion), read by the
	 * CLI before their links went: reported as skipped_calls */
	__u64 misses;
	/*
	 * 1 while the moves the kernel made without calling the programs
	 * count as lost: set by the CLI once its task iterator has every
	 * task's count current after start_ts, cleared once its last check
	 * after the stop is done (before the programs go, one by one)
	 */
	__u64 count_gaps;
};

/* Per CPU: slots claimed, slots written, events that found no slot. */
struct diag_mt_cpu {
	__u64 next;
	__u64 done;
	__u64 lost;
};

/* mt_event.kind beyond the causes and the DIAG_MT_* kinds */
#define DIAG_MTB_KIND_START	0xffff	/* start_sched_clock */

/*
 * One event: 32 bytes, the size of the module's migration record.  The
 * CPU is that of the buffer holding it; ts_ns 0 is a slot that was
 * claimed and not written (never a real time).
 */
struct diag_mt_event {
	__u64 ts_ns;
	__u32 kind;		/* cause, DIAG_MT_* kind or DIAG_MTB_KIND_START */
	__s32 pid;
	union {
		struct {
			__u32 orig_cpu;
			__u32 dest_cpu;
		} move;
		__u64 mark;
		char comm[16];	/* DIAG_COMM_LEN, NUL-terminated */
		struct {
			__s64 sec;	/* gettimeofday at the start */
			__u32 usec;
			__u32 reserved;
		} start;
	};
};

/* the control program's operations (BPF_PROG_TEST_RUN, ctx args[0]) */
enum {
	DIAG_MTB_OP_START	= 1,	/* args[1] sec, args[2] usec */
	DIAG_MTB_OP_MARK	= 2,	/* args[1] the mark */
	DIAG_MTB_OP_TASK	= 3,	/* task_list: args[1] tid, args[2..3] name */
};

/* what it returns */
enum {
	DIAG_MTB_RET_OK		= 0,
	DIAG_MTB_RET_NOT_RUNNING = 1,	/* nothing recorded */
	DIAG_MTB_RET_FULL	= 2,	/* the buffer filled: counted lost */
	DIAG_MTB_RET_BAD_OP	= 3,
};

#endif /* DIAG_MIGRATION_TRACE_ABI_H */
