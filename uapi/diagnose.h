/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * diagnose.h - the ioctl ABI between diagnose.ko and diagnose-tools.
 *
 * This is the only definition of the ABI; the module and the CLI both
 * include it.  Rules that keep it stable:
 *   - fixed-width types only, explicit padding, 8-byte aligned structs;
 *   - no kernel layouts and no pointers: user addresses travel as __u64;
 *   - every call carries DIAG_ABI_VERSION; any incompatible change to a
 *     struct below bumps it.  struct diag_version and DIAG_IOC_VERSION never
 *     change, so a CLI can always tell which ABI a loaded module speaks.
 */
#ifndef _UAPI_DIAGNOSE_H
#define _UAPI_DIAGNOSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#elif defined(__bpf__)
/* the BPF programs (bpf/) take __u32 and friends from vmlinux.h */
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#endif

#define DIAG_DEVICE_NAME	"diagnose"	/* /dev/diagnose */
#define DIAG_ABI_VERSION	1
#define DIAG_IOC_MAGIC		0xDA
#define DIAG_COMM_LEN		16		/* TASK_COMM_LEN */
#define DIAG_MSG_LEN		120

/*
 * Functions: one per diagnosis feature.  Numbers are ABI; never reuse one.
 */
enum diag_function_id {
	DIAG_FN_MIGRATE_IMAGE	= 1,
	DIAG_FN_KPROBE		= 2,
	DIAG_FN_KEYTIME_IMAGE	= 3,
	DIAG_FN_RESOURCE_IMAGE	= 4,
	DIAG_FN_MAX		= 63,
};

/* Verbs: what every function can be asked to do. */
enum diag_verb {
	DIAG_VERB_ACTIVATE	= 0,	/* arg: the function's settings struct */
	DIAG_VERB_DEACTIVATE	= 1,	/* arg: none (0, size 0) */
	DIAG_VERB_SETTINGS	= 2,	/* arg: the function's settings struct (out) */
	DIAG_VERB_REPORT	= 3,	/* arg: struct diag_report */
	DIAG_NR_VERBS		= 4,
};

/*
 * Every function/verb command takes a struct diag_ioc.  The command number
 * is function x verb, so one ioctl type covers every function.
 */
struct diag_ioc {
	__u32 abi_version;	/* in: DIAG_ABI_VERSION */
	__u32 arg_size;		/* in: size of the struct at arg */
	__u64 arg;		/* in: user address of the verb's struct */
	char msg[DIAG_MSG_LEN];	/* out: one line saying why a call failed */
};

#define DIAG_IOC_NR(fn, verb)	(((fn) << 2) | (verb))
#define DIAG_IOC(fn, verb) \
	_IOWR(DIAG_IOC_MAGIC, DIAG_IOC_NR(fn, verb), struct diag_ioc)
#define DIAG_IOC_FN(nr)		((nr) >> 2)
#define DIAG_IOC_VERB(nr)	((nr) & 3)

/* The ABI-version query: number 0 is function 0, which does not exist. */
struct diag_version {
	__u32 abi_version;	/* out: DIAG_ABI_VERSION of the module */
	__u32 nr_cpu_ids;	/* out: number of possible CPU ids */
	__u64 functions;	/* out: bit N set if function N is built in */
	char module_version[48];/* out: NUL-terminated */
};
#define DIAG_IOC_VERSION	_IOR(DIAG_IOC_MAGIC, 0, struct diag_version)

/*
 * Settings common to every function; each function's settings struct
 * starts with it.  Zero means "not set" for the filters: a task is watched
 * when it matches every filter that is set.
 */
#define DIAG_VERBOSE_MAX	9

struct diag_common_settings {
	__u32 activated;	/* out: 1 while the function is active */
	__u32 verbose;		/* 0..DIAG_VERBOSE_MAX */
	__s32 tgid;		/* process (thread group) id */
	__s32 pid;		/* thread id */
	char comm[DIAG_COMM_LEN];/* task name, NUL-padded */
	__u32 buf_kib;		/* per-CPU ring buffer; 0 = default */
	__u32 reserved;		/* must be 0 */
};

