// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe: every hit of one kernel function by the watched tasks, with the
 * kernel stack, the user registers and a copy of the user stack (unwound
 * and symbolized by the CLI), the cgroup and the process chain.
 *
 * The probe is a plain kprobe on the function's entry (ftrace-based where
 * the function has an fentry call, a breakpoint otherwise, which the
 * kernel handles like an NMI).  The handler runs with preemption off,
 * possibly in interrupt or NMI context and with the probed code holding
 * any lock, so it only reads current and writes into the per-CPU ring: no
 * allocation, no lock (a trylock for the rate limit), no sleeping, bounded
 * work, nothing that is not NMI-safe.
 * What needs process context is deferred with irq_work: snapshots of the
 * address spaces (task_maps.c) and, with dump-style=1, the kernel-log
 * lines.  The kprobe core itself prevents recursion (a hit while a kprobe
 * handler runs on the CPU is counted in kp.nmissed, reported as "missed").
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/cgroup.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/ratelimit.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include "core.h"
#include "ksyms.h"
#include "stack.h"
#include "task_maps.h"
#include "mem.h"

#define KP_MAPS_SLOTS	2048	/* address spaces tracked per activation */
#define KP_DUMP_QUEUE	16	/* kernel-log lines waiting per CPU */
#define KP_DUMP_FRAMES	6	/* kernel frames in a kernel-log line */

/* One hit, as printed to the kernel log with dump-style=1. */
struct kp_dump {
	pid_t pid, tgid;
	char comm[TASK_COMM_LEN];
	u32 cpu;
	u32 nr;
	unsigned long ips[KP_DUMP_FRAMES];
	u64 user_ip;
};

/* Per-CPU queue of kernel-log lines: handler -> irq_work on the same CPU. */
struct kp_dump_queue {
	struct irq_work work;
	u32 head;		/* written by the handler, interrupts off */
	u32 tail;		/* written by the irq_work */
	struct kp_dump lines[KP_DUMP_QUEUE];
};

/*
 * A hit is composed here, with interrupts on, and copied into the ring
 * whole: the user-stack copy and the kernel-stack walk are the slow part
 * of a hit and must not run inside a ring reservation, which holds
 * interrupts off.  One per CPU: the kprobe core runs at most one handler
 * per CPU at a time (a nested hit is counted as missed), and ->busy
 * checks it.
 */
struct kp_scratch {
	local_t busy;
	struct diag_kprobe_record rec;	/* followed by the user stack */
};

static struct {
	struct kprobe kp;
	char probe[DIAG_KPROBE_SYM_LEN];
	unsigned long func, func_size;	/* the probed function */
	u32 ustack_bytes;
	struct kp_scratch **scratch;	/* per CPU id */
	u64 scratch_charged;
	bool cpus_set;
	cpumask_var_t cpus;
	bool dump;
	struct kp_dump_queue __percpu *dumps;
	struct diag_maps maps;
	struct ratelimit_state dump_rs;
} kp;

static void dump_hit(const struct diag_kprobe_record *r)
{
	struct kp_dump_queue *q;
	struct kp_dump *d;
	unsigned long flags;
	u32 i;

	if (!__ratelimit(&kp.dump_rs))
		return;
	local_irq_save(flags);
	q = this_cpu_ptr(kp.dumps);
	if (q->head - READ_ONCE(q->tail) < KP_DUMP_QUEUE) {
		d = &q->lines[q->head % KP_DUMP_QUEUE];
		d->pid = r->pid;
		d->tgid = r->tgid;
		memcpy(d->comm, r->comm, TASK_COMM_LEN);
		d->cpu = r->hdr.cpu;
		d->nr = min_t(u32, r->kstack.nr, KP_DUMP_FRAMES);
		for (i = 0; i < d->nr; i++)
			d->ips[i] = r->kstack.ips[i];
		d->user_ip = (r->ustack.flags & DIAG_USTACK_VALID) ?
			     r->ustack.regs[DIAG_UREG_IP] : 0;
		smp_store_release(&q->head, q->head + 1);
		/* printk from here could deadlock (rq lock held, say) */
		irq_work_queue(&q->work);
	}
	local_irq_restore(flags);
}

