// SPDX-License-Identifier: GPL-2.0
/*
 * keytime-image: the life events of the watched tasks.
 *
 *   creation  a kretprobe on kernel_clone(), the one path of fork, vfork,
 *             clone and clone3, keeps the call's flags and start time; the
 *             "start" event is written at sched_process_fork, where the
 *             child exists (with its pid) but has not run, and the "end"
 *             event when the call returns, so a vfork parent's wait for
 *             its child is the time between the two;
 *   exec      sched_process_exec for a success (filename from the kernel,
 *             argv from the new image, whose pages exist by then); a
 *             kretprobe on the execve/execveat syscalls for a failure,
 *             with the strings read back from the caller's memory;
 *   exit      sched_process_exit, with the exit code;
 *   on/off    sched_switch (oncpu=1), and with stack=1 the kernel stack of
 *             each switch off the CPU, from __schedule outwards.
 *
 * The tracepoint probes fire for every task of the machine; each rejects
 * unwatched tasks with the filter first.  The kretprobes' entry handlers
 * do the same and return non-zero, which hands the instance back at once,
 * so only watched tasks hold one across the call.
 *
 * The flags of a creation are known at kernel_clone() entry and needed at
 * sched_process_fork, in the same task but with nowhere in the task to
 * keep them: a small per-task table (task_table.c) carries them.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/binfmts.h>
#include <linux/mm_types.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/timekeeping.h>
#include "core.h"
#include "ksyms.h"
#include "stack.h"
#include "task_table.h"

/* watched tasks that may be inside kernel_clone() or exec at once */
#define KT_CALLS_IN_FLIGHT	256

struct kt_clone_slot {
	struct diag_task_slot hdr;
	u64 flags;
	s32 exit_signal;
	s32 child_pid;
	s32 child_tgid;
	u32 reserved;
};

/* kretprobe instance data of a kernel_clone() call */
struct kt_clone_call {
	u64 start_ns;
	u64 flags;
	s32 exit_signal;
	u32 reserved;
};

/* kretprobe instance data of an execve/execveat call */
struct kt_exec_call {
	unsigned long filename;		/* user pointers of the call */
	unsigned long argv;
};

static struct {
	bool stack;
	unsigned long sched_start, sched_end;	/* __schedule, for stacks */
	struct diag_task_table clones;
} kt;

static const struct diag_filter *kt_filter(void)
{
	return &diag_keytime_image.filter;
}

/*
 * Reserve an event of @task with @data bytes after the record; every
 * field but the header is zeroed.
 */
static struct diag_keytime_record *kt_reserve(struct diag_ring_slot *slot,
					      struct task_struct *task,
					      u32 event, u32 data)
{
	struct diag_keytime_record *r;

	r = diag_ring_reserve(&diag_keytime_image.ring, slot, DIAG_REC_KEYTIME,
			      sizeof(*r) + data);
	if (!r)
		return NULL;
	memset((void *)r + sizeof(r->hdr), 0, sizeof(*r) - sizeof(r->hdr));
	r->pid = task->pid;
	r->tgid = task->tgid;
	/* comm may be renamed under us; a torn name is still terminated */
	memcpy(r->comm, task->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->event = event;
	r->prio = task->prio;
	r->data_off = sizeof(*r);
	if (task->flags & PF_KTHREAD)
		r->flags |= DIAG_KT_KTHREAD;
	return r;
}

/* ---- creation ---- */

static int clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kt_clone_call *call = (void *)ri->data;
	struct kernel_clone_args *args;
	struct kt_clone_slot *s;

	if (!diag_filter_match(kt_filter(), current))
		return 1;	/* not watched: no return probe */
	args = (struct kernel_clone_args *)regs_get_kernel_argument(regs, 0);
	call->start_ns = ktime_get_mono_fast_ns();
	call->flags = args->flags;
	call->exit_signal = args->exit_signal;

	s = diag_task_table_find(&kt.clones, current);
	if (!s)
		s = diag_task_table_insert(&kt.clones, current);
	if (s) {
		s->flags = call->flags;
		s->exit_signal = call->exit_signal;
		s->child_pid = 0;
		s->child_tgid = 0;
	}
	return 0;
}

static int clone_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kt_clone_call *call = (void *)ri->data;
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;
	struct kt_clone_slot *s;
	s32 child_pid = 0, child_tgid = 0;

	s = diag_task_table_find(&kt.clones, current);
	if (s) {
		child_pid = s->child_pid;
		child_tgid = s->child_tgid;
		diag_task_table_remove(&kt.clones, s);
	}
	r = kt_reserve(&slot, current, DIAG_KT_CLONE_END, 0);
	if (!r)
		return 0;
	r->ret = (long)regs_return_value(regs);
	r->clone_flags = call->flags;
	r->exit_signal = call->exit_signal;
	r->child_pid = child_pid;
	r->child_tgid = child_tgid;
	r->duration_ns = r->hdr.ts_ns - call->start_ns;
	diag_ring_commit(&slot);
	return 0;
}

