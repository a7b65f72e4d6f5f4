// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/migration_stat/: migrations counted per cause and per
 * period, cheap enough to leave running for days (docs/migration-trace.md).
 *
 *   enable       read: 1 while counting.  write 1: start (refused while
 *                the stat holds data: write 0 to reset first); 0: stop.
 *   period_msec  read/write the period; only while the stat is empty.
 *   reset        write 0: stop and empty the stat (frees the counters).
 *   stat         a header, then one line per complete period: its start
 *                in seconds since the start, the count of every cause,
 *                of fork placements, and "migrate", the sum of the causes.
 *
 * Each CPU counts into its own array, on its own node, of
 * migration_stat_hours * 3600 periods; a period's line sums the CPUs.
 * Counting stops when the time runs past the last period.
 *
 * The refusals, each with its own errno:
 *   EEXIST       start while the stat holds data
 *   EALREADY     start while counting
 *   ENOTEMPTY    change period_msec while the stat holds data
 *   EINVAL       a write that is not one of the values above
 *   EFAULT       a write from memory that cannot be read
 *   ENOMEM       the counters cannot be allocated
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "mem.h"
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include "migrate_cause.h"
#include "migration_lite.h"

#define MSTAT_HOURS_MAX		8760
#define MSTAT_PERIOD_MSEC_MAX	86400000u	/* one day */
/* every cause, then fork placements */
#define MSTAT_NR_FIELDS		(DIAG_NR_CAUSES + 1)

static unsigned int mstat_hours = 1;

static int mstat_hours_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, MSTAT_HOURS_MAX);
}

static const struct kernel_param_ops mstat_hours_ops = {
	.set = mstat_hours_set,
	.get = param_get_uint,
};
module_param_cb(migration_stat_hours, &mstat_hours_ops, &mstat_hours, 0644);
MODULE_PARM_DESC(migration_stat_hours,
		 "migration_stat capacity in hours at a 1 s period, 1..8760 (default 1); a change applies from the next start after a reset");

bool mstat_on;				/* see mstat_recording() */
static DEFINE_MUTEX(mstat_mutex);	/* everything below */
static u32 **mstat_cpu;			/* allocated: the stat is not empty */
static u64 mstat_periods;		/* capacity */
static u32 mstat_period_msec = 1000;
static u64 mstat_period_ns = NSEC_PER_SEC;
static u64 mstat_start_ts, mstat_stop_ts;
static struct timespec64 mstat_start_wall;
static bool mstat_probes, mstat_quiet;
static atomic_t mstat_full = ATOMIC_INIT(0);
static struct dentry *mstat_dir;

/* ---- counting (probe context) ---- */

static void mstat_buffer_full(void)
{
	if (atomic_cmpxchg(&mstat_full, 0, 1))
		return;
	WRITE_ONCE(mstat_on, false);
	mlite_settle_later();
}

/*
 * Both callers run with interrupts off, and only this CPU writes its
 * counters, so a plain increment cannot be torn or lost.
 */
void mstat_count(u32 field, u64 ts_ns)
{
	u64 period;

	if (unlikely(ts_ns < mstat_start_ts))
		return;
	period = div64_u64(ts_ns - mstat_start_ts, mstat_period_ns);
	if (unlikely(period >= mstat_periods)) {
		mstat_buffer_full();
		return;
	}
	mstat_cpu[raw_smp_processor_id()][period * MSTAT_NR_FIELDS + field]++;
}

/* ---- control (process context, mstat_mutex held) ---- */

static u64 mstat_charged;		/* bytes charged to the memory budget */

static void mstat_free(void)
{
	int cpu;

	if (!mstat_cpu)
		return;
	for_each_possible_cpu(cpu)
		diag_mem_free(mstat_cpu[cpu]);
	kfree(mstat_cpu);
	mstat_cpu = NULL;
	diag_mem_uncharge(mstat_charged);
	mstat_charged = 0;
}

static int mstat_alloc(void)
{
	u64 periods = (u64)READ_ONCE(mstat_hours) * 3600;
	size_t bytes = periods * MSTAT_NR_FIELDS * sizeof(u32);
	u64 total = (u64)bytes * num_possible_cpus();
	int cpu;

	if (diag_mem_charge(total)) {
		pr_warn_ratelimited("diagnose: migration_stat of %llu MiB (%u h x %u CPUs) is over the memory limit: %llu of %llu MiB in use (mem_limit_mib)\n",
				    total >> 20, READ_ONCE(mstat_hours),
				    num_possible_cpus(), diag_mem_used() >> 20,
				    diag_mem_limit() >> 20);
		return -ENOMEM;
	}
	mstat_cpu = kcalloc(nr_cpu_ids, sizeof(*mstat_cpu), GFP_KERNEL);
	if (!mstat_cpu) {
		diag_mem_uncharge(total);
		return -ENOMEM;
	}
	mstat_charged = total;
	for_each_possible_cpu(cpu) {
		/* the counting CPU is the only one that writes them */
		mstat_cpu[cpu] = diag_mem_alloc_node(bytes, cpu_to_node(cpu));
		if (!mstat_cpu[cpu]) {
			mstat_free();
			return -ENOMEM;
		}
	}
	mstat_periods = periods;
	return 0;
}

