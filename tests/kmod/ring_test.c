// SPDX-License-Identifier: GPL-2.0
/*
 * ring_test: drives diagnose.ko's per-CPU ring (module/ring.c, compiled in
 * here) under stress, for the guest test tests/guest/progs/ring_stress.c.
 *
 * /sys/kernel/debug/diag_ring_test/
 *   ctl    write "start KIB MAXREC SECONDS": a ring of KIB per CPU, and on
 *          every online CPU a kthread and an hrtimer (interrupt context)
 *          writing records of random sizes from 32 to MAXREC bytes, some
 *          reserved at MAXREC and trimmed, some with a nested writer (as an
 *          NMI would be) inside the reservation; "stop" ends the writers
 *          (the ring stays for the last drains); "free" frees it.
 *   ring   read(2) drains the ring into the caller's buffer (all or
 *          nothing: a fault consumes nothing) and returns the bytes.
 *   stats  per CPU: "cpu N attempts A written W" - A reservations tried,
 *          W records committed.
 *
 * A test record carries the CPU's count of committed records as its seq,
 * so a reader that gets seq 0, 1, 2, ... of each CPU without a gap has
 * lost nothing silently, and attempts = delivered + counted lost checks
 * the accounting exactly.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/hrtimer.h>
#include <linux/random.h>
#include <linux/uaccess.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/cpu.h>
#include <asm/local64.h>

#include "../../module/ring.c"
#include "../../module/mem.c"

#define RT_REC_TYPE	0x7e57
#define RT_TIMER_NS	(50 * NSEC_PER_USEC)

struct rt_record {
	struct diag_record_header hdr;
	u64 seq;		/* this CPU's committed records before it */
	u32 len;		/* bytes asked for, before alignment */
	u32 cpu;
	/* then len - sizeof(struct rt_record) payload bytes */
};

#define RT_MIN_REC	((u32)sizeof(struct rt_record))

struct rt_cpu {
	local64_t attempts;
	u64 written;		/* inside a reservation: interrupts off */
	struct task_struct *thread;
	struct hrtimer timer;
	bool timer_on;
};

static DEFINE_MUTEX(rt_lock);		/* ctl and ring readers */
static struct diag_ring rt_ring;
static bool rt_allocated;
static bool rt_running;
static u32 rt_maxrec;
static u64 rt_end_ns;
static DEFINE_PER_CPU(struct rt_cpu, rt_cpus);
static struct dentry *rt_dir;

static inline u8 payload_byte(u64 seq, u32 i)
{
	return (u8)(seq * 131 + i * 7 + 1);
}

static void write_one(struct rt_cpu *c, bool may_nest)
{
	u32 rnd = get_random_u32();
	u32 span = (rt_maxrec - RT_MIN_REC) / 8 + 1;
	u32 len = RT_MIN_REC + (rnd % span) * 8 - (rnd & 0x100 ? 0 : 4);
	bool trim = rnd & 0x200;
	struct diag_ring_slot slot;
	struct rt_record *r;
	u8 *p;
	u32 i;

	if (len < RT_MIN_REC)
		len = RT_MIN_REC;
	local64_inc(&c->attempts);
	r = diag_ring_reserve(&rt_ring, &slot, RT_REC_TYPE,
			      trim ? rt_maxrec : len);
	if (!r)
		return;
	/* a writer that comes in while this one holds the CPU's ring */
	if (may_nest && !(rnd & 0xf000))
		write_one(c, false);
	r->seq = c->written++;
	r->len = len;
	r->cpu = smp_processor_id();
	p = (u8 *)(r + 1);
	for (i = 0; i < len - sizeof(*r); i++)
		p[i] = payload_byte(r->seq, i);
	if (trim)
		diag_ring_trim(&slot, r, len);
	diag_ring_commit(&slot);
}

static enum hrtimer_restart rt_timer_fn(struct hrtimer *t)
{
	struct rt_cpu *c = container_of(t, struct rt_cpu, timer);

	if (!READ_ONCE(rt_running) || ktime_get_ns() > rt_end_ns)
		return HRTIMER_NORESTART;
	write_one(c, true);
	hrtimer_forward_now(t, ns_to_ktime(RT_TIMER_NS));
	return HRTIMER_RESTART;
}

static int rt_thread_fn(void *data)
{
	struct rt_cpu *c = data;
	unsigned long n = 0;

	/* bound to its CPU: the hrtimer is pinned there too */
	hrtimer_start(&c->timer, ns_to_ktime(RT_TIMER_NS),
		      HRTIMER_MODE_REL_PINNED);
	while (!kthread_should_stop()) {
		if (ktime_get_ns() < rt_end_ns) {
			preempt_disable();
			write_one(c, true);
			preempt_enable();
		} else {
			schedule_timeout_interruptible(HZ / 10);
		}
		if (!(++n % 64))
			cond_resched();
	}
	return 0;
}