/* In the parent, after copy_process() and before the child can run. */
static void probe_fork(void *data, struct task_struct *parent,
		       struct task_struct *child)
{
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;
	struct kt_clone_slot *s;

	if (!diag_filter_match(kt_filter(), parent))
		return;
	/* parent is current: it is the task in kernel_clone() */
	s = diag_task_table_find(&kt.clones, parent);
	if (s) {
		s->child_pid = child->pid;
		s->child_tgid = child->tgid;
	}
	r = kt_reserve(&slot, parent, DIAG_KT_CLONE_START, 0);
	if (!r)
		return;
	r->child_pid = child->pid;
	r->child_tgid = child->tgid;
	if (s) {
		r->clone_flags = s->flags;
		r->exit_signal = s->exit_signal;
	} else {
		/* no entry probe ran: its instances ran out, or the table did */
		r->flags |= DIAG_KT_FLAGS_UNKNOWN;
		r->exit_signal = child->exit_signal;
	}
	diag_ring_commit(&slot);
}

/* ---- exec ---- */

/*
 * Copy a NUL-terminated string from user memory without faulting (probes
 * cannot sleep), one page at a time so that a string ending just before
 * an unmapped page is still read.  Returns the bytes stored including the
 * NUL, or 0 when nothing could be read; sets *@trunc when cut.
 */
static u32 copy_user_string(char *dst, unsigned long src, u32 room,
			    bool *trunc)
{
	u32 n = 0;

	while (n < room) {
		u32 chunk = min_t(u32, room - n,
				  PAGE_SIZE - offset_in_page(src + n));
		char *nul;

		if (copy_from_user_nofault(dst + n, (const void __user *)(src + n),
					   chunk))
			break;
		nul = memchr(dst + n, '\0', chunk);
		if (nul)
			return nul - dst + 1;
		n += chunk;
	}
	if (!n)
		return 0;
	dst[n - 1] = '\0';
	*trunc = true;
	return n;
}

static void probe_exec(void *data, struct task_struct *p, pid_t old_pid,
		       struct linux_binprm *bprm)
{
	struct mm_struct *mm = p->mm;
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;
	u32 name_len, arg_len = 0;
	bool trunc = false;
	char *out;

	if (!diag_filter_match(kt_filter(), p))
		return;
	name_len = strnlen(bprm->filename, DIAG_KT_FILENAME_MAX - 1) + 1;
	if (name_len == DIAG_KT_FILENAME_MAX)
		trunc = true;
	if (mm && mm->arg_end > mm->arg_start)
		arg_len = min_t(unsigned long, mm->arg_end - mm->arg_start,
				DIAG_KT_EXEC_DATA_MAX - name_len);
	r = kt_reserve(&slot, p, DIAG_KT_EXEC, name_len + arg_len);
	if (!r)
		return;
	r->child_pid = old_pid;
	out = (char *)(r + 1);
	memcpy(out, bprm->filename, name_len - 1);
	out[name_len - 1] = '\0';
	/*
	 * p is current and this is its new image: the argument pages were
	 * just filled by the exec, so they are present.
	 */
	if (arg_len && copy_from_user_nofault(out + name_len,
					      (const void __user *)mm->arg_start,
					      arg_len)) {
		r->flags |= DIAG_KT_UNREADABLE;
		arg_len = 0;
	}
	if (arg_len && (mm->arg_end - mm->arg_start > arg_len ||
			out[name_len + arg_len - 1] != '\0')) {
		out[name_len + arg_len - 1] = '\0';
		trunc = true;
	}
	if (trunc)
		r->flags |= DIAG_KT_TRUNCATED;
	r->data_len = name_len + arg_len;
	diag_ring_commit(&slot);
}

#ifdef CONFIG_X86_64
/*
 * The x86-64 syscall wrappers take the caller's pt_regs: the syscall's own
 * arguments are read from there.
 */
static int exec_entry(struct kretprobe_instance *ri, struct pt_regs *regs,
		      bool at)
{
	struct kt_exec_call *call = (void *)ri->data;
	struct pt_regs *uregs;

	if (!diag_filter_match(kt_filter(), current))
		return 1;
	uregs = (struct pt_regs *)regs_get_kernel_argument(regs, 0);
	if (at) {	/* execveat(dfd, filename, argv, envp, flags) */
		call->filename = uregs->si;
		call->argv = uregs->dx;
	} else {	/* execve(filename, argv, envp) */
		call->filename = uregs->di;
		call->argv = uregs->si;
	}
	return 0;
}