/*
 * Where the last period ends.  Saturated: hours x period_msec can reach
 * past 2^64 ns, and such a stat never fills, rather than filling at once.
 */
static u64 mstat_capacity_end(void)
{
	u64 span, end;

	if (check_mul_overflow(mstat_periods, mstat_period_ns, &span) ||
	    check_add_overflow(mstat_start_ts, span, &end))
		return U64_MAX;
	return end;
}

/* See mtrace_quiesce(): after this no probe touches the counters. */
static void mstat_quiesce(void)
{
	lockdep_assert_held(&mstat_mutex);
	if (mstat_recording())
		return;
	if (mstat_probes) {
		mlite_probes_put();
		mstat_probes = false;
	}
	if (mstat_quiet)
		return;
	synchronize_rcu();
	mstat_quiet = true;
	if (atomic_read(&mstat_full))
		mstat_stop_ts = mstat_capacity_end();
}

/*
 * Counting also ends when the time passes the last period with no
 * migration to notice it: check whenever someone looks.
 */
static void mstat_check_full(void)
{
	lockdep_assert_held(&mstat_mutex);
	if (mstat_recording() &&
	    ktime_get_mono_fast_ns() >= mstat_capacity_end()) {
		atomic_set(&mstat_full, 1);
		WRITE_ONCE(mstat_on, false);
		mstat_quiesce();
	}
}

static int mstat_start(void)
{
	int ret;

	lockdep_assert_held(&mstat_mutex);
	if (mstat_recording())
		return -EALREADY;
	mstat_quiesce();
	if (mstat_cpu)
		return -EEXIST;
	ret = mstat_alloc();
	if (ret)
		return ret;
	ret = mlite_probes_get();
	if (ret) {
		mstat_free();
		return ret;
	}
	mstat_probes = true;
	mstat_quiet = false;
	atomic_set(&mstat_full, 0);
	mstat_stop_ts = 0;
	ktime_get_real_ts64(&mstat_start_wall);
	mstat_start_ts = ktime_get_mono_fast_ns();
	/* pairs with mstat_recording(): start and counters are set */
	smp_store_release(&mstat_on, true);
	return 0;
}

static void mstat_stop(void)
{
	lockdep_assert_held(&mstat_mutex);
	mstat_check_full();
	if (mstat_recording()) {
		mstat_stop_ts = ktime_get_mono_fast_ns();
		WRITE_ONCE(mstat_on, false);
	}
	mstat_quiesce();
}

static void mstat_reset(void)
{
	lockdep_assert_held(&mstat_mutex);
	mstat_stop();
	mstat_free();
	atomic_set(&mstat_full, 0);
	mstat_start_ts = mstat_stop_ts = 0;
	mstat_start_wall = (struct timespec64){};
}

void mstat_settle(void)
{
	mutex_lock(&mstat_mutex);
	mstat_quiesce();
	mutex_unlock(&mstat_mutex);
}

/* ---- debugfs ---- */

static ssize_t mstat_enable_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[4];
	int len;

	mutex_lock(&mstat_mutex);
	mstat_check_full();
	len = scnprintf(buf, sizeof(buf), "%d\n", mstat_recording());
	mutex_unlock(&mstat_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t mstat_enable_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	u64 val;
	int ret;

	ret = mlite_parse_write(ubuf, count, 10, &val);
	if (ret)
		return ret;
	if (val > 1)
		return -EINVAL;
	mutex_lock(&mstat_mutex);
	if (val)
		ret = mstat_start();
	else
		mstat_stop();
	mutex_unlock(&mstat_mutex);
	return ret ?: count;
}

static ssize_t mstat_period_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[16];
	int len = scnprintf(buf, sizeof(buf), "%u\n",
			    READ_ONCE(mstat_period_msec));

	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t mstat_period_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	u64 msec;
	int ret;

	ret = mlite_parse_write(ubuf, count, 10, &msec);
	if (ret)
		return ret;
	if (!msec || msec > MSTAT_PERIOD_MSEC_MAX)
		return -EINVAL;
	ret = count;
	mutex_lock(&mstat_mutex);
	if (mstat_cpu) {
		/* the counters already hold periods of the old length */
		ret = -ENOTEMPTY;
	} else {
		WRITE_ONCE(mstat_period_msec, msec);
		mstat_period_ns = (u64)msec * NSEC_PER_MSEC;
	}
	mutex_unlock(&mstat_mutex);
	return ret;
}

static ssize_t mstat_reset_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	u64 val;
	int ret;

	ret = mlite_parse_write(ubuf, count, 10, &val);
	if (ret)
		return ret;
	if (val != 0)
		return -EINVAL;
	mutex_lock(&mstat_mutex);
	mstat_reset();
	mutex_unlock(&mstat_mutex);
	return count;
}

