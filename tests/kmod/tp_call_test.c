// SPDX-License-Identifier: GPL-2.0
/*
 * tp_call_test: calls the probes attached to the sched_migrate_task
 * tracepoint as the tracepoint itself does (its iterator: every probe in
 * turn, preemption off), for bench/migration-cost.sh --guest.  What each
 * watcher (diagnose.ko, the BPF backend, bpftrace, ftrace) costs a
 * migration is the time its probe adds to one call; measured here in a
 * one-CPU guest under instruction counting, where timings are exact and
 * no real migration can happen.
 *
 * /sys/kernel/debug/tp_call_test/sched_migrate_task
 *   write "N"   calls the probes N times with (current, another CPU), as
 *               set_task_cpu() would for a move of the writer; nothing
 *               moves, the probes only see the call (a watcher that filters
 *               the writer out costs its filter)
 *   read        "N NS": the calls of the last write and the nanoseconds
 *               they took (CLOCK_MONOTONIC)
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/uaccess.h>
#include <linux/sched.h>
#include <linux/ktime.h>
#include <linux/tracepoint.h>

typedef void (*migrate_probe_t)(void *data, struct task_struct *p,
				int dest_cpu);

static struct dentry *dir;
static struct tracepoint *migrate_tp;
static DEFINE_MUTEX(calls_lock);
static u64 last_calls, last_ns;

static void find_migrate_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_migrate_task"))
		migrate_tp = tp;
}

/*
 * One call of the tracepoint: its probes, as __traceiter_*() runs them,
 * with interrupts off as set_task_cpu() has them (under the runqueue
 * lock).  @dest_cpu need not be online: the probes only compare and store
 * it, as the kernel's own event does.
 */
static void call_probes(struct task_struct *p, int dest_cpu)
{
	struct tracepoint_func *f;
	unsigned long flags;

	local_irq_save(flags);
	preempt_disable_notrace();
	f = rcu_dereference_sched(migrate_tp->funcs);
	if (f) {
		for (; f->func; f++)
			((migrate_probe_t)f->func)(f->data, p, dest_cpu);
	}
	preempt_enable_notrace();
	local_irq_restore(flags);
}

static ssize_t calls_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	unsigned long n, i;
	u64 t0, ns = 0;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &n);
	if (ret)
		return ret;
	if (!n || n > 100000000)
		return -EINVAL;
	mutex_lock(&calls_lock);
	for (i = 0; i < n; i++) {
		t0 = ktime_get_ns();
		call_probes(current, task_cpu(current) + 1);
		ns += ktime_get_ns() - t0;
		/* every 4096 calls a chance to reschedule: not timed */
		if (!(i & 4095))
			cond_resched();
	}
	last_calls = n;
	last_ns = ns;
	mutex_unlock(&calls_lock);
	return count;
}

static ssize_t calls_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	char buf[48];
	int len;

	mutex_lock(&calls_lock);
	len = scnprintf(buf, sizeof(buf), "%llu %llu\n", last_calls, last_ns);
	mutex_unlock(&calls_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations calls_fops = {
	.owner = THIS_MODULE,
	.write = calls_write,
	.read = calls_read,
	.llseek = noop_llseek,
};

static int __init tp_call_test_init(void)
{
	for_each_kernel_tracepoint(find_migrate_tp, NULL);
	if (!migrate_tp)
		return -ENOENT;
	dir = debugfs_create_dir("tp_call_test", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file("sched_migrate_task", 0600, dir, NULL, &calls_fops);
	return 0;
}

static void __exit tp_call_test_exit(void)
{
	debugfs_remove(dir);
}

module_init(tp_call_test_init);
module_exit(tp_call_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("calls the sched_migrate_task tracepoint's probes, for a cost benchmark");