/* Caller holds rt_lock. */
static void rt_stop(void)
{
	int cpu;

	if (!rt_running)
		return;
	WRITE_ONCE(rt_running, false);
	for_each_possible_cpu(cpu) {
		struct rt_cpu *c = per_cpu_ptr(&rt_cpus, cpu);

		if (c->thread)
			kthread_stop(c->thread);
		c->thread = NULL;
		if (c->timer_on)
			hrtimer_cancel(&c->timer);
		c->timer_on = false;
	}
}

/* Caller holds rt_lock. */
static int rt_start(u32 kib, u32 maxrec, u32 seconds)
{
	int cpu, ret;

	if (rt_allocated)
		return -EBUSY;
	if (maxrec < RT_MIN_REC || maxrec > 65536 || !seconds || seconds > 600)
		return -EINVAL;
	ret = diag_ring_alloc(&rt_ring, kib, 2 * ALIGN(maxrec, 8));
	if (ret)
		return ret;
	rt_allocated = true;
	rt_maxrec = maxrec;
	rt_end_ns = ktime_get_ns() + (u64)seconds * NSEC_PER_SEC;
	WRITE_ONCE(rt_running, true);
	/* no CPU comes or goes while the writers are made */
	cpus_read_lock();
	for_each_possible_cpu(cpu) {
		struct rt_cpu *c = per_cpu_ptr(&rt_cpus, cpu);

		local64_set(&c->attempts, 0);
		c->written = 0;
		c->thread = NULL;
		hrtimer_init(&c->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED);
		c->timer.function = rt_timer_fn;
		c->timer_on = cpu_online(cpu);
	}
	for_each_online_cpu(cpu) {
		struct rt_cpu *c = per_cpu_ptr(&rt_cpus, cpu);

		c->thread = kthread_create_on_cpu(rt_thread_fn, c, cpu,
						  "ring_test/%u");
		if (IS_ERR(c->thread)) {
			c->thread = NULL;
			cpus_read_unlock();
			rt_stop();
			return -ENOMEM;
		}
		wake_up_process(c->thread);
	}
	cpus_read_unlock();
	return 0;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	u32 kib, maxrec, seconds;
	char buf[64];
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	mutex_lock(&rt_lock);
	if (sscanf(buf, "start %u %u %u", &kib, &maxrec, &seconds) == 3) {
		ret = rt_start(kib, maxrec, seconds);
	} else if (sysfs_streq(buf, "stop")) {
		rt_stop();
	} else if (sysfs_streq(buf, "free")) {
		rt_stop();
		if (rt_allocated)
			diag_ring_free(&rt_ring);
		rt_allocated = false;
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&rt_lock);
	return ret ?: count;
}

static ssize_t ring_read(struct file *file, char __user *ubuf, size_t count,
			 loff_t *ppos)
{
	struct diag_ring_iter *drained;
	struct diag_report rep;
	ssize_t ret;

	mutex_lock(&rt_lock);
	if (!rt_allocated) {
		ret = -ENODEV;
	} else {
		ret = diag_ring_drain(&rt_ring, ubuf, min_t(size_t, count, SZ_1G),
				      &rep, &drained);
		if (!ret) {
			diag_ring_drain_commit(drained);
			ret = rep.bytes;
		}
	}
	mutex_unlock(&rt_lock);
	return ret;
}

static ssize_t stats_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	char *buf;
	size_t len = 0, size = 64 * (num_possible_cpus() + 1);
	ssize_t ret;
	int cpu;

	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&rt_lock);
	for_each_possible_cpu(cpu) {
		struct rt_cpu *c = per_cpu_ptr(&rt_cpus, cpu);

		len += scnprintf(buf + len, size - len,
				 "cpu %d attempts %llu written %llu\n", cpu,
				 (u64)local64_read(&c->attempts), c->written);
	}
	mutex_unlock(&rt_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, len);
	kfree(buf);
	return ret;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
	.llseek = noop_llseek,
};

static const struct file_operations ring_fops = {
	.owner = THIS_MODULE,
	.read = ring_read,
	.llseek = noop_llseek,
};

static const struct file_operations stats_fops = {
	.owner = THIS_MODULE,
	.read = stats_read,
	.llseek = default_llseek,
};

static int __init rt_init(void)
{
	rt_dir = debugfs_create_dir("diag_ring_test", NULL);
	debugfs_create_file("ctl", 0200, rt_dir, NULL, &ctl_fops);
	debugfs_create_file("ring", 0400, rt_dir, NULL, &ring_fops);
	debugfs_create_file("stats", 0400, rt_dir, NULL, &stats_fops);
	return 0;
}

static void __exit rt_exit(void)
{
	debugfs_remove_recursive(rt_dir);
	mutex_lock(&rt_lock);
	rt_stop();
	if (rt_allocated)
		diag_ring_free(&rt_ring);
	rt_allocated = false;
	mutex_unlock(&rt_lock);
}

module_init(rt_init);
module_exit(rt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stress test of diagnose.ko's ring buffer");
