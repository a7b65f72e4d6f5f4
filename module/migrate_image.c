// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-image: every CPU migration of the watched tasks, recorded at the
 * moment it happens with the task's load, memory and I/O, and why the
 * scheduler moved it.
 *
 * The source is the sched_migrate_task tracepoint, which set_task_cpu()
 * fires before it changes the task's CPU: task_cpu(p) is still the source
 * there, and everything is read from the migrating task p (the probe runs
 * in whichever task does the moving, never in p).  set_task_cpu() fires it
 * also when the CPU does not change; that is not a migration and, like
 * se.nr_migrations, we do not count it.
 *
 * New tasks are placed by wake_up_new_task() with __set_task_cpu(), which
 * neither fires the tracepoint nor counts in se.nr_migrations.  We record
 * that placement from sched_wakeup_new when it is not the parent's CPU,
 * flagged so that it is never counted as a migration.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>
#include "core.h"
#include "migrate_cause.h"
#include "task_info.h"

static void record_move(struct task_struct *p, u32 orig_cpu, u32 dest_cpu,
			u32 cause, unsigned long caller, u32 flags)
{
	struct diag_migrate_record *r;
	struct diag_ring_slot slot;
	struct diag_task_io io;

	r = diag_ring_reserve(&diag_migrate_image.ring, &slot, DIAG_REC_MIGRATE,
			      sizeof(*r));
	if (!r)
		return;
	r->pid = p->pid;
	r->tgid = p->tgid;
	/* comm may be renamed under us; a torn name is still terminated */
	memcpy(r->comm, p->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->prio = p->prio;
	r->cause = cause;
	r->orig_cpu = orig_cpu;
	r->dest_cpu = dest_cpu;
	r->flags = flags;
	r->reserved = 0;
	r->load_avg = p->se.avg.load_avg;
	r->util_avg = p->se.avg.util_avg;
	r->rss_bytes = diag_task_rss_bytes(p);
	diag_task_io(p, &io);
	r->rchar = io.rchar;
	r->wchar = io.wchar;
	r->read_bytes = io.read_bytes;
	r->write_bytes = io.write_bytes;
	r->caller = caller;
	diag_ring_commit(&slot);
}

/* Runs with the runqueue (or p->pi_lock) held and interrupts off. */
static void probe_migrate_task(void *data, struct task_struct *p, int dest_cpu)
{
	unsigned int orig_cpu = task_cpu(p);
	unsigned long caller;
	u32 cause;

	if (!diag_filter_match(&diag_migrate_image.filter, p))
		return;
	if (orig_cpu == dest_cpu)
		return;
	cause = diag_migrate_cause(p, dest_cpu, &caller);
	record_move(p, orig_cpu, dest_cpu, cause, caller,
		    diag_migrate_flags(p));
}

/* Runs in the parent, which is on the CPU the child started from. */
static void probe_wakeup_new(void *data, struct task_struct *p)
{
	unsigned int parent_cpu = smp_processor_id();

	if (!diag_filter_match(&diag_migrate_image.filter, p))
		return;
	if (task_cpu(p) == parent_cpu)
		return;
	record_move(p, parent_cpu, task_cpu(p), DIAG_CAUSE_SCHED_FORK, 0,
		    diag_migrate_flags(p) | DIAG_MIGRATE_FORK_PLACEMENT);
}

static struct diag_tracepoint migrate_image_tracepoints[] = {
	DIAG_TRACEPOINT(sched_migrate_task, probe_migrate_task),
	DIAG_TRACEPOINT(sched_wakeup_new, probe_wakeup_new),
};

static int migrate_image_activate(struct diag_function *fn,
				  const void *settings, struct diag_msg *msg)
{
	return diag_tracepoints_attach(migrate_image_tracepoints,
				       ARRAY_SIZE(migrate_image_tracepoints),
				       msg);
}

static void migrate_image_deactivate(struct diag_function *fn)
{
	diag_tracepoints_detach(migrate_image_tracepoints,
				ARRAY_SIZE(migrate_image_tracepoints));
}

struct diag_function diag_migrate_image = {
	.id = DIAG_FN_MIGRATE_IMAGE,
	.name = "migrate-image",
	.settings_size = sizeof(struct diag_migrate_image_settings),
	.max_record = sizeof(struct diag_migrate_record),
	.activate = migrate_image_activate,
	.deactivate = migrate_image_deactivate,
};
