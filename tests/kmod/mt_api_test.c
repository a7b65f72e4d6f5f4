// SPDX-License-Identifier: GPL-2.0
/*
 * mt_api_test: drives diagnose.ko's migration trace kernel API
 * (<linux/migrate_trace_lite.h>) for the guest tests.
 *
 * Write one command to /sys/kernel/debug/mt_api_test/cmd; the write fails
 * with the API's errno when the API refuses:
 *   enable E R        mt_trace_enable(E, R)
 *   mark N            mt_trace_mark(N) from process context
 *   mark_irq N        mt_trace_mark(N) from hard interrupt context (irq_work)
 *   marks COUNT BASE  mt_trace_mark(BASE + i) for i in 0..COUNT-1
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/irq_work.h>
#include <linux/uaccess.h>
#include <linux/hardirq.h>
#include <linux/migrate_trace_lite.h>

static struct dentry *dir;
static unsigned long irq_mark;
static bool irq_mark_in_irq;

static void mark_from_irq(struct irq_work *work)
{
	irq_mark_in_irq = in_hardirq();
	mt_trace_mark(irq_mark);
}

static struct irq_work mark_work = IRQ_WORK_INIT_HARD(mark_from_irq);

static ssize_t cmd_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char buf[64];
	unsigned long a, b;
	int e, r, ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	if (sscanf(buf, "enable %d %d", &e, &r) == 2) {
		ret = mt_trace_enable(e, r);
		return ret ?: count;
	}
	if (sscanf(buf, "marks %lu %lu", &a, &b) == 2) {
		unsigned long i;

		for (i = 0; i < a; i++) {
			mt_trace_mark(b + i);
			cond_resched();
		}
		return count;
	}
	if (sscanf(buf, "mark_irq %lu", &a) == 1) {
		irq_mark = a;
		irq_work_queue(&mark_work);
		irq_work_sync(&mark_work);
		return irq_mark_in_irq ? count : -EIO;
	}
	if (sscanf(buf, "mark %lu", &a) == 1) {
		mt_trace_mark(a);
		return count;
	}
	return -EINVAL;
}

static const struct file_operations cmd_fops = {
	.owner = THIS_MODULE,
	.write = cmd_write,
	.llseek = noop_llseek,
};

static int __init mt_api_test_init(void)
{
	dir = debugfs_create_dir("mt_api_test", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file("cmd", 0200, dir, NULL, &cmd_fops);
	return 0;
}

static void __exit mt_api_test_exit(void)
{
	debugfs_remove(dir);
	irq_work_sync(&mark_work);
}

module_init(mt_api_test_init);
module_exit(mt_api_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("test driver of diagnose.ko's migration trace kernel API");
