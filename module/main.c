// SPDX-License-Identifier: GPL-2.0
/*
 * diagnose.ko: the misc device /dev/diagnose (root only) through which
 * diagnose-tools drives every diagnosis function.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/capability.h>
#include "core.h"
#include "migration_lite.h"

static int diag_open(struct inode *inode, struct file *file)
{
	/* the node is 0600 already; this holds if someone loosens it */
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

static long diag_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return diag_core_ioctl(cmd, arg);
}

static const struct file_operations diag_fops = {
	.owner = THIS_MODULE,
	.open = diag_open,
	.unlocked_ioctl = diag_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice diag_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DIAG_DEVICE_NAME,
	.fops = &diag_fops,
	.mode = 0600,
};

static int __init diag_init(void)
{
	int ret;

	ret = diag_core_init();
	if (ret)
		return ret;
	ret = misc_register(&diag_miscdev);
	if (ret) {
		diag_core_exit();
		return ret;
	}
	/* debugfs migration_trace/ and migration_stat/ */
	ret = diag_mlite_init();
	if (ret) {
		misc_deregister(&diag_miscdev);
		diag_core_exit();
		return ret;
	}
	pr_info("diagnose: version %s, ABI %d\n", DIAG_MODULE_VERSION,
		DIAG_ABI_VERSION);
	return 0;
}

static void __exit diag_exit(void)
{
	diag_mlite_exit();
	/* no new ioctl can start; open files hold a module reference */
	misc_deregister(&diag_miscdev);
	/* deactivates what is still active: probes off, buffers freed */
	diag_core_exit();
}

module_init(diag_init);
module_exit(diag_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("diagnose-tools: process and scheduler diagnosis");
MODULE_VERSION(DIAG_MODULE_VERSION);