static int execve_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return exec_entry(ri, regs, false);
}

static int execveat_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return exec_entry(ri, regs, true);
}

/* A success was recorded by probe_exec(); a failure is recorded here. */
static int exec_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kt_exec_call *call = (void *)ri->data;
	long ret = (long)regs_return_value(regs);
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;
	bool trunc = false;
	u32 n, room, i;
	char *out;

	if (ret >= 0)
		return 0;
	r = kt_reserve(&slot, current, DIAG_KT_EXEC, DIAG_KT_EXEC_DATA_MAX);
	if (!r)
		return 0;
	r->ret = ret;
	r->child_pid = current->pid;
	out = (char *)(r + 1);
	n = copy_user_string(out, call->filename, DIAG_KT_FILENAME_MAX, &trunc);
	if (!n) {
		out[0] = '\0';
		n = 1;
		r->flags |= DIAG_KT_UNREADABLE;
	}
	/* the caller's image is intact after a failed exec: read argv back */
	for (i = 0; call->argv && n < DIAG_KT_EXEC_DATA_MAX; i++) {
		unsigned long arg;
		u32 len;

		if (copy_from_user_nofault(&arg, (const void __user *)
					   (call->argv + i * sizeof(arg)),
					   sizeof(arg))) {
			r->flags |= DIAG_KT_UNREADABLE;
			break;
		}
		if (!arg)
			break;
		room = DIAG_KT_EXEC_DATA_MAX - n;
		len = copy_user_string(out + n, arg, room, &trunc);
		if (!len) {
			r->flags |= DIAG_KT_UNREADABLE;
			break;
		}
		n += len;
	}
	if (trunc)
		r->flags |= DIAG_KT_TRUNCATED;
	r->data_len = n;
	/* the record has room for the most; clear what the strings left */
	memset(out + n, 0, DIAG_KT_EXEC_DATA_MAX - n);
	diag_ring_commit(&slot);
	return 0;
}
#endif /* CONFIG_X86_64 */

/* ---- exit ---- */

/*
 * Which exit ends its process.  do_exit() decrements signal->live before
 * the tracepoint, so when threads exit together, several of them can find
 * it 0 there; the one whose decrement made it 0 is not known to a probe.
 * The first exit that finds it 0 claims the process's death, here, and
 * the others see the claim.  A claim lives until the group leader is
 * freed (sched_process_free), which comes after every thread of the
 * group has passed do_exit(); until then its tgid cannot be reused.
 * Exits are rare next to the other events: one lock and a scan of a small
 * array are cheap enough.
 */
#define KT_DEAD_GROUPS	1024

struct kt_dead_group {
	pid_t tgid;			/* 0: free */
	const struct signal_struct *signal;
};

static DEFINE_RAW_SPINLOCK(kt_dead_lock);
static struct kt_dead_group kt_dead[KT_DEAD_GROUPS];
static int kt_dead_used;	/* claims held; under kt_dead_lock */

/* true for the first exit of @p's process to find no thread alive */
static bool claim_group_death(struct task_struct *p)
{
	struct kt_dead_group *free = NULL;
	unsigned long flags;
	bool first = true;
	unsigned int i;

	if (atomic_read(&p->signal->live))
		return false;
	raw_spin_lock_irqsave(&kt_dead_lock, flags);
	for (i = 0; i < KT_DEAD_GROUPS; i++) {
		struct kt_dead_group *g = &kt_dead[i];

		if (g->tgid == p->tgid && g->signal == p->signal) {
			first = false;
			break;
		}
		if (!g->tgid && !free)
			free = g;
	}
	/* with no room the claim is not kept: a later thread may claim too */
	if (first && free) {
		free->tgid = p->tgid;
		free->signal = p->signal;
		WRITE_ONCE(kt_dead_used, kt_dead_used + 1);
	}
	raw_spin_unlock_irqrestore(&kt_dead_lock, flags);
	return first;
}

/* In an RCU callback: every thread of a freed leader's group is gone. */
static void probe_free(void *data, struct task_struct *p)
{
	unsigned long flags;
	unsigned int i;

	/* every leader of the machine comes here: most often, nothing held */
	if (!thread_group_leader(p) || !READ_ONCE(kt_dead_used))
		return;
	raw_spin_lock_irqsave(&kt_dead_lock, flags);
	for (i = 0; i < KT_DEAD_GROUPS; i++) {
		if (kt_dead[i].tgid == p->tgid &&
		    kt_dead[i].signal == p->signal) {
			kt_dead[i].tgid = 0;
			kt_dead[i].signal = NULL;
			WRITE_ONCE(kt_dead_used, kt_dead_used - 1);
			break;
		}
	}
	raw_spin_unlock_irqrestore(&kt_dead_lock, flags);
}