/*
 * buf_kib 0 asks the module for its default: DIAG_BUF_KIB_DEFAULT per CPU,
 * less on machines where that would take more than 1/64 of RAM in all,
 * never less than DIAG_BUF_KIB_DEFAULT_MIN.  --settings shows the size used.
 */
#define DIAG_BUF_KIB_DEFAULT	4096
#define DIAG_BUF_KIB_DEFAULT_MIN 256
#define DIAG_BUF_KIB_MAX	262144	/* 256 MiB per CPU */

struct diag_migrate_image_settings {
	struct diag_common_settings common;
};

/*
 * Report: drain buffered records into buf, merged across CPUs in
 * timestamp order.  Records that do not fit stay buffered for the next
 * call.  Draining removes what was copied.
 */
struct diag_report {
	__u64 buf;		/* in: user address */
	__u32 buf_len;		/* in */
	__u32 flags;		/* in: 0 */
	__u32 bytes;		/* out: bytes written to buf */
	__u32 records;		/* out: records written */
	__u64 lost;		/* out: records lost since activate, all CPUs */
	__u32 more;		/* out: 1 if records remain buffered */
	__u32 nr_cpus;		/* out: CPUs with a buffer */
	__s64 real_minus_mono_ns;/* out: CLOCK_REALTIME - CLOCK_MONOTONIC */
};

/*
 * Records.  Every record starts with this header; size covers the header
 * and is a multiple of 8.  Timestamps are CLOCK_MONOTONIC nanoseconds.
 */
struct diag_record_header {
	__u32 size;
	__u16 type;
	__u16 cpu;		/* CPU that wrote the record */
	__u64 ts_ns;
};

enum diag_record_type {
	DIAG_REC_PAD		= 0,	/* internal to the ring; never reported */
	DIAG_REC_LOST		= 1,	/* struct diag_lost_record */
	DIAG_REC_MIGRATE	= 2,	/* struct diag_migrate_record */
	/* reserved for the functions that follow; numbers are ABI */
	DIAG_REC_KPROBE		= 3,	/* kprobe hit */
	DIAG_REC_KEYTIME	= 4,	/* keytime-image event */
	DIAG_REC_RESOURCE	= 5,	/* resource-image sample */
	DIAG_REC_TASK_MAPS	= 6,	/* user mappings of a process (stacks) */
};

/* Records a CPU could not store because its buffer was full. */
struct diag_lost_record {
	struct diag_record_header hdr;
	__u64 count;		/* lost on hdr.cpu since the previous report */
};

/*
 * Why the scheduler moved a task: which path called set_task_cpu().
 * Names follow the functions of a 6.1 kernel; where the light-weight
 * migration trace of older kernels had a name for the same path, that
 * name is kept.  X(ENUM, number, "name", "what it means"); numbers are ABI.
 * Both halves build their name tables from this one list.
 */
#define DIAG_MIGRATE_CAUSES(X)						\
	X(UNKNOWN,	   0, "unknown",	"no known scheduler path on the stack") \
	X(TRY_TO_WAKE_UP,  1, "try_to_wake_up",	"wakeup placement (select_task_rq)") \
	X(PULL_TASK,	   2, "pull_task",	"load balancing: load_balance/detach_task") \
	X(PULL_ONE_TASK,   3, "pull_one_task",	"active load balancing (active_load_balance_cpu_stop)") \
	X(MIGRATE_TASK,	   4, "__migrate_task",	"affinity change or migrate_enable (stopper or direct move)") \
	X(PUSH_RT_TASK,	   5, "push_rt_task",	"RT push to a CPU running lower priority") \
	X(PULL_RT_TASK,	   6, "pull_rt_task",	"RT pull by a CPU lowering its priority") \
	X(SCHED_FORK,	   7, "sched_fork",	"placement of a new task (wake_up_new_task)") \
	X(PUSH_DL_TASK,	   8, "push_dl_task",	"deadline push") \
	X(PULL_DL_TASK,	   9, "pull_dl_task",	"deadline pull") \
	X(MIGRATE_SWAP,	  10, "migrate_swap",	"NUMA balancing: two tasks swapped (migrate_swap_stop)") \
	X(PUSH_CPU_STOP,  11, "push_cpu_stop",	"RT/DL push of a migrate-disabled task via the stopper") \
	X(BALANCE_PUSH,	  12, "balance_push",	"CPU hotplug: pushed off a CPU going down") \
	X(SCHED_EXEC,	  13, "sched_exec",	"exec balancing (sched_exec via the stopper)") \
	X(MIGRATE_TASK_TO,14, "migrate_task_to","NUMA balancing: moved to its preferred node")

