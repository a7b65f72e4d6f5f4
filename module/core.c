// SPDX-License-Identifier: GPL-2.0
/*
 * The function registry and the ioctl dispatch: every command is
 * function x verb, and the verbs are implemented here once for all
 * functions.  A function only supplies its settings layout, a validator
 * and the attach/detach of its probes.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/mm.h>
#include <linux/math64.h>
#include <linux/security.h>
#include "core.h"
#include "ksyms.h"
#include "migrate_cause.h"
#include "mem.h"

static struct diag_function *diag_functions[] = {
	&diag_migrate_image,
	&diag_kprobe,
	&diag_keytime_image,
	&diag_resource_image,
};

void diag_msg_set(struct diag_msg *msg, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg->text, sizeof(msg->text), fmt, args);
	va_end(args);
}

static struct diag_function *find_function(u32 id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(diag_functions); i++)
		if (diag_functions[i]->id == id)
			return diag_functions[i];
	return NULL;
}

/* See DIAG_BUF_KIB_DEFAULT: large enough for minutes of a busy process. */
static u32 default_buf_kib(void)
{
	u64 budget = ((u64)totalram_pages() << (PAGE_SHIFT - 10)) / 64;
	u64 kib = div_u64(budget, num_possible_cpus());

	return clamp_t(u64, kib, DIAG_BUF_KIB_DEFAULT_MIN, DIAG_BUF_KIB_DEFAULT);
}

static int validate_common(const struct diag_function *fn,
			   const struct diag_common_settings *c,
			   struct diag_msg *msg)
{
	u32 kib = c->buf_kib;

	if (c->tgid < 0 || c->pid < 0) {
		diag_msg_set(msg, "tgid and pid must not be negative");
		return -EINVAL;
	}
	if (!memchr(c->comm, '\0', DIAG_COMM_LEN)) {
		diag_msg_set(msg, "comm is longer than %d characters",
			     DIAG_COMM_LEN - 1);
		return -EINVAL;
	}
	if (kib > DIAG_BUF_KIB_MAX) {
		diag_msg_set(msg, "buffer of %u KiB per CPU is over the limit of %u KiB",
			     kib, DIAG_BUF_KIB_MAX);
		return -EINVAL;
	}
	if ((u64)kib * 1024 < 2 * (u64)fn->max_record) {
		diag_msg_set(msg, "buffer of %u KiB per CPU is too small: %s records take up to %u bytes",
			     kib, fn->name, fn->max_record);
		return -EINVAL;
	}
	if (c->verbose > DIAG_VERBOSE_MAX) {
		diag_msg_set(msg, "verbose %u is over the limit of %u",
			     c->verbose, DIAG_VERBOSE_MAX);
		return -EINVAL;
	}
	if (c->reserved) {
		diag_msg_set(msg, "reserved settings field is not zero");
		return -EINVAL;
	}
	return 0;
}

int diag_mem_refused(struct diag_msg *msg, const char *what, u64 bytes)
{
	diag_msg_set(msg, "%s of %llu KiB is over the memory limit: %llu of %llu MiB in use (mem_limit_mib)",
		     what, bytes >> 10, diag_mem_used() >> 20,
		     diag_mem_limit() >> 20);
	return -ENOMEM;
}

int diag_locked_down(enum lockdown_reason what,
		     const struct diag_function *fn, struct diag_msg *msg)
{
	int ret = security_locked_down(what);

	if (ret)
		diag_msg_set(msg, "the kernel is locked down: its lockdown forbids the kprobes %s needs",
			     fn->name);
	return ret;
}

int diag_require_task_filter(const struct diag_function *fn,
			     const struct diag_common_settings *c,
			     struct diag_msg *msg)
{
	if (c->pid || c->tgid || c->comm[0])
		return 0;
	diag_msg_set(msg, "%s needs a task to watch: pid, tgid or comm",
		     fn->name);
	return -EINVAL;
}

static void build_filter(struct diag_filter *f,
			 const struct diag_common_settings *c)
{
	f->tgid = c->tgid;
	f->pid = c->pid;
	f->has_comm = c->comm[0] != '\0';
	/* NUL-padded, as the task's comm is: see diag_filter_match() */
	memset(f->comm, 0, sizeof(f->comm));
	strscpy(f->comm, c->comm, sizeof(f->comm));
}

static int verb_activate(struct diag_function *fn, const struct diag_ioc *ioc,
			 struct diag_msg *msg)
{
	struct diag_common_settings *common;
	void *settings;
	int ret;

	if (ioc->arg_size != fn->settings_size) {
		diag_msg_set(msg, "settings of %u bytes, the module expects %u",
			     ioc->arg_size, fn->settings_size);
		return -EINVAL;
	}
	settings = memdup_user(u64_to_user_ptr(ioc->arg), fn->settings_size);
	if (IS_ERR(settings)) {
		diag_msg_set(msg, "cannot read the settings from user memory");
		return PTR_ERR(settings);
	}
	common = settings;
	common->buf_kib = common->buf_kib ?: default_buf_kib();
	ret = validate_common(fn, common, msg);
	if (!ret && fn->validate)
		ret = fn->validate(settings, msg);
	if (ret)
		goto out;