static const char *mstat_state(void)
{
	if (!mstat_cpu)
		return "empty";
	if (atomic_read(&mstat_full))
		return "full";
	return mstat_recording() ? "running" : "stopped";
}

/* Complete periods so far: the one in progress is not shown. */
static u64 mstat_complete_periods(void)
{
	u64 end = mstat_recording() ? ktime_get_mono_fast_ns() : mstat_stop_ts;

	if (!mstat_cpu || end <= mstat_start_ts)
		return 0;
	return min(div64_u64(end - mstat_start_ts, mstat_period_ns),
		   mstat_periods);
}

static void mstat_show_header(struct seq_file *m)
{
	unsigned int i;

	seq_printf(m, "# version %s\n", DIAG_MSTAT_FORMAT_VERSION);
	seq_printf(m, "# period_msec %u\n", mstat_period_msec);
	seq_printf(m, "# gettimeofday %lld %ld\n",
		   (long long)mstat_start_wall.tv_sec,
		   mstat_start_wall.tv_nsec / NSEC_PER_USEC);
	seq_puts(m, "# ts_field 1\n");
	for (i = 0; i < DIAG_NR_CAUSES; i++)
		seq_printf(m, "# field %u %s\n", i + 2,
			   diag_migrate_cause_name(i));
	seq_printf(m, "# field %u fork_placement\n", MSTAT_NR_FIELDS + 1);
	seq_printf(m, "# field %u migrate\n", MSTAT_NR_FIELDS + 2);
	seq_printf(m, "# nr_cpus %u\n", num_possible_cpus());
	seq_printf(m, "# capacity_periods %llu\n",
		   mstat_cpu ? mstat_periods : (u64)mstat_hours * 3600);
	seq_printf(m, "# start_ts 0x%016llx\n", mstat_start_ts);
	seq_printf(m, "# state %s\n", mstat_state());
}

static void mstat_show_period(struct seq_file *m, u64 period)
{
	u64 ms = div64_u64(period * mstat_period_ns, NSEC_PER_MSEC);
	u64 migrate = 0;
	unsigned int f;
	int cpu;

	seq_printf(m, "%llu.%03llu", ms / 1000, ms % 1000);
	for (f = 0; f < MSTAT_NR_FIELDS; f++) {
		u64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(mstat_cpu[cpu][period * MSTAT_NR_FIELDS + f]);
		if (f < DIAG_NR_CAUSES)
			migrate += sum;
		seq_printf(m, " %llu", sum);
	}
	seq_printf(m, " %llu\n", migrate);
}

/* Position 0 is the header, position N > 0 the period N - 1. */
static void *mstat_seq_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&mstat_mutex);
	mstat_check_full();
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return *pos <= mstat_complete_periods() ? pos : NULL;
}

static void *mstat_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return *pos <= mstat_complete_periods() ? pos : NULL;
}

static void mstat_seq_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&mstat_mutex);
}

static int mstat_seq_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		mstat_show_header(m);
	else
		mstat_show_period(m, *(loff_t *)v - 1);
	return 0;
}

static const struct seq_operations mstat_seq_ops = {
	.start = mstat_seq_start,
	.next = mstat_seq_next,
	.stop = mstat_seq_stop,
	.show = mstat_seq_show,
};

static int mstat_stat_open(struct inode *inode, struct file *file)
{
	return seq_open(file, &mstat_seq_ops);
}

static const struct file_operations mstat_enable_fops = {
	.owner = THIS_MODULE,
	.read = mstat_enable_read,
	.write = mstat_enable_write,
	.llseek = default_llseek,
};

static const struct file_operations mstat_period_fops = {
	.owner = THIS_MODULE,
	.read = mstat_period_read,
	.write = mstat_period_write,
	.llseek = default_llseek,
};

static const struct file_operations mstat_reset_fops = {
	.owner = THIS_MODULE,
	.write = mstat_reset_write,
	.llseek = noop_llseek,
};

static const struct file_operations mstat_stat_fops = {
	.owner = THIS_MODULE,
	.open = mstat_stat_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release,
};

int mstat_init(void)
{
	mstat_dir = debugfs_create_dir("migration_stat", NULL);
	if (IS_ERR(mstat_dir)) {
		pr_warn("diagnose: no debugfs, migration_stat/ is not available\n");
		mstat_dir = NULL;
		return 0;
	}
	debugfs_create_file("enable", 0600, mstat_dir, NULL, &mstat_enable_fops);
	debugfs_create_file("period_msec", 0600, mstat_dir, NULL,
			    &mstat_period_fops);
	debugfs_create_file("reset", 0200, mstat_dir, NULL, &mstat_reset_fops);
	debugfs_create_file("stat", 0400, mstat_dir, NULL, &mstat_stat_fops);
	return 0;
}

void mstat_exit(void)
{
	debugfs_remove(mstat_dir);
	mutex_lock(&mstat_mutex);
	mstat_reset();
	mutex_unlock(&mstat_mutex);
}