/* Hard interrupt on the queue's CPU: printk is safe here. */
static void dump_work(struct irq_work *w)
{
	struct kp_dump_queue *q = container_of(w, struct kp_dump_queue, work);
	u32 head = smp_load_acquire(&q->head);

	while (q->tail != head) {
		const struct kp_dump *d = &q->lines[q->tail % KP_DUMP_QUEUE];
		char frames[KP_DUMP_FRAMES * 64];
		int n = 0;
		u32 i;

		frames[0] = '\0';
		for (i = 0; i < d->nr; i++)
			n += scnprintf(frames + n, sizeof(frames) - n, "%s%pS",
				       i ? " <- " : "", (void *)d->ips[i]);
		pr_info("diagnose-kprobe: %s hit: pid %d tgid %d comm %s cpu %u: %s%s user ip 0x%llx\n",
			kp.probe, d->pid, d->tgid, d->comm, d->cpu, frames,
			d->nr ? "," : "", d->user_ip);
		smp_store_release(&q->tail, q->tail + 1);
	}
}

/*
 * Whether the probed code ran in a hard or soft interrupt.  A breakpoint
 * kprobe is entered like an NMI (nmi_enter() adds NMI_OFFSET and
 * HARDIRQ_OFFSET to the preempt count), so that layer is taken off first;
 * a hit in a real NMI therefore shows as the context the NMI interrupted.
 */
static bool probed_in_interrupt(void)
{
	unsigned long pc = preempt_count();

	if (pc & NMI_MASK)
		pc -= NMI_OFFSET + HARDIRQ_OFFSET;
	return pc & (HARDIRQ_MASK | SOFTIRQ_OFFSET);
}

static int kp_pre_handler(struct kprobe *p, struct pt_regs *regs)
{
	struct task_struct *tsk = current;
	struct diag_kprobe_record *r, *out;
	struct kp_scratch *scratch;
	struct diag_ring_slot slot;
	bool user_stack;
	u32 want, size;

	if (!diag_filter_match(&diag_kprobe.filter, tsk))
		return 0;
	if (kp.cpus_set && !cpumask_test_cpu(smp_processor_id(), kp.cpus))
		return 0;
	scratch = kp.scratch[smp_processor_id()];
	if (local_cmpxchg(&scratch->busy, 0, 1) != 0) {
		/* cannot happen (see struct kp_scratch); if it does, count it */
		diag_ring_count_lost(&diag_kprobe.ring);
		return 0;
	}
	r = &scratch->rec;
	want = (tsk->mm && !(tsk->flags & PF_KTHREAD)) ? kp.ustack_bytes : 0;
	r->pid = tsk->pid;
	r->tgid = tsk->tgid;
	memcpy(r->comm, tsk->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->flags = ((tsk->flags & PF_KTHREAD) ? DIAG_KPROBE_KTHREAD : 0) |
		   (probed_in_interrupt() ? DIAG_KPROBE_IN_IRQ : 0);
#ifdef CONFIG_CGROUPS
	/* the path is resolved later, in user space: cgroup_path takes locks */
	rcu_read_lock();
	r->cgroup_id = cgroup_id(task_dfl_cgroup(tsk));
	rcu_read_unlock();
#else
	r->cgroup_id = 0;
#endif
	memset(r->chain, 0, sizeof(r->chain));
	r->nr_chain = diag_capture_process_chain(r->chain, DIAG_CHAIN_MAX);
	diag_capture_kernel_stack_regs(&r->kstack, regs, (unsigned long)p->addr,
				       kp.func, kp.func_size);
	diag_capture_user_stack(&r->ustack, r + 1, want);
	user_stack = (r->ustack.flags & DIAG_USTACK_VALID) &&
		     !(r->ustack.flags & DIAG_USTACK_COMPAT);

	size = sizeof(*r) + r->ustack.len;
	out = diag_ring_reserve(&diag_kprobe.ring, &slot, DIAG_REC_KPROBE, size);
	if (out) {
		/* everything but the header, which the reservation wrote */
		memcpy((void *)out + sizeof(out->hdr), (void *)r + sizeof(r->hdr),
		       size - sizeof(r->hdr));
		/* the record's alignment padding: no stale bytes */
		memset((void *)out + size, 0, out->hdr.size - size);
		if (kp.dump)
			dump_hit(out);
		diag_ring_commit(&slot);
	}
	local_set(&scratch->busy, 0);

	/* a stack that was lost still asks for its maps: later ones need them */
	if (user_stack)
		diag_maps_request(&kp.maps, tsk->mm, tsk->tgid);
	return 0;
}

static void free_scratch(void)
{
	unsigned int cpu;

	if (!kp.scratch)
		return;
	for_each_possible_cpu(cpu)
		diag_mem_free(kp.scratch[cpu]);
	kfree(kp.scratch);
	kp.scratch = NULL;
	diag_mem_uncharge(kp.scratch_charged);
	kp.scratch_charged = 0;
}

/* 0, -E2BIG over the memory budget, or -ENOMEM */
static int alloc_scratch(void)
{
	size_t size = sizeof(struct kp_scratch) + kp.ustack_bytes;
	unsigned int cpu;

	if (diag_mem_charge((u64)size * num_possible_cpus()))
		return -E2BIG;
	kp.scratch_charged = (u64)size * num_possible_cpus();
	kp.scratch = kcalloc(nr_cpu_ids, sizeof(*kp.scratch), GFP_KERNEL);
	if (!kp.scratch) {
		diag_mem_uncharge(kp.scratch_charged);
		kp.scratch_charged = 0;
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		kp.scratch[cpu] = diag_mem_alloc_node(size, cpu_to_node(cpu));
		if (!kp.scratch[cpu]) {
			free_scratch();
			return -ENOMEM;
		}
	}
	return 0;
}

static int kprobe_validate(const void *settings, struct diag_msg *msg)
{
	const struct diag_kprobe_settings *s = settings;
	unsigned int cpu, words = BITS_TO_LONGS(nr_cpu_ids);
	bool any = false;

	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(s->cpus[0]));
	if (!memchr(s->probe, '\0', sizeof(s->probe))) {
		diag_msg_set(msg, "probe name is longer than %zu characters",
			     sizeof(s->probe) - 1);
		return -EINVAL;
	}
	if (!s->probe[0]) {
		diag_msg_set(msg, "no function to probe: give probe=FUNCTION");
		return -EINVAL;
	}
	if (s->dump_style > 1) {
		diag_msg_set(msg, "dump-style must be 0 or 1");
		return -EINVAL;
	}
	if (s->ustack_kib > DIAG_USTACK_KIB_MAX) {
		diag_msg_set(msg, "ustack-kib %u is over the limit of %u",
			     s->ustack_kib, DIAG_USTACK_KIB_MAX);
		return -EINVAL;
	}
	if (s->reserved) {
		diag_msg_set(msg, "reserved settings field is not zero");
		return -EINVAL;
	}
	if (s->cpus_set > 1) {
		diag_msg_set(msg, "cpus_set must be 0 or 1");
		return -EINVAL;
	}
	if (!s->cpus_set)
		return 0;
	/* bits past nr_cpu_ids name CPUs this machine cannot have */
	for (cpu = nr_cpu_ids; cpu < DIAG_CPUSET_WORDS * 64; cpu++) {
		if (s->cpus[cpu / 64] & (1ULL << (cpu % 64))) {
			diag_msg_set(msg, "CPU %u does not exist (%u possible CPUs)",
				     cpu, nr_cpu_ids);
			return -EINVAL;
		}
	}
	for (cpu = 0; cpu < words; cpu++)
		any |= s->cpus[cpu] != 0;
	if (!any) {
		diag_msg_set(msg, "the CPU list is empty");
		return -EINVAL;
	}
	return 0;
}