	mutex_lock(&fn->lock);
	if (fn->active) {
		diag_msg_set(msg, "%s is already active; deactivate it first",
			     fn->name);
		ret = -EBUSY;
		goto unlock;
	}
	build_filter(&fn->filter, common);
	ret = diag_ring_alloc(&fn->ring, common->buf_kib, 2 * fn->max_record);
	if (ret == -E2BIG) {
		ret = diag_mem_refused(msg, "the buffer",
				       (u64)common->buf_kib * 1024 *
				       num_possible_cpus());
		goto unlock;
	} else if (ret) {
		diag_msg_set(msg, "cannot allocate %u KiB per CPU for the buffer",
			     common->buf_kib);
		goto unlock;
	}
	ret = fn->activate(fn, settings, msg);
	if (ret) {
		diag_ring_free(&fn->ring);
		goto unlock;
	}
	common->activated = 1;
	memcpy(fn->settings, settings, fn->settings_size);
	fn->active = true;
unlock:
	mutex_unlock(&fn->lock);
out:
	kfree(settings);
	return ret;
}

/* Caller holds fn->lock and fn is active. */
static void deactivate_locked(struct diag_function *fn)
{
	struct diag_common_settings *common = fn->settings;

	/* detaches every probe and waits for those in flight */
	fn->deactivate(fn);
	diag_ring_free(&fn->ring);
	common->activated = 0;
	fn->active = false;
}

static int verb_deactivate(struct diag_function *fn, const struct diag_ioc *ioc,
			   struct diag_msg *msg)
{
	int ret = 0;

	if (ioc->arg_size || ioc->arg) {
		diag_msg_set(msg, "deactivate takes no argument (size %u given)",
			     ioc->arg_size);
		return -EINVAL;
	}
	mutex_lock(&fn->lock);
	if (fn->active) {
		deactivate_locked(fn);
	} else {
		diag_msg_set(msg, "%s is not active", fn->name);
		ret = -ENODATA;
	}
	mutex_unlock(&fn->lock);
	return ret;
}

static int verb_settings(struct diag_function *fn, const struct diag_ioc *ioc,
			 struct diag_msg *msg)
{
	int ret = 0;

	if (ioc->arg_size != fn->settings_size) {
		diag_msg_set(msg, "settings of %u bytes, the module expects %u",
			     ioc->arg_size, fn->settings_size);
		return -EINVAL;
	}
	mutex_lock(&fn->lock);
	if (fn->active && fn->sync)
		fn->sync(fn);
	if (copy_to_user(u64_to_user_ptr(ioc->arg), fn->settings,
			 fn->settings_size)) {
		diag_msg_set(msg, "cannot write the settings to user memory");
		ret = -EFAULT;
	}
	mutex_unlock(&fn->lock);
	return ret;
}

static int verb_report(struct diag_function *fn, const struct diag_ioc *ioc,
		       struct diag_msg *msg)
{
	void __user *urep = u64_to_user_ptr(ioc->arg);
	struct diag_ring_iter *drained;
	struct diag_report rep;
	bool pending;
	int ret;

	if (ioc->arg_size != sizeof(rep)) {
		diag_msg_set(msg, "report request of %u bytes, the module expects %zu",
			     ioc->arg_size, sizeof(rep));
		return -EINVAL;
	}
	if (copy_from_user(&rep, urep, sizeof(rep))) {
		diag_msg_set(msg, "cannot read the report request from user memory");
		return -EFAULT;
	}
	if (rep.flags) {
		diag_msg_set(msg, "unknown report flags 0x%x", rep.flags);
		return -EINVAL;
	}

	mutex_lock(&fn->lock);
	if (!fn->active) {
		diag_msg_set(msg, "%s is not active", fn->name);
		ret = -ENODATA;
		goto unlock;
	}
	pending = fn->sync && fn->sync(fn);
	ret = diag_ring_drain(&fn->ring, u64_to_user_ptr(rep.buf), rep.buf_len,
			      &rep, &drained);
	if (ret == -EFAULT) {
		diag_msg_set(msg, "cannot write the report to user memory");
		goto unlock;
	} else if (ret == -ENOSPC) {
		diag_msg_set(msg, "report buffer of %u bytes is too small",
			     rep.buf_len);
		goto unlock;
	} else if (ret) {
		diag_msg_set(msg, "cannot allocate the report state");
		goto unlock;
	}
	if (pending)
		rep.more = 1;
	rep.real_minus_mono_ns = ktime_get_real_ns() - ktime_get_ns();
	/* all or nothing: the records are consumed once the caller has both */
	if (copy_to_user(urep, &rep, sizeof(rep))) {
		diag_msg_set(msg, "cannot write the report request to user memory");
		diag_ring_drain_abort(drained);
		ret = -EFAULT;
		goto unlock;
	}
	diag_ring_drain_commit(drained);
unlock:
	mutex_unlock(&fn->lock);
	return ret;
}