static void probe_exit(void *data, struct task_struct *p)
{
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;
	bool group_dead;

	if (!diag_filter_match(kt_filter(), p))
		return;
	/* claimed before the record: a lost record still ends the process */
	group_dead = claim_group_death(p);
	r = kt_reserve(&slot, p, DIAG_KT_EXIT, 0);
	if (!r)
		return;
	/* do_exit() stored the code before firing the tracepoint */
	r->ret = p->exit_code;
	if (group_dead)
		r->flags |= DIAG_KT_GROUP_DEAD;
	diag_ring_commit(&slot);
}

/* ---- on/off CPU ---- */

/*
 * The stack was taken inside our probe, under the tracepoint and
 * __schedule(): start it at __schedule, as an off-CPU stack reads.
 */
static void trim_to_schedule(struct diag_kernel_stack *st)
{
	u32 i;

	if (!kt.sched_start)
		return;
	for (i = 0; i < st->nr; i++)
		if (st->ips[i] >= kt.sched_start && st->ips[i] < kt.sched_end)
			break;
	if (i == st->nr || !i)
		return;
	memmove(st->ips, st->ips + i, (st->nr - i) * sizeof(st->ips[0]));
	memset(st->ips + st->nr - i, 0, i * sizeof(st->ips[0]));
	st->nr -= i;
}

static void record_offcpu(struct task_struct *p, bool preempt,
			  unsigned int prev_state)
{
	u32 data = kt.stack ? sizeof(struct diag_kernel_stack) : 0;
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;

	r = kt_reserve(&slot, p, DIAG_KT_OFFCPU, data);
	if (!r)
		return;
	/* an index into "RSDTtXZPI", as in /proc/PID/stat and tracefs */
	r->state = __task_state_index(prev_state, p->exit_state);
	/*
	 * The kernel's own split (nvcsw/nivcsw): a switch is voluntary only
	 * when the task asked to sleep; preemption, and any switch of a task
	 * still TASK_RUNNING (return to user with need_resched, yield), is not.
	 */
	if (preempt || !prev_state)
		r->flags |= DIAG_KT_PREEMPTED;
	if (READ_ONCE(p->on_rq))
		r->flags |= DIAG_KT_RUNNABLE;	/* still queued to run */
	r->sum_exec_ns = p->se.sum_exec_runtime;
	if (data) {
		/* p is current: the tracepoint runs in __schedule() of prev */
		struct diag_kernel_stack *st = (void *)(r + 1);

		diag_capture_kernel_stack(st, 0);
		trim_to_schedule(st);
		r->flags |= DIAG_KT_STACK;
		r->data_len = data;
	}
	diag_ring_commit(&slot);
}

static void record_oncpu(struct task_struct *p)
{
	struct diag_keytime_record *r;
	struct diag_ring_slot slot;

	r = kt_reserve(&slot, p, DIAG_KT_ONCPU, 0);
	if (!r)
		return;
	r->sum_exec_ns = p->se.sum_exec_runtime;
	diag_ring_commit(&slot);
}

/* every context switch of the machine comes here: filter first */
static inline void kt_switch(bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state)
{
	if (diag_filter_match(kt_filter(), prev))
		record_offcpu(prev, preempt, prev_state);
	if (diag_filter_match(kt_filter(), next))
		record_oncpu(next);
}
DIAG_SCHED_SWITCH_PROBE(probe_switch, kt_switch)

/* ---- activation ---- */

/* sched_switch last: it is attached only with oncpu=1 */
static struct diag_tracepoint kt_tracepoints[] = {
	DIAG_TRACEPOINT(sched_process_fork, probe_fork),
	DIAG_TRACEPOINT(sched_process_exec, probe_exec),
	DIAG_TRACEPOINT(sched_process_exit, probe_exit),
	DIAG_TRACEPOINT(sched_process_free, probe_free),
	DIAG_TRACEPOINT(sched_switch, probe_switch),
};
static unsigned int kt_nr_tracepoints;

static struct kretprobe kt_clone_probe;
#ifdef CONFIG_X86_64
static struct kretprobe kt_execve_probe, kt_execveat_probe;
static struct kretprobe *kt_probes[] = {
	&kt_clone_probe, &kt_execve_probe, &kt_execveat_probe,
};
#else
static struct kretprobe *kt_probes[] = { &kt_clone_probe };
#endif

