// SPDX-License-Identifier: GPL-2.0
/*
 * resource-image: the CPU time, memory and I/O of the watched tasks, one
 * sample per task and interval.
 *
 * Everything is read from the task itself at the moments the scheduler
 * updates its accounting, so nothing between two samples is missed:
 *   - sched_switch, when the task leaves a CPU: its sum_exec_runtime was
 *     just brought up to date, and its I/O counters are those of the
 *     syscalls it made; the last switch of a dying task (TASK_DEAD) gives
 *     its final sample, so a thread that lives for a millisecond between
 *     two intervals is still reported;
 *   - sched_switch, when the task comes onto a CPU: where a task seen for
 *     the first time gets its baseline (it is not running, so its counters
 *     stand still);
 *   - sched_stat_runtime, which update_curr() fires at every tick for the
 *     running CFS task: a task that runs for seconds without switching
 *     still gets a sample per interval.
 * A sample is written when at least the interval has passed since the
 * task's previous one; it covers exactly the time since then.
 *
 * The per-task state (start of the interval and the counters there) lives
 * in a table of max_tasks slots (task_table.c), written only from the
 * task's own switches and ticks.  The probes fire for every task of the
 * machine; the filter rejects the unwatched ones first.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/version.h>
#include <linux/timekeeping.h>
#include "core.h"
#include "task_info.h"
#include "task_table.h"

struct ri_slot {
	struct diag_task_slot hdr;
	u64 start_ns;		/* start of the current interval */
	u64 sum_exec;		/* the counters at the start */
	struct diag_task_io io;
	u64 nvcsw, nivcsw;
	u64 cpus;		/* CPUs run on since the start */
};

static struct {
	u64 interval_ns;
	struct diag_task_table tasks;
	atomic_t full_reported;
} ri;

static void ri_baseline(struct ri_slot *s, struct task_struct *p, u64 now)
{
	s->start_ns = now;
	s->sum_exec = p->se.sum_exec_runtime;
	diag_task_io(p, &s->io);
	s->nvcsw = p->nvcsw;
	s->nivcsw = p->nivcsw;
	s->cpus = 0;
}

static inline u64 cpu_bit(unsigned int cpu)
{
	return cpu < 64 ? 1ULL << cpu : 0;
}

/* Say once per activation that a task could not be tracked. */
static void ri_table_full(struct task_struct *p)
{
	struct diag_resource_record *r;
	struct diag_ring_slot slot;

	if (atomic_xchg(&ri.full_reported, 1))
		return;
	r = diag_ring_reserve(&diag_resource_image.ring, &slot,
			      DIAG_REC_RESOURCE, sizeof(*r));
	if (!r)
		return;
	memset((void *)r + sizeof(r->hdr), 0, sizeof(*r) - sizeof(r->hdr));
	r->pid = p->pid;
	r->tgid = p->tgid;
	memcpy(r->comm, p->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->flags = DIAG_RI_TABLE_FULL;
	diag_ring_commit(&slot);
}

/*
 * The slot of @p, made with a baseline when it has none.  @p is current
 * or not running.  NULL for tasks that are going away (their final switch
 * has been sampled already) or that do not fit.
 */
static struct ri_slot *ri_slot_of(struct task_struct *p)
{
	struct ri_slot *s = diag_task_table_find(&ri.tasks, p->pid);

	if (s || (p->flags & PF_EXITING) || !p->pid)
		return s;
	s = diag_task_table_insert(&ri.tasks, p->pid);
	if (!s) {
		ri_table_full(p);
		return NULL;
	}
	ri_baseline(s, p, ktime_get_mono_fast_ns());
	return s;
}

/* Write a sample of current @p covering the time since s->start_ns. */
static void ri_sample(struct task_struct *p, struct ri_slot *s, u32 flags)
{
	unsigned int cpu = smp_processor_id();
	struct diag_resource_record *r;
	struct diag_ring_slot slot;
	struct diag_task_io io;
	u64 sum = p->se.sum_exec_runtime;

	r = diag_ring_reserve(&diag_resource_image.ring, &slot,
			      DIAG_REC_RESOURCE, sizeof(*r));
	if (!r)
		return;	/* counted as lost; the next sample covers this one */
	diag_task_io(p, &io);
	r->pid = p->pid;
	r->tgid = p->tgid;
	memcpy(r->comm, p->comm, DIAG_COMM_LEN);
	r->comm[DIAG_COMM_LEN - 1] = '\0';
	r->start_ns = s->start_ns;
	r->cpu_ns = sum - s->sum_exec;
	r->cpu_total_ns = sum;
	r->cpus = s->cpus | cpu_bit(cpu);
	r->cpu = cpu;
	r->flags = flags;
	if (p->flags & PF_KTHREAD)
		r->flags |= DIAG_RI_KTHREAD;
	r->rss_bytes = diag_task_rss_bytes(p);
	r->rss_unsynced_bytes = diag_task_rss_unsynced_pages(p) *
				(s64)PAGE_SIZE;
	r->total_ram_bytes = (u64)totalram_pages() << PAGE_SHIFT;
	r->rchar = io.rchar - s->io.rchar;
	r->wchar = io.wchar - s->io.wchar;
	r->read_bytes = io.read_bytes - s->io.read_bytes;
	r->write_bytes = io.write_bytes - s->io.write_bytes;
	r->rchar_total = io.rchar;
	r->wchar_total = io.wchar;
	r->nvcsw = p->nvcsw - s->nvcsw;
	r->nivcsw = p->nivcsw - s->nivcsw;
	/* the next interval starts where this one ends */
	ri_baseline(s, p, r->hdr.ts_ns);
	diag_ring_commit(&slot);
}

static inline bool ri_due(const struct ri_slot *s)
{
	return ktime_get_mono_fast_ns() - s->start_ns >= ri.interval_ns;
}

/* @p is current, leaving its CPU. */
static void ri_switch_out(struct task_struct *p, unsigned int prev_state)
{
	struct ri_slot *s = ri_slot_of(p);

	if (!s)
		return;
	if (prev_state & TASK_DEAD) {
		/* its last switch: the counters are final */
		ri_sample(p, s, DIAG_RI_EXITED);
		diag_task_table_remove(&ri.tasks, s);
		return;
	}
	s->cpus |= cpu_bit(smp_processor_id());
	if (ri_due(s))
		ri_sample(p, s, 0);
}

/* every context switch of the machine comes here: filter first */
static inline void ri_switch(bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state)
{
	if (diag_filter_match(&diag_resource_image.filter, prev))
		ri_switch_out(prev, prev_state);
	if (diag_filter_match(&diag_resource_image.filter, next))
		ri_slot_of(next);	/* a baseline for a task seen first */
}
DIAG_SCHED_SWITCH_PROBE(probe_switch, ri_switch)

/*
 * update_curr() of a CFS task, with its runqueue locked: at every tick,
 * at wakeups on its CPU, and as it leaves the CPU (just before
 * sched_switch).  Only when the task is current: update_curr() also runs
 * for tasks on other CPUs, whose state their own CPU may be writing.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
static void probe_runtime(void *data, struct task_struct *p, u64 runtime)
#else
static void probe_runtime(void *data, struct task_struct *p, u64 runtime,
			  u64 vruntime)
#endif
{
	struct ri_slot *s;

	if (!diag_filter_match(&diag_resource_image.filter, p))
		return;
	if (p != current)
		return;
	s = ri_slot_of(p);
	if (!s)
		return;
	s->cpus |= cpu_bit(smp_processor_id());
	/*
	 * In __schedule() (the task leaving its CPU) update_curr() runs in
	 * process context; from the tick or a wakeup, in an interrupt.
	 */
	if (ri_due(s))
		ri_sample(p, s, in_hardirq() ? DIAG_RI_RUNNING : 0);
}