static long ioctl_version(unsigned long arg)
{
	struct diag_version v = {
		.abi_version = DIAG_ABI_VERSION,
		.nr_cpu_ids = nr_cpu_ids,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(diag_functions); i++)
		v.functions |= 1ULL << diag_functions[i]->id;
	strscpy(v.module_version, DIAG_MODULE_VERSION, sizeof(v.module_version));
	return copy_to_user((void __user *)arg, &v, sizeof(v)) ? -EFAULT : 0;
}

long diag_core_ioctl(unsigned int cmd, unsigned long arg)
{
	struct diag_ioc __user *uioc = (void __user *)arg;
	struct diag_function *fn;
	struct diag_msg msg = {};
	struct diag_ioc ioc;
	u32 nr = _IOC_NR(cmd);
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd == DIAG_IOC_VERSION)
		return ioctl_version(arg);
	/* the size and direction bits must be those of struct diag_ioc */
	if (cmd != DIAG_IOC(DIAG_IOC_FN(nr), DIAG_IOC_VERB(nr)))
		return -ENOTTY;
	if (copy_from_user(&ioc, uioc, sizeof(ioc)))
		return -EFAULT;
	if (ioc.abi_version != DIAG_ABI_VERSION) {
		diag_msg_set(&msg, "ABI version %u, the module speaks %u",
			     ioc.abi_version, DIAG_ABI_VERSION);
		ret = -EPROTO;
		goto out;
	}
	fn = find_function(DIAG_IOC_FN(nr));
	if (!fn) {
		diag_msg_set(&msg, "function %u is not in this module",
			     DIAG_IOC_FN(nr));
		ret = -EOPNOTSUPP;
		goto out;
	}
	switch (DIAG_IOC_VERB(nr)) {
	case DIAG_VERB_ACTIVATE:
		ret = verb_activate(fn, &ioc, &msg);
		break;
	case DIAG_VERB_DEACTIVATE:
		ret = verb_deactivate(fn, &ioc, &msg);
		break;
	case DIAG_VERB_SETTINGS:
		ret = verb_settings(fn, &ioc, &msg);
		break;
	default:
		ret = verb_report(fn, &ioc, &msg);
		break;
	}
out:
	if (ret && msg.text[0] &&
	    copy_to_user(uioc->msg, msg.text, sizeof(msg.text)))
		ret = -EFAULT;
	return ret;
}

/* ---- tracepoints, found by name ---- */

struct tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void match_tracepoint(struct tracepoint *tp, void *priv)
{
	struct tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

static struct tracepoint *find_tracepoint(const char *name)
{
	struct tp_lookup l = { .name = name };

	for_each_kernel_tracepoint(match_tracepoint, &l);
	return l.tp;
}

int diag_tracepoints_attach(struct diag_tracepoint *tps, unsigned int n,
			    struct diag_msg *msg)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct tracepoint *tp = find_tracepoint(tps[i].name);

		if (!tp) {
			diag_msg_set(msg, "kernel has no tracepoint %s",
				     tps[i].name);
			ret = -ENOENT;
			goto undo;
		}
		ret = tracepoint_probe_register(tp, tps[i].probe, tps[i].data);
		if (ret) {
			diag_msg_set(msg, "cannot attach to tracepoint %s (%d)",
				     tps[i].name, ret);
			goto undo;
		}
		tps[i].tp = tp;
	}
	return 0;
undo:
	diag_tracepoints_detach(tps, i);
	return ret;
}

void diag_tracepoints_detach(struct diag_tracepoint *tps, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!tps[i].tp)
			continue;
		tracepoint_probe_unregister(tps[i].tp, tps[i].probe,
					    tps[i].data);
		tps[i].tp = NULL;
	}
	/* after this no probe of ours runs, and none can start */
	tracepoint_synchronize_unregister();
}

int diag_core_init(void)
{
	unsigned int i;

	diag_mem_init();
	diag_migrate_cause_init();
	for (i = 0; i < ARRAY_SIZE(diag_functions); i++) {
		struct diag_function *fn = diag_functions[i];

		mutex_init(&fn->lock);
		fn->settings = kzalloc(fn->settings_size, GFP_KERNEL);
		if (!fn->settings) {
			while (i--)
				kfree(diag_functions[i]->settings);
			return -ENOMEM;
		}
	}
	return 0;
}

void diag_core_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(diag_functions); i++) {
		struct diag_function *fn = diag_functions[i];

		mutex_lock(&fn->lock);
		if (fn->active)
			deactivate_locked(fn);
		mutex_unlock(&fn->lock);
		kfree(fn->settings);
		fn->settings = NULL;
	}
}