static void init_kretprobe(struct kretprobe *rp, const char *symbol,
			   kretprobe_handler_t entry, kretprobe_handler_t ret,
			   size_t data_size)
{
	/* a kretprobe cannot be registered twice without being reset */
	memset(rp, 0, sizeof(*rp));
	rp->kp.symbol_name = symbol;
	rp->entry_handler = entry;
	rp->handler = ret;
	rp->data_size = data_size;
	rp->maxactive = num_possible_cpus() + KT_CALLS_IN_FLIGHT;
}

static int keytime_validate(const void *settings, struct diag_msg *msg)
{
	const struct diag_keytime_image_settings *s = settings;

	if (s->oncpu > 1 || s->stack > 1) {
		diag_msg_set(msg, "oncpu and stack take 0 or 1");
		return -EINVAL;
	}
	return diag_require_task_filter(&diag_keytime_image, &s->common, msg);
}

static int keytime_activate(struct diag_function *fn, const void *settings,
			    struct diag_msg *msg)
{
	const struct diag_keytime_image_settings *s = settings;
	bool oncpu = s->oncpu || s->stack;
	unsigned long addr;
	unsigned int i;
	int ret;

	BUILD_BUG_ON(sizeof(struct diag_kernel_stack) > DIAG_KT_EXEC_DATA_MAX);
	/* kretprobes on kernel_clone() and exec, and reads of user memory */
	ret = diag_locked_down(LOCKDOWN_KPROBES, fn, msg);
	if (ret)
		return ret;
	kt.stack = s->stack;
	memset(kt_dead, 0, sizeof(kt_dead));
	kt_dead_used = 0;
	addr = diag_ksym_addr("__schedule");
	kt.sched_start = addr;
	kt.sched_end = addr + (addr ? diag_ksym_size(addr) : 0);
	if (kt.sched_end == kt.sched_start)
		kt.sched_start = 0;

	ret = diag_task_table_alloc(&kt.clones, KT_CALLS_IN_FLIGHT,
				    sizeof(struct kt_clone_slot));
	if (ret == -E2BIG)
		return diag_mem_refused(msg, "the table of calls in flight",
					kt.clones.bytes);
	if (ret) {
		diag_msg_set(msg, "cannot allocate the table of calls in flight");
		return ret;
	}

	init_kretprobe(&kt_clone_probe, "kernel_clone", clone_entry,
		       clone_return, sizeof(struct kt_clone_call));
#ifdef CONFIG_X86_64
	init_kretprobe(&kt_execve_probe, "__x64_sys_execve", execve_entry,
		       exec_return, sizeof(struct kt_exec_call));
	init_kretprobe(&kt_execveat_probe, "__x64_sys_execveat",
		       execveat_entry, exec_return, sizeof(struct kt_exec_call));
#endif

	kt_nr_tracepoints = ARRAY_SIZE(kt_tracepoints) - (oncpu ? 0 : 1);
	ret = diag_tracepoints_attach(kt_tracepoints, kt_nr_tracepoints, msg);
	if (ret)
		goto free_table;
	for (i = 0; i < ARRAY_SIZE(kt_probes); i++) {
		ret = register_kretprobe(kt_probes[i]);
		if (ret) {
			diag_msg_set(msg, "cannot probe %s (%d)",
				     kt_probes[i]->kp.symbol_name, ret);
			goto unregister;
		}
	}
	return 0;

unregister:
	if (i)
		unregister_kretprobes(kt_probes, i);
	diag_tracepoints_detach(kt_tracepoints, kt_nr_tracepoints);
free_table:
	diag_task_table_free(&kt.clones);
	return ret;
}

static void keytime_deactivate(struct diag_function *fn)
{
	/* waits until no handler runs; pending returns skip our handler */
	unregister_kretprobes(kt_probes, ARRAY_SIZE(kt_probes));
	diag_tracepoints_detach(kt_tracepoints, kt_nr_tracepoints);
	diag_task_table_free(&kt.clones);
}

struct diag_function diag_keytime_image = {
	.id = DIAG_FN_KEYTIME_IMAGE,
	.name = "keytime-image",
	.settings_size = sizeof(struct diag_keytime_image_settings),
	/* exec strings or a stack; exec is the larger (see keytime_activate) */
	.max_record = sizeof(struct diag_keytime_record) +
		      DIAG_KT_EXEC_DATA_MAX,
	.validate = keytime_validate,
	.activate = keytime_activate,
	.deactivate = keytime_deactivate,
};