enum diag_migrate_cause {
#define DIAG_CAUSE_ENUM(e, n, name, desc) DIAG_CAUSE_##e = n,
	DIAG_MIGRATE_CAUSES(DIAG_CAUSE_ENUM)
#undef DIAG_CAUSE_ENUM
	DIAG_NR_CAUSES
};

/*
 * The kernel functions that decide a migration, and the cause each stands
 * for: a migration's cause is that of the first return address, nearest
 * frame first, that lies inside one of them (the walk starts below
 * set_task_cpu()).  Helpers shared by several deciders (detach_task(),
 * move_queued_task(), __migrate_task()) are deliberately absent, so the
 * walk passes them and reaches the function that made the decision.
 * Several deciders are inlined into their callers on some builds
 * (detach_one_task() into active_load_balance_cpu_stop(), ...), so the
 * table names both; names a kernel does not have are skipped.  Two
 * entries are marks, not causes: set_task_cpu() itself, and the stopper,
 * whose cause is refined from the task (in_execve: sched_exec; source CPU
 * outside its affinity: an affinity change; else NUMA's migrate_task_to).
 * The module resolves the names itself; the BPF backend has the CLI
 * resolve them from /proc/kallsyms and hands the ranges to its program.
 * X("symbol", cause).
 */
#define DIAG_CAUSE_SITE_SET_TASK_CPU	0xff
#define DIAG_CAUSE_SITE_STOPPER		0xfe
#define DIAG_CAUSE_WALK_DEPTH		24

#define DIAG_MIGRATE_CAUSE_SITES(X)					\
	X("set_task_cpu",		DIAG_CAUSE_SITE_SET_TASK_CPU)	\
	X("try_to_wake_up",		DIAG_CAUSE_TRY_TO_WAKE_UP)	\
	X("load_balance",		DIAG_CAUSE_PULL_TASK)		\
	/* 6.10 renamed load_balance() to sched_balance_rq() */		\
	X("sched_balance_rq",		DIAG_CAUSE_PULL_TASK)		\
	X("detach_tasks",		DIAG_CAUSE_PULL_TASK)		\
	X("active_load_balance_cpu_stop", DIAG_CAUSE_PULL_ONE_TASK)	\
	X("detach_one_task",		DIAG_CAUSE_PULL_ONE_TASK)	\
	X("migration_cpu_stop",		DIAG_CAUSE_SITE_STOPPER)	\
	X("affine_move_task",		DIAG_CAUSE_MIGRATE_TASK)	\
	X("__set_cpus_allowed_ptr_locked", DIAG_CAUSE_MIGRATE_TASK)	\
	X("push_rt_task",		DIAG_CAUSE_PUSH_RT_TASK)	\
	X("push_rt_tasks",		DIAG_CAUSE_PUSH_RT_TASK)	\
	X("rto_push_irq_work_func",	DIAG_CAUSE_PUSH_RT_TASK)	\
	X("pull_rt_task",		DIAG_CAUSE_PULL_RT_TASK)	\
	X("balance_rt",			DIAG_CAUSE_PULL_RT_TASK)	\
	X("push_dl_task",		DIAG_CAUSE_PUSH_DL_TASK)	\
	X("push_dl_tasks",		DIAG_CAUSE_PUSH_DL_TASK)	\
	X("pull_dl_task",		DIAG_CAUSE_PULL_DL_TASK)	\
	X("balance_dl",			DIAG_CAUSE_PULL_DL_TASK)	\
	X("__migrate_swap_task",	DIAG_CAUSE_MIGRATE_SWAP)	\
	X("__migrate_swap_task.part.0",	DIAG_CAUSE_MIGRATE_SWAP)	\
	X("migrate_swap_stop",		DIAG_CAUSE_MIGRATE_SWAP)	\
	X("push_cpu_stop",		DIAG_CAUSE_PUSH_CPU_STOP)	\
	X("__balance_push_cpu_stop",	DIAG_CAUSE_BALANCE_PUSH)

