// SPDX-License-Identifier: GPL-2.0
/*
 * keytime-image on BPF: the life events of the watched tasks, as
 * module/keytime_image.c records them, from tracepoints and, where the
 * kernel has them, BPF trampolines (the CLI falls back to tracepoints
 * only, which every kernel with BTF has).
 *
 *   creation  kernel_clone()'s entry (fentry; without BPF trampolines, the
 *             clone, clone3, fork and vfork system calls' tracepoints)
 *             keeps the call's flags and start time, as the module's
 *             kretprobe does; the "start" event is written at
 *             sched_process_fork, where the child exists and has not run,
 *             and the "end" event at the call's exit in the parent (a
 *             system call's exit tracepoint sees the child leave too, with
 *             no entry kept: it writes nothing);
 *   exec      sched_process_exec for a success (filename from the kernel,
 *             argv from the new image, whose pages exist by then); the
 *             execve/execveat calls' exit (fexit, or their tracepoints)
 *             for a failure, with the strings read back from the caller's
 *             memory, whose pointers the entry kept;
 *   exit      sched_process_exit, with the exit code;
 *   on/off    sched_switch (oncpu=1; the CLI does not load it otherwise),
 *             and with stack=1 the kernel stack of each switch off the
 *             CPU, from __schedule outwards.
 *
 * Every program rejects unwatched tasks with the filter first.  The calls
 * in flight are kept in preallocated hashes keyed by pid and checked
 * against the task's start time (pid reuse): no allocation in a program,
 * and when a hash is full the call goes without (a start then says its
 * flags are unknown, as the module's does when its table is full).
 */
#include "diag.bpf.h"

/* set by the CLI before load */
const volatile __u32 want_stack;
/* __schedule, for stacks: a return address in (start, end] is inside it */
const volatile __u64 sched_start, sched_end;

#define KT_CALLS_IN_FLIGHT	1024
#define KT_MAX_ARGS		64	/* argv strings read back after a failed exec */
#define KT_CSIGNAL		0xff
#define KT_CLONE_VM		0x00000100
#define KT_CLONE_VFORK		0x00004000
#define KT_SIGCHLD		17

/* include/linux/sched.h: the state bits __task_state_index() reads */
#define KT_TASK_REPORT		0x7f
#define KT_TASK_IDLE		0x0402	/* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define KT_TASK_REPORT_IDLE	0x80
#define KT_TASK_UNINTERRUPTIBLE	0x0002
#define KT_TASK_RTLOCK_WAIT	0x1000
#define KT_TASK_FROZEN		0x8000

struct clone_call {
	__u64 task_start;	/* the caller's start_time: pid reuse */
	__u64 start_ns;
	__u64 flags;
	__s32 exit_signal;
	__s32 child_pid;
	__s32 child_tgid;
	__u32 reserved;
};

/* a record with room for the most data, and its bounded-offset slack */
struct kt_exec_record {
	struct diag_keytime_record r;
	char data[2 * DIAG_KT_EXEC_DATA_MAX];
};

/*
 * An exec call in flight, and the failure record it may end in, built in
 * place: the entry is its task's alone, whereas a per-CPU buffer is not
 * safe in an fexit program (trampolines run preemptible).
 */
struct exec_call {
	__u64 task_start;
	__u64 filename;		/* user pointers of the call */
	__u64 argv;
	struct kt_exec_record out;
};

/* what an exec_call starts as: read only */
static const struct exec_call empty_exec_call;

#define KT_EXECS_IN_FLIGHT	256	/* 2 KiB each */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_CALLS_IN_FLIGHT);
	__type(key, __s32);
	__type(value, struct clone_call);
} clones SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_EXECS_IN_FLIGHT);
	__type(key, __s32);
	__type(value, struct exec_call);
} execs SEC(".maps");

