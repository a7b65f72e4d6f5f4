/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module core shared by every diagnosis function: the function
 * registry behind the ioctl dispatch, task filters, tracepoint attachment
 * by name, and error messages for user space.
 */
#ifndef DIAG_CORE_H
#define DIAG_CORE_H

#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/security.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>
#include <trace/events/task.h>
#include "../uapi/diagnose.h"
#include "ring.h"

#define DIAG_MODULE_VERSION	"0.1.0"

/* A one-line reason for a failed call, returned in diag_ioc.msg. */
struct diag_msg {
	char text[DIAG_MSG_LEN];
};

__printf(2, 3) void diag_msg_set(struct diag_msg *msg, const char *fmt, ...);

/*
 * Task filter, built from the common settings.  Checked first thing in
 * every probe, so it must stay cheap: a few integer compares and, when a
 * comm is set, one 16-byte compare (task comms are NUL-padded since
 * __set_task_comm() uses strscpy_pad(); a fork copies the padded name).
 */
struct diag_filter {
	pid_t tgid;
	pid_t pid;
	bool has_comm;
	char comm[DIAG_COMM_LEN];
};

static inline bool diag_filter_match(const struct diag_filter *f,
				     const struct task_struct *p)
{
	if (f->pid && p->pid != f->pid)
		return false;
	if (f->tgid && p->tgid != f->tgid)
		return false;
	if (f->has_comm && memcmp(p->comm, f->comm, DIAG_COMM_LEN))
		return false;
	return true;
}

/*
 * One diagnosis function.  The function fills in the first block; the
 * core owns the rest.  The core validates the common settings, builds the
 * filter and allocates the ring before ->activate(), which only attaches
 * probes; after ->deactivate() has detached them and waited for probes in
 * flight, the core frees the ring.  All verbs run under ->lock.
 */
struct diag_function {
	u32 id;				/* enum diag_function_id */
	const char *name;
	u32 settings_size;		/* size of the function's settings struct */
	u32 max_record;			/* largest record a probe writes */
	/* optional: check function-specific settings before anything else */
	int (*validate)(const void *settings, struct diag_msg *msg);
	int (*activate)(struct diag_function *fn, const void *settings,
			struct diag_msg *msg);
	void (*deactivate)(struct diag_function *fn);
	/*
	 * optional: bring the settings' out-fields (counters) up to date and
	 * move what the function keeps outside the ring into it, before user
	 * space reads them; called by the settings and report verbs, under
	 * ->lock, while active.  Returns true while it still holds records
	 * that found no room: the report then says there is more, and the
	 * next report call (after this drain made room) gets them.
	 */
	bool (*sync)(struct diag_function *fn);

	/* core state */
	struct mutex lock;
	bool active;
	struct diag_filter filter;
	struct diag_ring ring;
	void *settings;			/* last activation's settings */
};

/* Every function the module provides; one line per function in core.c. */
extern struct diag_function diag_migrate_image;
extern struct diag_function diag_kprobe;
extern struct diag_function diag_keytime_image;
extern struct diag_function diag_resource_image;

/*
 * 0 when the kernel's lockdown allows @what (LOCKDOWN_KPROBES, ...), else
 * its error (-EPERM) with a message naming @fn.
 */
int diag_locked_down(enum lockdown_reason what,
		     const struct diag_function *fn, struct diag_msg *msg);

/*
 * The message for a buffer of @bytes that the memory budget refused
 * (mem.h); returns -ENOMEM for the caller to pass on.
 */
int diag_mem_refused(struct diag_msg *msg, const char *what, u64 bytes);

/*
 * For functions that must watch chosen tasks, not the whole machine: 0
 * when a pid, tgid or comm is set, else -EINVAL with a message.
 */
int diag_require_task_filter(const struct diag_function *fn,
			     const struct diag_common_settings *c,
			     struct diag_msg *msg);

int diag_core_init(void);
void diag_core_exit(void);
long diag_core_ioctl(unsigned int cmd, unsigned long arg);

/*
 * Sched tracepoints are not exported to modules: look them up by name
 * with for_each_kernel_tracepoint() and attach with
 * tracepoint_probe_register().
 */
struct diag_tracepoint {
	const char *name;
	void *probe;
	void *data;
	struct tracepoint *tp;		/* set while registered */
};

/*
 * An entry of a struct diag_tracepoint table: tracepoint @tp, probe @fn.
 * The kernel's headers declare every tracepoint's callback type (the
 * symbols themselves are not exported, so only the declarations are
 * used): check_trace_callback_type_<tp>() makes the compiler check @fn
 * against it, so a probe whose arguments do not match the kernel it is
 * built for fails to build instead of reading the wrong registers.
 * sizeof() type-checks the call without making it.
 */
#define DIAG_TRACEPOINT(tp, fn)						\
	{ .name = #tp, .probe = (void *)(fn) +				\
	  0 * sizeof((check_trace_callback_type_##tp(fn), 0)) }

/*
 * A sched_switch probe for the running kernel: 5.18 added prev_state to
 * the tracepoint (commit fa2c3254d7cf, "sched/tracing: Don't re-read
 * p->state when emitting sched_switch event"); before, it is read from the
 * task.  Defines @name, which calls @handler(preempt, prev, next,
 * prev_state).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 18, 0)
#define DIAG_SCHED_SWITCH_PROBE(name, handler)				\
static void name(void *data, bool preempt, struct task_struct *prev,	\
		 struct task_struct *next, unsigned int prev_state)	\
{									\
	handler(preempt, prev, next, prev_state);			\
}
#else
#define DIAG_SCHED_SWITCH_PROBE(name, handler)				\
static void name(void *data, bool preempt, struct task_struct *prev,	\
		 struct task_struct *next)				\
{									\
	handler(preempt, prev, next, READ_ONCE(prev->__state));	\
}
#endif

int diag_tracepoints_attach(struct diag_tracepoint *tps, unsigned int n,
			    struct diag_msg *msg);
/* Detach all and wait until no probe is running any more. */
void diag_tracepoints_detach(struct diag_tracepoint *tps, unsigned int n);

#endif /* DIAG_CORE_H */