/*
 * The light-weight migration trace (debugfs migration_trace/ and
 * migration_stat/, docs/migration-trace.md) is text, not this ioctl ABI,
 * but its names live here so that the module that writes it and the CLI
 * that reads it share them.  Migration lines carry a cause number from the
 * list above; every other kind of trace line carries one of these numbers,
 * which stay clear of the causes.  X(ENUM, number, "name", "what it means").
 */
#define DIAG_MT_EVENT_KINDS(X)						\
	X(COPY_PROCESS,	  32, "copy_process",	"a task was created; its name") \
	X(SET_TASK_COMM,  33, "set_task_comm",	"a task was renamed (exec, prctl); its new name") \
	X(TASK_LIST,	  34, "task_list",	"a task that existed when the trace started; its name") \
	X(MARK,		  35, "mark",		"a mark written to migration_trace/mark or by mt_trace_mark()") \
	X(FORK_PLACEMENT, 36, "fork_placement",	"a new task first placed on a CPU other than its parent's; not a migration")

enum diag_mt_event_kind {
#define DIAG_MT_KIND_ENUM(e, n, name, desc) DIAG_MT_##e = n,
	DIAG_MT_EVENT_KINDS(DIAG_MT_KIND_ENUM)
#undef DIAG_MT_KIND_ENUM
};

#define DIAG_MT_FORMAT_VERSION		"1.1.0"	/* migration_trace/trace */
#define DIAG_MSTAT_FORMAT_VERSION	"1.1.0"	/* migration_stat/stat */
#define DIAG_MT_START_EVENT		"start_sched_clock"

/* diag_migrate_record.flags */
#define DIAG_MIGRATE_KTHREAD		0x1	/* task has no mm */
#define DIAG_MIGRATE_SRC_DISALLOWED	0x2	/* source CPU not in the task's affinity */
/*
 * Not a migration: where a new task was first placed, when that is not its
 * parent's CPU (wake_up_new_task() uses __set_task_cpu(), which neither
 * counts in se.nr_migrations nor fires sched_migrate_task).
 */
#define DIAG_MIGRATE_FORK_PLACEMENT	0x4

/* One CPU migration of a watched task, read from the task when it moved. */
struct diag_migrate_record {
	struct diag_record_header hdr;
	__s32 pid;
	__s32 tgid;
	char comm[DIAG_COMM_LEN];
	__s32 prio;		/* kernel prio: 0..99 RT, 100..139 normal */
	__u32 cause;		/* enum diag_migrate_cause */
	__u32 orig_cpu;		/* task_cpu(p) when it moved */
	__u32 dest_cpu;
	__u32 flags;		/* DIAG_MIGRATE_* */
	__u32 reserved;
	__u64 load_avg;		/* p->se.avg.load_avg */
	__u64 util_avg;		/* p->se.avg.util_avg */
	__u64 rss_bytes;	/* resident set of the task's mm */
	__u64 rchar;		/* task I/O accounting, cumulative */
	__u64 wchar;
	__u64 read_bytes;	/* storage I/O, cumulative */
	__u64 write_bytes;
	__u64 caller;		/* kernel address that decided the move, or 0 */
};

/*
 * A kernel stack, innermost frame first, as captured by the module's
 * shared stack code (module/stack.c).  Stack-bearing records embed it.
 */
#define DIAG_KSTACK_MAX		64
struct diag_kernel_stack {
	__u32 nr;		/* valid entries in ips */
	__u32 reserved;
	__u64 ips[DIAG_KSTACK_MAX];
};