static int register_probe(struct diag_msg *msg)
{
	int ret;

	/* our own code would recurse or deadlock: refuse before arming */
	if (kp.func && within_module(kp.func, THIS_MODULE)) {
		diag_msg_set(msg, "%s is in diagnose.ko itself; it cannot be probed",
			     kp.probe);
		return -EINVAL;
	}
	memset(&kp.kp, 0, sizeof(kp.kp));
	kp.kp.symbol_name = kp.probe;
	kp.kp.pre_handler = kp_pre_handler;
	ret = register_kprobe(&kp.kp);
	switch (ret) {
	case 0:
		break;
	case -ENOENT:
		diag_msg_set(msg, "the kernel has no function %s",
			     kp.probe);
		return ret;
	case -EINVAL:
		/* a name the kernel does not know is -ENOENT, above */
		diag_msg_set(msg, "the kernel refuses to probe %s (kprobe blacklist or not probeable)",
			     kp.probe);
		return ret;
	case -EADDRNOTAVAIL:
		diag_msg_set(msg, "%s names more than one kernel function; ambiguous",
			     kp.probe);
		return ret;
	case -EILSEQ:
		diag_msg_set(msg, "the kernel refuses to probe %s: not an instruction boundary",
			     kp.probe);
		return ret;
	default:
		diag_msg_set(msg, "the kernel refused a kprobe on %s (error %d)",
			     kp.probe, ret);
		return ret;
	}
	/* names like module:function resolve only here */
	if (within_module((unsigned long)kp.kp.addr, THIS_MODULE)) {
		unregister_kprobe(&kp.kp);
		diag_msg_set(msg, "%s is in diagnose.ko itself; it cannot be probed",
			     kp.probe);
		return -EINVAL;
	}
	return 0;
}