/*
 * Which exit ends its process: do_exit() decrements signal->live before
 * the tracepoint, so threads exiting together can all find it 0.  The
 * first to insert its tgid here (BPF_NOEXIST: one insert wins) claims the
 * death; the claim lives until the group leader is freed, after every
 * thread of the group has passed do_exit(), so its tgid cannot be reused
 * meanwhile.  The value is the signal_struct, which tells a stale claim.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KT_CALLS_IN_FLIGHT);
	__type(key, __s32);
	__type(value, __u64);
} dead_groups SEC(".maps");

/* claims in dead_groups, so that freeing a task looks only when one is held */
__u64 dead_claims;

/*
 * One record under construction per CPU, for the programs that run with
 * preemption off (tracepoints): a successful exec's data, or a stack to
 * trim.
 */
#define KT_SCRATCH_DATA	(2 * DIAG_KT_EXEC_DATA_MAX)
struct kt_scratch {
	struct diag_keytime_record r;
	char data[KT_SCRATCH_DATA];	/* twice the most: bounded offsets */
	__u64 ips[2 * DIAG_KSTACK_MAX];	/* a stack, then zeroes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kt_scratch);
} scratch SEC(".maps");

/* The syscall tracepoints' records (the syscalls/ events). */
struct kt_sys_enter {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct kt_sys_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

/* Fills what every event has; the rest is zero. */
static __always_inline void fill_task(struct diag_keytime_record *r,
				      struct task_struct *p, __u32 event)
{
	__builtin_memset((char *)r + sizeof(r->hdr), 0,
			 sizeof(*r) - sizeof(r->hdr));
	r->pid = BPF_CORE_READ(p, pid);
	r->tgid = BPF_CORE_READ(p, tgid);
	BPF_CORE_READ_INTO(&r->comm, p, comm);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->event = event;
	r->prio = BPF_CORE_READ(p, prio);
	r->data_off = sizeof(*r);
	if (BPF_CORE_READ(p, flags) & DIAG_PF_KTHREAD)
		r->flags |= DIAG_KT_KTHREAD;
}

static __always_inline struct diag_keytime_record *
reserve_event(struct task_struct *p, __u32 event)
{
	struct diag_keytime_record *r;

	r = reserve_record(DIAG_REC_KEYTIME, sizeof(*r));
	if (r)
		fill_task(r, p, event);
	return r;
}

/*
 * Writes the record built in @s with @data bytes of data: a copy into the
 * ring of just the bytes used (bpf_ringbuf_reserve takes constant sizes
 * only), or a count of one lost.
 */
static __always_inline void output_scratch(struct kt_scratch *s, __u32 data)
{
	__u32 size, k;

	if (data > DIAG_KT_EXEC_DATA_MAX)
		data = DIAG_KT_EXEC_DATA_MAX;
	size = (sizeof(s->r) + data + 7) & ~7U;
	fill_header(&s->r.hdr, DIAG_REC_KEYTIME, size);
	s->r.data_len = data;
	/* the padding up to 8 bytes is zero, as the module's is */
#pragma unroll
	for (k = 0; k < 7; k++)
		s->data[(data + k) & (KT_SCRATCH_DATA - 1)] = 0;
	if (size > sizeof(s->r) + DIAG_KT_EXEC_DATA_MAX)
		size = sizeof(s->r) + DIAG_KT_EXEC_DATA_MAX;
	barrier_var(size);
	size &= 2 * DIAG_KT_EXEC_DATA_MAX - 1;	/* a no-op the verifier needs */
	if (bpf_ringbuf_output(&records, s, size, 0))
		count_lost();
}

static __always_inline struct kt_scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline struct task_struct *current_task(void)
{
	return bpf_get_current_task_btf();
}

/* ---- creation ---- */

static __always_inline void clone_entry(__u64 flags, __s32 exit_signal)
{
	struct task_struct *cur = current_task();
	struct clone_call c = {};
	__s32 pid;

	if (!filter_match(cur))
		return;
	pid = cur->pid;
	c.task_start = cur->start_time;
	c.start_ns = bpf_ktime_get_ns();
	c.flags = flags;
	c.exit_signal = exit_signal;
	bpf_map_update_elem(&clones, &pid, &c, BPF_ANY);
}

/* clone(flags, newsp, parent_tid, child_tid, tls): kernel_clone_args' split */
SEC("tracepoint/syscalls/sys_enter_clone")
int on_enter_clone(struct kt_sys_enter *ctx)
{
	__u32 flags = ctx->args[0];

	clone_entry(flags & ~KT_CSIGNAL, flags & KT_CSIGNAL);
	return 0;
}

/* clone3(struct clone_args *, size): flags and exit_signal from the caller */
SEC("tracepoint/syscalls/sys_enter_clone3")
int on_enter_clone3(struct kt_sys_enter *ctx)
{
	__u64 args[5] = {};

	/*
	 * flags, pidfd, child_tid, parent_tid, exit_signal; unreadable, the
	 * kernel refuses the call (or its start says the flags are unknown)
	 */
	if (!bpf_probe_read_user(args, sizeof(args), (void *)ctx->args[0]))
		clone_entry(args[0], (__s32)args[4]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fork")
int on_enter_fork(struct kt_sys_enter *ctx)
{
	clone_entry(0, KT_SIGCHLD);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_vfork")
int on_enter_vfork(struct kt_sys_enter *ctx)
{
	clone_entry(KT_CLONE_VFORK | KT_CLONE_VM, KT_SIGCHLD);
	return 0;
}

/* The call's entry, when this task made it and it is still kept. */
static __always_inline struct clone_call *clone_of(struct task_struct *p,
						   __s32 *pid)
{
	struct clone_call *c;

	*pid = p->pid;
	c = bpf_map_lookup_elem(&clones, pid);
	if (c && c->task_start != p->start_time)
		return NULL;
	return c;
}

/* In the parent, after copy_process() and before the child can run. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct diag_keytime_record *r;
	struct clone_call *c;
	__s32 pid;

	if (!filter_match(parent))
		return 0;
	c = clone_of(parent, &pid);
	if (c) {
		c->child_pid = child->pid;
		c->child_tgid = child->tgid;
	}
	r = reserve_event(parent, DIAG_KT_CLONE_START);
	if (!r)
		return 0;
	r->child_pid = child->pid;
	r->child_tgid = child->tgid;
	if (c) {
		r->clone_flags = c->flags;
		r->exit_signal = c->exit_signal;
	} else {
		/* no entry seen: a creation not by these calls, or a full hash */
		r->flags |= DIAG_KT_FLAGS_UNKNOWN;
		/* a helper read: one load for two kinds of pointer is refused */
		r->exit_signal = BPF_CORE_READ(child, exit_signal);
	}
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/*
 * The call returns: in the parent, which kept its entry; in a new child
 * too, which has none.  The entry was made while the task was watched:
 * its end is written whatever the filter says now, as the module's
 * return probe does.
 */
static __always_inline void clone_exit(long ret)
{
	struct task_struct *cur = current_task();
	struct diag_keytime_record *r;
	struct clone_call *c;
	__s32 pid;

	c = clone_of(cur, &pid);
	if (!c)
		return;
	r = reserve_event(cur, DIAG_KT_CLONE_END);
	if (r) {
		r->ret = ret;
		r->clone_flags = c->flags;
		r->exit_signal = c->exit_signal;
		r->child_pid = c->child_pid;
		r->child_tgid = c->child_tgid;
		r->duration_ns = r->hdr.ts_ns - c->start_ns;
		bpf_ringbuf_submit(r, 0);
	}
	bpf_map_delete_elem(&clones, &pid);
}

/*
 * Where the kernel has BPF trampolines, the CLI loads these instead of the
 * system call tracepoints: kernel_clone() is where the module reads a
 * creation (every fork, vfork, clone, clone3 and kernel thread), and
 * attaching to it costs nothing to other system calls, while enabling any
 * system call tracepoint sends every system call of every task through the
 * tracing entry path.
 */
SEC("fentry/kernel_clone")
int BPF_PROG(on_kernel_clone, struct kernel_clone_args *args)
{
	clone_entry(BPF_CORE_READ(args, flags), BPF_CORE_READ(args, exit_signal));
	return 0;
}

/* the new child does not return from kernel_clone(): the parent only */
SEC("fexit/kernel_clone")
int BPF_PROG(on_kernel_clone_exit, struct kernel_clone_args *args, pid_t ret)
{
	clone_exit(ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int on_exit_clone(struct kt_sys_exit *ctx)
{
	clone_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int on_exit_clone3(struct kt_sys_exit *ctx)
{
	clone_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fork")
int on_exit_fork(struct kt_sys_exit *ctx)
{
	clone_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_vfork")
int on_exit_vfork(struct kt_sys_exit *ctx)
{
	clone_exit(ctx->ret);
	return 0;
}

/* ---- exec ---- */

static __always_inline void exec_entry(__u64 filename, __u64 argv)
{
	struct task_struct *cur = current_task();
	struct exec_call *e;
	__s32 pid;

	if (!filter_match(cur))
		return;
	pid = cur->pid;
	/* zeroed: a failure record's unused data reads as zero, as the module's */
	if (bpf_map_update_elem(&execs, &pid, &empty_exec_call, BPF_ANY))
		return;
	e = bpf_map_lookup_elem(&execs, &pid);
	if (!e)
		return;
	e->task_start = cur->start_time;
	e->filename = filename;
	e->argv = argv;
}

/* execve(filename, argv, envp) */
SEC("tracepoint/syscalls/sys_enter_execve")
int on_enter_execve(struct kt_sys_enter *ctx)
{
	exec_entry(ctx->args[0], ctx->args[1]);
	return 0;
}

/* execveat(dfd, filename, argv, envp, flags) */
SEC("tracepoint/syscalls/sys_enter_execveat")
int on_enter_execveat(struct kt_sys_enter *ctx)
{
	exec_entry(ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct mm_struct *mm;
	struct kt_scratch *s;
	__u64 arg_start, arg_end, arg_len = 0;
	long name_len;
	bool trunc = false;

	/* the call succeeded: its entry, under the pid it had, is done */
	bpf_map_delete_elem(&execs, &old_pid);
	if (!filter_match(p))
		return 0;
	s = get_scratch();
	if (!s) {
		count_lost();
		return 0;
	}
	fill_task(&s->r, p, DIAG_KT_EXEC);
	s->r.child_pid = old_pid;
	name_len = bpf_probe_read_kernel_str(s->data, DIAG_KT_FILENAME_MAX,
					     BPF_CORE_READ(bprm, filename));
	if (name_len <= 0) {
		s->data[0] = '\0';
		name_len = 1;
	}
	if (name_len >= DIAG_KT_FILENAME_MAX) {
		name_len = DIAG_KT_FILENAME_MAX;
		trunc = true;
	}
	mm = BPF_CORE_READ(p, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	if (mm && arg_end > arg_start) {
		arg_len = arg_end - arg_start;
		if (arg_len > DIAG_KT_EXEC_DATA_MAX - name_len)
			arg_len = DIAG_KT_EXEC_DATA_MAX - name_len;
	}
	/* p is current and this is its new image: the argument pages exist */
	/*
	 * No-op masks the compiler must keep: the verifier of older kernels
	 * (6.1) loses the bounds above through the compiler's rewriting and
	 * needs them on the registers passed.
	 */
	barrier_var(name_len);
	barrier_var(arg_len);
	name_len &= 2 * DIAG_KT_FILENAME_MAX - 1;
	arg_len &= 2 * DIAG_KT_EXEC_DATA_MAX - 1;
	if (arg_len &&
	    bpf_probe_read_user(s->data + name_len, arg_len, (void *)arg_start)) {
		s->r.flags |= DIAG_KT_UNREADABLE;
		arg_len = 0;
	}
	if (arg_len) {
		__u32 last = (name_len + arg_len - 1) & (KT_SCRATCH_DATA - 1);

		if (arg_end - arg_start > arg_len || s->data[last] != '\0') {
			s->data[last] = '\0';
			trunc = true;
		}
	}
	if (trunc)
		s->r.flags |= DIAG_KT_TRUNCATED;
	output_scratch(s, name_len + arg_len);
	return 0;
}

/*
 * Copies the string at user address @src into @data (2 *
 * DIAG_KT_EXEC_DATA_MAX bytes) at @off, at most
 * @room bytes with its NUL (less than DIAG_KT_EXEC_DATA_MAX: the first
 * string is the filename, which has less); returns the bytes stored, 0
 * when unreadable.
 * A string that fills @room is cut (its last byte read is not a NUL).
 */
static __always_inline __u64 copy_user_string(char *data, __u64 off,
					      __u64 room, __u64 src, bool *trunc)
{
	long n;
	char c = 0;

	/*
	 * The compiler knows the callers' bounds and would drop these
	 * checks; the verifier needs them on the registers passed.
	 */
	barrier_var(off);
	barrier_var(room);
	if (off >= DIAG_KT_EXEC_DATA_MAX || !room || room >= DIAG_KT_EXEC_DATA_MAX)
		return 0;
	/* no-ops after the checks, for verifiers that keep only masks (6.1) */
	barrier_var(off);
	barrier_var(room);
	off &= DIAG_KT_EXEC_DATA_MAX - 1;
	room &= DIAG_KT_EXEC_DATA_MAX - 1;
	n = bpf_probe_read_user_str(data + off, room, (void *)src);
	if (n <= 0)
		return 0;
	if (n == room && !bpf_probe_read_user(&c, 1, (void *)(src + room - 1)) && c)
		*trunc = true;
	return n;
}

/*
 * A success was recorded at sched_process_exec; a failure is recorded
 * here, built in the call's own entry and copied out at the module's
 * size (the data area whole, zero past the strings).
 */
static __always_inline void exec_exit(long ret)
{
	struct task_struct *cur = current_task();
	struct diag_keytime_record *r;
	struct exec_call *e;
	bool trunc = false;
	__u64 n;	/* 64 bits: no zero-extended copies the verifier loses bounds on */
	__u64 arg = 0;
	__u32 i;
	__s32 pid;

	pid = cur->pid;
	e = bpf_map_lookup_elem(&execs, &pid);
	if (!e)
		return;
	if (e->task_start != cur->start_time || ret >= 0)
		goto done;
	r = &e->out.r;
	fill_task(r, cur, DIAG_KT_EXEC);
	r->ret = ret;
	r->child_pid = pid;
	n = copy_user_string(e->out.data, 0, DIAG_KT_FILENAME_MAX, e->filename,
			     &trunc);
	if (!n) {
		e->out.data[0] = '\0';
		n = 1;
		r->flags |= DIAG_KT_UNREADABLE;
	}
	/* the caller's image is intact after a failed exec: read argv back */
	for (i = 0; e->argv && i < KT_MAX_ARGS; i++) {
		__u64 len;

		if (n >= DIAG_KT_EXEC_DATA_MAX)
			break;
		if (bpf_probe_read_user(&arg, sizeof(arg),
					(void *)(e->argv + i * sizeof(arg)))) {
			r->flags |= DIAG_KT_UNREADABLE;
			break;
		}
		if (!arg)
			break;
		len = copy_user_string(e->out.data, n,
				       DIAG_KT_EXEC_DATA_MAX - n, arg, &trunc);
		if (!len) {
			r->flags |= DIAG_KT_UNREADABLE;
			break;
		}
		n += len;
	}
	/* more strings than read: cut, unless the list ends right there */
	if (i == KT_MAX_ARGS &&
	    (bpf_probe_read_user(&arg, sizeof(arg),
				 (void *)(e->argv + i * sizeof(arg))) || arg))
		trunc = true;
	if (trunc)
		r->flags |= DIAG_KT_TRUNCATED;
	if (n > DIAG_KT_EXEC_DATA_MAX)
		n = DIAG_KT_EXEC_DATA_MAX;
	r->data_len = n;
	fill_header(&r->hdr, DIAG_REC_KEYTIME, sizeof(*r) + DIAG_KT_EXEC_DATA_MAX);
	if (bpf_ringbuf_output(&records, &e->out,
			       sizeof(*r) + DIAG_KT_EXEC_DATA_MAX, 0))
		count_lost();
done:
	/* after the last use of the entry: a deleted entry is reused */
	bpf_map_delete_elem(&execs, &pid);
}

/*
 * The exec system calls with trampolines, as the module probes them: the
 * x86-64 wrappers take the caller's registers, which hold the arguments.
 */
SEC("fentry/__x64_sys_execve")
int BPF_PROG(on_execve_entry, struct pt_regs *regs)
{
	/* execve(filename, argv, envp) */
	exec_entry(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
	return 0;
}

SEC("fentry/__x64_sys_execveat")
int BPF_PROG(on_execveat_entry, struct pt_regs *regs)
{
	/* execveat(dfd, filename, argv, envp, flags) */
	exec_entry(BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx));
	return 0;
}

SEC("fexit/__x64_sys_execve")
int BPF_PROG(on_execve_exit, struct pt_regs *regs, long ret)
{
	exec_exit(ret);
	return 0;
}

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(on_execveat_exit, struct pt_regs *regs, long ret)
{
	exec_exit(ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int on_exit_execve(struct kt_sys_exit *ctx)
{
	exec_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int on_exit_execveat(struct kt_sys_exit *ctx)
{
	exec_exit(ctx->ret);
	return 0;
}

/* ---- exit ---- */

/* true for the first exit of @p's process to find no thread alive */
static __always_inline bool claim_group_death(struct task_struct *p)
{
	struct signal_struct *sig = p->signal;
	__u64 key_sig = (__u64)sig, *held, old;
	__s32 tgid = p->tgid;

	if (BPF_CORE_READ(sig, live.counter))
		return false;
	if (!bpf_map_update_elem(&dead_groups, &tgid, &key_sig, BPF_NOEXIST)) {
		__sync_fetch_and_add(&dead_claims, 1);
		return true;
	}
	held = bpf_map_lookup_elem(&dead_groups, &tgid);
	if (!held)
		return true;	/* no room: not kept, a later thread may claim too */
	old = *held;
	if (old == key_sig)
		return false;
	/* a stale claim of an earlier process of this tgid: one thread takes it */
	return __sync_val_compare_and_swap(held, old, key_sig) == old;
}

/* In an RCU callback: every thread of a freed leader's group is gone. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(on_free, struct task_struct *p)
{
	__s32 tgid;
	__u64 *held;

	/* every task of the machine comes here: most often, nothing held */
	if (!dead_claims || p->pid != p->tgid)
		return 0;
	tgid = p->tgid;
	held = bpf_map_lookup_elem(&dead_groups, &tgid);
	if (held && *held == (__u64)p->signal &&
	    !bpf_map_delete_elem(&dead_groups, &tgid))
		__sync_fetch_and_add(&dead_claims, -1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	struct diag_keytime_record *r;
	bool group_dead;
	__s32 pid = p->pid;

	/*
	 * Calls in flight whose exit was never seen (the kernel skipped the
	 * program there) end with their task, watched or not: the hashes
	 * do not fill up with them.
	 */
	bpf_map_delete_elem(&clones, &pid);
	bpf_map_delete_elem(&execs, &pid);
	if (!filter_match(p))
		return 0;
	/* claimed before the record: a lost record still ends the process */
	group_dead = claim_group_death(p);
	r = reserve_event(p, DIAG_KT_EXIT);
	if (!r)
		return 0;
	/* do_exit() stored the code before firing the tracepoint */
	r->ret = p->exit_code;
	if (group_dead)
		r->flags |= DIAG_KT_GROUP_DEAD;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* ---- on/off CPU ---- */

/* __task_state_index(): an index into "RSDTtXZPI", as /proc and tracefs show */
static __always_inline __u32 state_index(__u32 state, __u32 exit_state)
{
	__u32 s = (state | exit_state) & KT_TASK_REPORT, i;

	if ((state & KT_TASK_IDLE) == KT_TASK_IDLE)
		s = KT_TASK_REPORT_IDLE;
	if (state & (KT_TASK_RTLOCK_WAIT | KT_TASK_FROZEN))
		s = KT_TASK_UNINTERRUPTIBLE;
	/* fls() */
	for (i = 0; i < 8 && s; i++)
		s >>= 1;
	return i;
}

/*
 * The stack, taken inside this program under the tracepoint, starts at
 * __schedule, as an off-CPU stack reads: the frames inside it are cut.
 */
static __always_inline void take_stack(void *ctx, struct kt_scratch *s,
				       struct diag_kernel_stack *st)
{
	long bytes;
	__u32 nr, first = 0, i;

	bytes = bpf_get_stack(ctx, s->ips, DIAG_KSTACK_MAX * sizeof(__u64), 0);
	nr = bytes > 0 ? bytes / sizeof(__u64) : 0;
	if (sched_start) {
		for (i = 0; i < DIAG_KSTACK_MAX && i < nr; i++) {
			/* return addresses: (start, end] is inside */
			if (s->ips[i] > sched_start && s->ips[i] <= sched_end) {
				first = i;
				break;
			}
		}
	}
	st->nr = nr - first;
	st->reserved = 0;
	/*
	 * One copy from a variable start: the upper half of s->ips is never
	 * written, so the frames past the stack read as zero, and the
	 * verifier has no loop to follow once per possible start.
	 */
	if (bpf_probe_read_kernel(st->ips, sizeof(st->ips),
				  &s->ips[first & (DIAG_KSTACK_MAX - 1)]))
		st->nr = 0;
}

static __always_inline void record_offcpu(void *ctx, struct task_struct *p,
					  bool preempt, __u32 prev_state)
{
	struct diag_keytime_record *r;
	struct kt_scratch *s = NULL;

	if (want_stack) {
		s = get_scratch();
		if (!s) {
			count_lost();
			return;
		}
	}
	/* two constant sizes: bpf_ringbuf_reserve takes no other */
	if (s)
		r = reserve_record(DIAG_REC_KEYTIME,
				   sizeof(*r) + sizeof(struct diag_kernel_stack));
	else
		r = reserve_record(DIAG_REC_KEYTIME, sizeof(*r));
	if (!r)
		return;
	fill_task(r, p, DIAG_KT_OFFCPU);
	r->state = state_index(prev_state, p->exit_state);
	/*
	 * The kernel's own split (nvcsw/nivcsw): a switch is voluntary only
	 * when the task asked to sleep; preemption, and any switch of a task
	 * still TASK_RUNNING, is not.
	 */
	if (preempt || !prev_state)
		r->flags |= DIAG_KT_PREEMPTED;
	if (p->on_rq)
		r->flags |= DIAG_KT_RUNNABLE;
	r->sum_exec_ns = p->se.sum_exec_runtime;
	if (s) {
		take_stack(ctx, s, (struct diag_kernel_stack *)(r + 1));
		r->flags |= DIAG_KT_STACK;
		r->data_len = sizeof(struct diag_kernel_stack);
	}
	bpf_ringbuf_submit(r, 0);
}

/* every context switch of the machine comes here: filter first */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct diag_keytime_record *r;

	if (filter_match(prev))
		record_offcpu(ctx, prev, preempt, prev_state);
	if (filter_match(next)) {
		r = reserve_event(next, DIAG_KT_ONCPU);
		if (r) {
			r->sum_exec_ns = next->se.sum_exec_runtime;
			bpf_ringbuf_submit(r, 0);
		}
	}
	return 0;
}