/*
 * ---- User stacks and process context (shared by stack-bearing functions) ----
 *
 * A user stack is not unwound in the kernel: at the hit the module saves
 * the user registers and a bounded copy of the user stack, and the CLI
 * unwinds that copy (CFI from .eh_frame/.debug_frame, else frame pointers)
 * against the process's mappings, which DIAG_REC_TASK_MAPS records carry.
 */
#define DIAG_UREGS_NR		17	/* DWARF x86-64 register numbers 0..16 */
enum diag_ureg {
	DIAG_UREG_AX = 0, DIAG_UREG_DX, DIAG_UREG_CX, DIAG_UREG_BX,
	DIAG_UREG_SI, DIAG_UREG_DI, DIAG_UREG_BP, DIAG_UREG_SP,
	DIAG_UREG_R8, DIAG_UREG_R9, DIAG_UREG_R10, DIAG_UREG_R11,
	DIAG_UREG_R12, DIAG_UREG_R13, DIAG_UREG_R14, DIAG_UREG_R15,
	DIAG_UREG_IP,
};

#define DIAG_USTACK_KIB_DEFAULT	16
#define DIAG_USTACK_KIB_MAX	64

/* diag_user_stack.flags */
#define DIAG_USTACK_VALID	0x1	/* regs hold the task's user registers */
#define DIAG_USTACK_COMPAT	0x2	/* 32-bit task: only regs[IP] is meaningful */
#define DIAG_USTACK_FAULTED	0x4	/* the copy stopped at an unreadable page */

struct diag_user_stack {
	__u64 regs[DIAG_UREGS_NR];	/* user registers at the last kernel entry */
	__u32 flags;		/* DIAG_USTACK_* */
	__u32 len;		/* bytes of stack copied (they follow the record's fixed part) */
	__u64 sp;		/* user address of the first copied byte */
	__u64 mm_key;		/* address space id: matches diag_task_map_record.mm_key */
};

/* One process of a process chain: the task's process, then its ancestors. */
#define DIAG_CHAIN_MAX		16
struct diag_process_link {
	__s32 pid;		/* tgid of the process */
	char comm[DIAG_COMM_LEN];
	__u32 reserved;
};

/*
 * One executable mapping of an address space, snapshotted while the
 * process lived (DIAG_REC_TASK_MAPS).  A snapshot is @count records with
 * the same mm_key and seq, index 0..count-1; the path (NUL-terminated)
 * follows the fixed part and is resolved in the context of the reporting
 * process, so it opens from there.  An address space is snapshotted again
 * when its executable mappings change (a library loaded later), so a
 * report may carry several snapshots of one mm_key: later seq is newer.
 */
#define DIAG_MAP_VDSO		0x1	/* the kernel's vDSO, not a file */
#define DIAG_MAP_ANON		0x2	/* executable anonymous memory (JIT) */
#define DIAG_MAP_DELETED	0x4	/* the file was deleted or replaced */

struct diag_task_map_record {
	struct diag_record_header hdr;
	__u64 mm_key;
	__s32 tgid;
	__u32 flags;		/* DIAG_MAP_* */
	__u32 seq;		/* snapshot number, increasing */
	__u32 index;		/* of this mapping within the snapshot */
	__u32 count;		/* mappings in the snapshot */
	__u32 dev;		/* (major << 20) | minor */
	__u64 start;		/* [start, end) user addresses */
	__u64 end;
	__u64 pgoff;		/* file offset of start, bytes */
	__u64 ino;		/* inode (and dev) of the file */
	__u32 path_len;		/* bytes of path after the fixed part, NUL included */
	__u32 reserved;
};

/*
 * ---- kprobe: every hit of one kernel function ----
 */
#define DIAG_KPROBE_SYM_LEN	128
#define DIAG_CPUSET_WORDS	128	/* 8192 CPUs, the largest NR_CPUS */

