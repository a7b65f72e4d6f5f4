// SPDX-License-Identifier: GPL-2.0
/*
 * The probes behind migration_trace/ and migration_stat/, and the module
 * init/exit of both.  See migration_lite.h for the locking rules.
 *
 * What is recorded, on a 6.1 kernel:
 *  - a migration: the sched_migrate_task tracepoint, which set_task_cpu()
 *    fires before it moves the task, when the CPU really changes (the
 *    kernel counts exactly these in se.nr_migrations, and ftrace's
 *    sched_migrate_task shows them all, with orig_cpu == dest_cpu for the
 *    rest).  Why it moved comes from the classifier migrate-image uses.
 *  - a fork placement: wake_up_new_task() puts a new task on its first CPU
 *    with __set_task_cpu(), which is not a migration for the kernel (no
 *    tracepoint, no se.nr_migrations).  The seed counted it as the cause
 *    sched_fork because 3.0 kernels used set_task_cpu() there; we record
 *    it from sched_wakeup_new as an event kind of its own, so that the
 *    migration count stays the kernel's.
 *  - names (trace only): sched_process_fork for copy_process, task_rename
 *    for set_task_comm (exec and prctl both rename through it).
 *
 * Both migration probes run with interrupts off (under p->pi_lock or a
 * runqueue lock), so one timestamp read there orders the CPU's records.
 */
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/irq_work.h>
#include <linux/workqueue.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include "core.h"
#include "migrate_cause.h"
#include "migration_lite.h"

/*
 * One move, into whichever of the trace and the stat is on: one time and
 * one cause for both, so that their counts agree.
 */
static void mlite_move(struct task_struct *p, u32 orig_cpu, u32 dest_cpu,
		       bool fork)
{
	bool trace = mtrace_recording(), stat = mstat_recording();
	unsigned long caller;
	u32 kind;
	u64 ts;

	if (!trace && !stat)
		return;
	ts = ktime_get_mono_fast_ns();
	kind = fork ? DIAG_MT_FORK_PLACEMENT : diag_migrate_cause(p, dest_cpu, &caller);
	if (trace)
		mtrace_record_move(p, orig_cpu, dest_cpu, kind, ts);
	if (stat)
		mstat_count(fork ? MSTAT_FIELD_FORK : kind, ts);
}

static void probe_migrate_task(void *data, struct task_struct *p, int dest_cpu)
{
	unsigned int orig_cpu = task_cpu(p);

	if (orig_cpu != dest_cpu)
		mlite_move(p, orig_cpu, dest_cpu, false);
}

/* Runs in the parent, on the CPU the child was created on. */
static void probe_wakeup_new(void *data, struct task_struct *p)
{
	unsigned int parent_cpu = smp_processor_id();

	if (task_cpu(p) != parent_cpu)
		mlite_move(p, parent_cpu, task_cpu(p), true);
}

static void probe_process_fork(void *data, struct task_struct *parent,
			       struct task_struct *child)
{
	if (mtrace_recording())
		mtrace_record_comm(child, child->comm, DIAG_MT_COPY_PROCESS);
}

/* Fires before the new name is copied in: @comm is the new name. */
static void probe_task_rename(void *data, struct task_struct *task,
			      const char *comm)
{
	if (mtrace_recording())
		mtrace_record_comm(task, comm, DIAG_MT_SET_TASK_COMM);
}

static struct diag_tracepoint mlite_tracepoints[] = {
	DIAG_TRACEPOINT(sched_migrate_task, probe_migrate_task),
	DIAG_TRACEPOINT(sched_wakeup_new, probe_wakeup_new),
	DIAG_TRACEPOINT(sched_process_fork, probe_process_fork),
	DIAG_TRACEPOINT(task_rename, probe_task_rename),
};

/* "0x" and 16 hex digits, or 20 decimal ones, a sign and a newline fit */
#define MLITE_WRITE_MAX		32

/*
 * Not kstrto*_from_user(): they look at the first few dozen bytes only and
 * stop at a NUL, so that "0\0junk", or "1\n" followed by a megabyte of
 * anything, would pass for a number and start, stop or reset a trace.
 */
int mlite_parse_write(const char __user *ubuf, size_t count, unsigned int base,
		      u64 *val)
{
	char buf[MLITE_WRITE_MAX + 1];

	if (!count || count > MLITE_WRITE_MAX)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (strlen(buf) != count)
		return -EINVAL;		/* a NUL inside the write */
	return kstrtou64(buf, base, val) ? -EINVAL : 0;
}

static DEFINE_MUTEX(mlite_probe_lock);
static unsigned int mlite_probe_users;

int mlite_probes_get(void)
{
	struct diag_msg msg = {};
	int ret = 0;

	mutex_lock(&mlite_probe_lock);
	if (!mlite_probe_users) {
		ret = diag_tracepoints_attach(mlite_tracepoints,
					      ARRAY_SIZE(mlite_tracepoints),
					      &msg);
		if (ret)
			pr_warn("diagnose: migration trace: %s\n", msg.text);
	}
	if (!ret)
		mlite_probe_users++;
	mutex_unlock(&mlite_probe_lock);
	return ret;
}

void mlite_probes_put(void)
{
	mutex_lock(&mlite_probe_lock);
	if (!WARN_ON_ONCE(!mlite_probe_users) && !--mlite_probe_users)
		diag_tracepoints_detach(mlite_tracepoints,
					ARRAY_SIZE(mlite_tracepoints));
	mutex_unlock(&mlite_probe_lock);
}

/*
 * A facility that stopped itself in probe context (with a runqueue lock
 * held, where waking a worker could deadlock) gets its probe reference
 * dropped here: irq_work first, then a work item that may sleep.
 */
static void mlite_settle_fn(struct work_struct *work)
{
	mtrace_settle();
	mstat_settle();
}

static DECLARE_WORK(mlite_settle_work, mlite_settle_fn);

static void mlite_settle_irq_fn(struct irq_work *work)
{
	schedule_work(&mlite_settle_work);
}

static struct irq_work mlite_settle_irq = IRQ_WORK_INIT(mlite_settle_irq_fn);

void mlite_settle_later(void)
{
	irq_work_queue(&mlite_settle_irq);
}

int diag_mlite_init(void)
{
	int ret;

	ret = mtrace_init();
	if (ret)
		return ret;
	ret = mstat_init();
	if (ret) {
		mtrace_exit();
		return ret;
	}
	return 0;
}

void diag_mlite_exit(void)
{
	/* both stop, drop their probes and wait for probes in flight */
	mstat_exit();
	mtrace_exit();
	/* nothing can queue a settle any more */
	irq_work_sync(&mlite_settle_irq);
	cancel_work_sync(&mlite_settle_work);
}