static struct diag_tracepoint ri_tracepoints[] = {
	{ .name = "sched_switch", .probe = probe_switch },
	{ .name = "sched_stat_runtime", .probe = probe_runtime },
};

static int resource_validate(const void *settings, struct diag_msg *msg)
{
	const struct diag_resource_image_settings *s = settings;
	u32 interval = s->interval_ms ?: DIAG_RI_INTERVAL_MS_DEFAULT;
	u32 tasks = s->max_tasks ?: DIAG_RI_TASKS_DEFAULT;

	if (interval < DIAG_RI_INTERVAL_MS_MIN ||
	    interval > DIAG_RI_INTERVAL_MS_MAX) {
		diag_msg_set(msg, "interval of %u ms is outside %u..%u ms",
			     interval, DIAG_RI_INTERVAL_MS_MIN,
			     DIAG_RI_INTERVAL_MS_MAX);
		return -EINVAL;
	}
	if (tasks > DIAG_RI_TASKS_MAX) {
		diag_msg_set(msg, "max_tasks of %u is over the limit of %u",
			     tasks, DIAG_RI_TASKS_MAX);
		return -EINVAL;
	}
	return diag_require_task_filter(&diag_resource_image, &s->common, msg);
}

static int resource_activate(struct diag_function *fn, const void *settings,
			     struct diag_msg *msg)
{
	const struct diag_resource_image_settings *in = settings;
	u32 tasks = in->max_tasks ?: DIAG_RI_TASKS_DEFAULT;
	int ret;

	ri.interval_ns = (u64)(in->interval_ms ?: DIAG_RI_INTERVAL_MS_DEFAULT) *
			 NSEC_PER_MSEC;
	atomic_set(&ri.full_reported, 0);
	ret = diag_task_table_alloc(&ri.tasks, tasks, sizeof(struct ri_slot));
	if (ret) {
		diag_msg_set(msg, "cannot allocate a table of %u tasks", tasks);
		return ret;
	}
	ret = diag_tracepoints_attach(ri_tracepoints,
				      ARRAY_SIZE(ri_tracepoints), msg);
	if (ret) {
		diag_task_table_free(&ri.tasks);
		return ret;
	}
	return 0;
}

static void resource_deactivate(struct diag_function *fn)
{
	diag_tracepoints_detach(ri_tracepoints, ARRAY_SIZE(ri_tracepoints));
	diag_task_table_free(&ri.tasks);
}

struct diag_function diag_resource_image = {
	.id = DIAG_FN_RESOURCE_IMAGE,
	.name = "resource-image",
	.settings_size = sizeof(struct diag_resource_image_settings),
	.max_record = sizeof(struct diag_resource_record),
	.validate = resource_validate,
	.activate = resource_activate,
	.deactivate = resource_deactivate,
};