struct diag_kprobe_settings {
	struct diag_common_settings common;
	char probe[DIAG_KPROBE_SYM_LEN];	/* function name, NUL-terminated */
	__u32 dump_style;	/* 1: also print each hit to the kernel log, rate-limited */
	__u32 ustack_kib;	/* user stack copied per hit; 0 = default */
	__u32 cpus_set;		/* 1: only hits on the CPUs in cpus */
	__u32 reserved;		/* must be 0 */
	__u64 probe_addr;	/* out: address of the probed function */
	__u64 missed;		/* out: hits the kernel's kprobe core skipped (recursion) */
	__u64 maps_dropped;	/* out: address spaces not snapshotted (table full) */
	__u64 cpus[DIAG_CPUSET_WORDS];	/* bitmap: bit c of word c / 64 */
};

/* diag_kprobe_record.flags */
#define DIAG_KPROBE_KTHREAD	0x1	/* the hit was in a kernel thread */
#define DIAG_KPROBE_IN_IRQ	0x2	/* in interrupt context (hard or soft) */

/*
 * One hit.  The user stack copy (ustack.len bytes) follows the fixed part;
 * the record is padded to a multiple of 8.
 */
struct diag_kprobe_record {
	struct diag_record_header hdr;
	__s32 pid;
	__s32 tgid;
	char comm[DIAG_COMM_LEN];
	__u64 cgroup_id;	/* cgroup v2 id: the inode number in cgroupfs */
	__u32 flags;		/* DIAG_KPROBE_* */
	__u32 nr_chain;		/* valid entries in chain */
	struct diag_process_link chain[DIAG_CHAIN_MAX];
	struct diag_kernel_stack kstack;
	struct diag_user_stack ustack;
};

/*
 * ---- keytime-image: a process's life events ----
 *
 * Creations (fork, vfork, clone, threads) seen from the creating task, at
 * the start (the child exists and has not run yet) and at the end of the
 * call; exec (success and failure); exit; and with oncpu=1 every switch
 * on and off a CPU, optionally with the kernel stack of each switch off.
 */
struct diag_keytime_image_settings {
	struct diag_common_settings common;
	__u32 oncpu;		/* 1: on-CPU / off-CPU events */
	__u32 stack;		/* 1: kernel stack of each off-CPU event (implies oncpu) */
};

enum diag_keytime_event {
	DIAG_KT_CLONE_START	= 1,	/* a watched task created a task */
	DIAG_KT_CLONE_END	= 2,	/* its fork/vfork/clone call returned */
	DIAG_KT_EXEC		= 3,	/* an exec succeeded (at sched_process_exec) or failed */
	DIAG_KT_EXIT		= 4,	/* the task exits (at sched_process_exit) */
	DIAG_KT_ONCPU		= 5,	/* switched onto hdr.cpu */
	DIAG_KT_OFFCPU		= 6,	/* switched off hdr.cpu */
};

/* diag_keytime_record.flags */
#define DIAG_KT_PREEMPTED	0x01	/* offcpu: involuntary (counts in nivcsw) */
#define DIAG_KT_RUNNABLE	0x02	/* offcpu: still on the runqueue */
#define DIAG_KT_FLAGS_UNKNOWN	0x04	/* clone start: the call's flags were not kept */
#define DIAG_KT_TRUNCATED	0x08	/* exec: filename or argv cut to fit */
#define DIAG_KT_UNREADABLE	0x10	/* exec: argv could not be read */
#define DIAG_KT_STACK		0x20	/* data holds a struct diag_kernel_stack */
#define DIAG_KT_GROUP_DEAD	0x40	/* exit: the last thread of its process */
#define DIAG_KT_KTHREAD		0x80	/* the task is a kernel thread */

/* Bytes of data an exec record may carry: filename NUL argv0 NUL argv1 ... */
#define DIAG_KT_EXEC_DATA_MAX	1024
#define DIAG_KT_FILENAME_MAX	256

/*
 * One event.  Variable data follows the fixed fields: data_len bytes at
 * data_off from the start of the record (the record's size covers them,
 * rounded up to 8; readers use data_off, so fields can be added before
 * the data):
 *   exec: the filename, NUL, then argv strings each NUL-terminated;
 *   offcpu with DIAG_KT_STACK: a struct diag_kernel_stack.
 */