static int kprobe_activate(struct diag_function *fn, const void *settings,
			   struct diag_msg *msg)
{
	const struct diag_kprobe_settings *s = settings;
	int cpu, ret;

	ret = diag_locked_down(LOCKDOWN_KPROBES, fn, msg);
	if (ret)
		return ret;
	strscpy(kp.probe, s->probe, sizeof(kp.probe));
	kp.ustack_bytes = (s->ustack_kib ?: DIAG_USTACK_KIB_DEFAULT) * 1024;
	kp.dump = s->dump_style == 1;
	kp.cpus_set = s->cpus_set;
	if (!zalloc_cpumask_var(&kp.cpus, GFP_KERNEL))
		goto nomem;
	if (kp.cpus_set)
		bitmap_copy(cpumask_bits(kp.cpus), (const unsigned long *)s->cpus,
			    nr_cpu_ids);
	kp.dumps = alloc_percpu(struct kp_dump_queue);
	if (!kp.dumps)
		goto nomem_cpus;
	for_each_possible_cpu(cpu)
		init_irq_work(&per_cpu_ptr(kp.dumps, cpu)->work, dump_work);
	/* 10 lines every 5 s, like printk_ratelimit() */
	ratelimit_state_init(&kp.dump_rs, 5 * HZ, 10);
	ret = alloc_scratch();
	if (ret == -E2BIG) {
		ret = diag_mem_refused(msg, "the per-CPU hit buffers",
				       (u64)(sizeof(struct kp_scratch) +
					     kp.ustack_bytes) *
				       num_possible_cpus());
		goto fail_dumps;
	}
	if (ret)
		goto nomem_dumps;
	ret = diag_maps_init(&kp.maps, &fn->ring, KP_MAPS_SLOTS);
	if (ret)
		goto nomem_scratch;

	/* where the probed function lies, to start stacks there */
	diag_stack_init();
	kp.func = diag_ksym_addr(kp.probe);
	kp.func_size = kp.func ? diag_ksym_size(kp.func) : 0;

	ret = register_probe(msg);
	if (ret)
		goto fail;
	if (!kp.func) {
		kp.func = (unsigned long)kp.kp.addr;
		kp.func_size = diag_ksym_size(kp.func);
	}
	return 0;

nomem_scratch:
	free_scratch();
nomem_dumps:
	free_percpu(kp.dumps);
nomem_cpus:
	free_cpumask_var(kp.cpus);
nomem:
	diag_msg_set(msg, "cannot allocate the kprobe state");
	return -ENOMEM;
fail:
	diag_maps_destroy(&kp.maps);
	free_scratch();
fail_dumps:
	free_percpu(kp.dumps);
	free_cpumask_var(kp.cpus);
	return ret;
}

static bool kprobe_sync(struct diag_function *fn)
{
	struct diag_kprobe_settings *s = fn->settings;

	s->probe_addr = (unsigned long)kp.kp.addr;
	s->missed = kp.kp.nmissed;
	s->maps_dropped = diag_maps_dropped(&kp.maps);
	return diag_maps_emit(&kp.maps);
}

static void kprobe_deactivate(struct diag_function *fn)
{
	struct diag_kprobe_settings *s = fn->settings;
	int cpu;

	/* waits until no handler runs any more */
	unregister_kprobe(&kp.kp);
	s->missed = kp.kp.nmissed;
	s->maps_dropped = diag_maps_dropped(&kp.maps);
	for_each_possible_cpu(cpu)
		irq_work_sync(&per_cpu_ptr(kp.dumps, cpu)->work);
	diag_maps_destroy(&kp.maps);
	free_scratch();
	free_percpu(kp.dumps);
	kp.dumps = NULL;
	free_cpumask_var(kp.cpus);
}

struct diag_function diag_kprobe = {
	.id = DIAG_FN_KPROBE,
	.name = "kprobe",
	.settings_size = sizeof(struct diag_kprobe_settings),
	.max_record = sizeof(struct diag_kprobe_record) +
		      DIAG_USTACK_KIB_MAX * 1024,
	.validate = kprobe_validate,
	.activate = kprobe_activate,
	.deactivate = kprobe_deactivate,
	.sync = kprobe_sync,
};
