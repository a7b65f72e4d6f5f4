// SPDX-License-Identifier: GPL-2.0
/*
 * Which scheduler path moved a task.
 *
 * The sched_migrate_task tracepoint fires inside set_task_cpu(); its caller
 * is the answer.  Two ways to find it:
 *
 *  - Wakeups, by far the most frequent migrations, are recognised without
 *    a stack walk: try_to_wake_up() sets the task TASK_WAKING before it
 *    picks a CPU, and no other path moves a TASK_WAKING task (it is on no
 *    runqueue, so no balancer can see it; migration_cpu_stop() only
 *    records wake_cpu for it).
 *
 *  - Every other path is found by walking our own stack, nearest frame
 *    first, to the first return address inside one of the deciding
 *    functions of DIAG_MIGRATE_CAUSE_SITES (uapi/diagnose.h, shared with
 *    the BPF backend).
 *
 * The stopper's migration_cpu_stop() runs for three requesters, which we
 * tell apart from the task itself: an exec in progress (in_execve) is
 * sched_exec(); a source CPU outside the task's affinity is an affinity
 * change; otherwise it is NUMA balancing's migrate_task_to().
 */
#include <linux/kernel.h>
#include <linux/stacktrace.h>
#include <linux/cpumask.h>
#include <linux/printk.h>
#include <linux/percpu.h>
#include "migrate_cause.h"
#include "ksyms.h"

struct cause_site {
	const char *sym;
	u8 cause;
	unsigned long start;
	unsigned long end;
};

static struct cause_site cause_sites[] = {
#define CAUSE_SITE(sym, cause) { sym, cause },
	DIAG_MIGRATE_CAUSE_SITES(CAUSE_SITE)
#undef CAUSE_SITE
};

static const char *const cause_names[DIAG_NR_CAUSES] = {
#define CAUSE_NAME(e, n, name, desc) [n] = name,
	DIAG_MIGRATE_CAUSES(CAUSE_NAME)
#undef CAUSE_NAME
};

const char *diag_migrate_cause_name(u32 cause)
{
	return cause < DIAG_NR_CAUSES ? cause_names[cause] : "unknown";
}

void diag_migrate_cause_init(void)
{
	const char *names[ARRAY_SIZE(cause_sites)];
	unsigned long addrs[ARRAY_SIZE(cause_sites)];
	unsigned int i, found = 0;

	for (i = 0; i < ARRAY_SIZE(cause_sites); i++)
		names[i] = cause_sites[i].sym;
	if (diag_ksym_addrs(names, addrs, ARRAY_SIZE(cause_sites)))
		return;
	for (i = 0; i < ARRAY_SIZE(cause_sites); i++) {
		struct cause_site *s = &cause_sites[i];
		unsigned long size = addrs[i] ? diag_ksym_size(addrs[i]) : 0;

		if (!size)
			continue;
		s->start = addrs[i];
		s->end = addrs[i] + size;
		found++;
	}
	pr_debug("diagnose: %u of %zu migration cause sites resolved\n",
		 found, ARRAY_SIZE(cause_sites));
}

static const struct cause_site *find_site(unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cause_sites); i++) {
		const struct cause_site *s = &cause_sites[i];

		/* a return address can be one past a call at the very end */
		if (addr > s->start && addr <= s->end)
			return s;
	}
	return NULL;
}

static u32 refine_stopper_cause(struct task_struct *p)
{
	if (p->in_execve)
		return DIAG_CAUSE_SCHED_EXEC;
	if (!cpumask_test_cpu(task_cpu(p), p->cpus_ptr))
		return DIAG_CAUSE_MIGRATE_TASK;
	return DIAG_CAUSE_MIGRATE_TASK_TO;
}

static u32 classify(struct task_struct *p, unsigned long *caller)
{
	unsigned long entries[DIAG_CAUSE_WALK_DEPTH];
	unsigned int nr, i;
	bool past_set_task_cpu = false;

	*caller = 0;
	if (READ_ONCE(p->__state) == TASK_WAKING)
		return DIAG_CAUSE_TRY_TO_WAKE_UP;

	nr = stack_trace_save(entries, ARRAY_SIZE(entries), 0);
	for (i = 0; i < nr; i++) {
		const struct cause_site *s = find_site(entries[i]);

		if (past_set_task_cpu && !*caller)
			*caller = entries[i];
		if (!s)
			continue;
		if (s->cause == DIAG_CAUSE_SITE_SET_TASK_CPU) {
			past_set_task_cpu = true;
			continue;
		}
		*caller = entries[i];
		if (s->cause == DIAG_CAUSE_SITE_STOPPER)
			return refine_stopper_cause(p);
		return s->cause;
	}
	return DIAG_CAUSE_UNKNOWN;
}

/*
 * migrate-image and the migration trace both probe sched_migrate_task and
 * both want the cause: the first probe of a migration walks the stack,
 * the second finds the answer here.  Both run in the same tracepoint
 * call, on this CPU, with interrupts off (the runqueue lock is held), so
 * nothing can come in between.  set_task_cpu() counts the migration in
 * se.nr_migrations only after the tracepoint, so (task, count, CPUs)
 * names one migration.
 */
struct cause_memo {
	struct task_struct *p;
	u64 nr_migrations;
	u32 orig_cpu, dest_cpu;
	u32 cause;
	unsigned long caller;
};
static DEFINE_PER_CPU(struct cause_memo, cause_memo);

u32 diag_migrate_cause(struct task_struct *p, u32 dest_cpu,
		       unsigned long *caller)
{
	struct cause_memo *m = this_cpu_ptr(&cause_memo);
	u64 nr = READ_ONCE(p->se.nr_migrations);
	u32 orig = task_cpu(p);

	if (m->p == p && m->nr_migrations == nr && m->orig_cpu == orig &&
	    m->dest_cpu == dest_cpu) {
		*caller = m->caller;
		return m->cause;
	}
	m->cause = classify(p, &m->caller);
	m->p = p;
	m->nr_migrations = nr;
	m->orig_cpu = orig;
	m->dest_cpu = dest_cpu;
	*caller = m->caller;
	return m->cause;
}

u32 diag_migrate_flags(struct task_struct *p)
{
	u32 flags = 0;

	if (p->flags & PF_KTHREAD)
		flags |= DIAG_MIGRATE_KTHREAD;
	if (!cpumask_test_cpu(task_cpu(p), p->cpus_ptr))
		flags |= DIAG_MIGRATE_SRC_DISALLOWED;
	return flags;
}