struct diag_keytime_record {
	struct diag_record_header hdr;	/* hdr.cpu: the CPU of the event */
	__s32 pid;
	__s32 tgid;
	char comm[DIAG_COMM_LEN];
	__u32 event;		/* enum diag_keytime_event */
	__u32 flags;		/* DIAG_KT_* */
	__s32 child_pid;	/* clone: the new task; exec: pid before the exec */
	__s32 child_tgid;	/* clone: the new task's process */
	__u64 clone_flags;	/* clone: CLONE_* flags of the call */
	__s32 exit_signal;	/* clone: signal the parent gets when the child exits */
	__u32 state;		/* offcpu: task state when it left (TASK_* bits) */
	__s64 ret;		/* clone end: child pid or -errno; exec: 0 or -errno;
				 * exit: exit code (status << 8 | signal) */
	__u64 duration_ns;	/* clone end: time spent in the call */
	__u64 sum_exec_ns;	/* on/off-CPU: the task's CPU time so far */
	__s32 prio;		/* kernel prio at the event */
	__u16 data_off;		/* where the data starts, from the record's start */
	__u16 data_len;		/* valid bytes of data */
};

/*
 * ---- resource-image: a task's resource use per interval ----
 *
 * A task's CPU time, memory and I/O, measured from its own switches (and
 * from the scheduler tick while it runs without switching): one sample
 * per task when at least interval_ms has passed since its last one, and a
 * last one when it exits.
 */
struct diag_resource_image_settings {
	struct diag_common_settings common;
	__u32 interval_ms;	/* 0 = DIAG_RI_INTERVAL_MS_DEFAULT */
	__u32 max_tasks;	/* tasks tracked at once; 0 = DIAG_RI_TASKS_DEFAULT */
};

#define DIAG_RI_INTERVAL_MS_DEFAULT	1000
#define DIAG_RI_INTERVAL_MS_MIN		10
#define DIAG_RI_INTERVAL_MS_MAX		3600000
#define DIAG_RI_TASKS_DEFAULT		1024
#define DIAG_RI_TASKS_MAX		65536

/* diag_resource_record.flags */
#define DIAG_RI_EXITED		0x1	/* the task's last sample: it exited */
#define DIAG_RI_KTHREAD		0x2	/* kernel thread: no memory of its own */
#define DIAG_RI_TABLE_FULL	0x4	/* not a sample: max_tasks were tracked and
					 * another task could not be; raise it */
#define DIAG_RI_RUNNING		0x8	/* taken in an interrupt while the task
					 * ran (the tick, or a wakeup it took),
					 * not at one of its own switches */
#define DIAG_RI_OFF_CPU		0x10	/* taken by a report while the task was
					 * off CPU (asleep or waiting) since its
					 * last switch: its counters as then */

struct diag_resource_record {
	struct diag_record_header hdr;	/* ts_ns: end of the interval */
	__s32 pid;
	__s32 tgid;
	char comm[DIAG_COMM_LEN];
	__u64 start_ns;		/* start of the interval (CLOCK_MONOTONIC) */
	__u64 cpu_ns;		/* CPU time used in the interval */
	__u64 cpu_total_ns;	/* CPU time since the task started */
	__u64 cpus;		/* bit N: ran on CPU N in the interval (N < 64) */
	__u32 cpu;		/* the CPU it last ran on */
	__u32 flags;		/* DIAG_RI_* */
	__u64 rss_bytes;	/* resident set of its mm at the end (as VmRSS) */
	__s64 rss_unsynced_bytes;/* the task's own RSS changes not yet folded
				 * into its mm's counters (SPLIT_RSS_COUNTING) */
	__u64 total_ram_bytes;	/* RAM the kernel manages (MemTotal) */
	__u64 rchar;		/* bytes read in the interval (read syscalls) */
	__u64 wchar;		/* bytes written in the interval */
	__u64 read_bytes;	/* storage bytes read in the interval */
	__u64 write_bytes;	/* storage bytes written in the interval */
	__u64 rchar_total;	/* cumulative, at the end */
	__u64 wchar_total;
	__u64 nvcsw;		/* voluntary switches in the interval */
	__u64 nivcsw;		/* involuntary switches in the interval */
};

#endif /* _UAPI_DIAGNOSE_H */
