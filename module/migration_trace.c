// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/migration_trace/: every CPU migration in the system,
 * with why it happened, for a few minutes (docs/migration-trace.md).
 *
 *   enable  read: 1 while tracing.  write 1: start (refused while the
 *           buffer holds a trace: write 0 to reset first); write 0: stop.
 *   mark    write NUMBER: a mark event, for begin/end filters.
 *   reset   write 0: stop and empty the trace (frees the buffers).
 *   trace   the trace as text, merged across CPUs in timestamp order,
 *           produced as it is read; only while tracing is stopped.
 *
 * Events go to one buffer per CPU, written only by that CPU (ring.c),
 * allocated on the CPU's node at the first start after a reset.  The
 * buffers never wrap: when one is full tracing stops everywhere, as in
 * the seed, so the trace is complete up to that moment (the header says
 * which CPU filled and when).
 *
 * The refusals, each with its own errno (user space and the docs rely on
 * them):
 *   EEXIST       start while the buffer holds a trace
 *   EALREADY     start while tracing
 *   ENOSPC       restart (kernel API) of a trace whose buffer filled
 *   EBUSY        open trace while tracing
 *   ESTALE       read on after the trace was reset or restarted
 *   EPIPE        mark while not tracing (the mark would be lost)
 *   EINVAL       a write that is not one of the values above
 *   EFAULT       a write from memory that cannot be read
 *   ENOMEM       the buffers cannot be allocated
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/mm.h>
#include <linux/bitops.h>
#include <linux/migrate_trace_lite.h>
#include "ring.h"
#include "mem.h"
#include "migrate_cause.h"
#include "migration_lite.h"

static unsigned int mtrace_buf_kib = 1024;

static int mtrace_kib_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, DIAG_RING_KIB_MAX);
}

static const struct kernel_param_ops mtrace_kib_ops = {
	.set = mtrace_kib_set,
	.get = param_get_uint,
};
module_param_cb(migration_trace_kib, &mtrace_kib_ops, &mtrace_buf_kib, 0644);
MODULE_PARM_DESC(migration_trace_kib,
		 "migration_trace buffer per CPU in KiB, 1..1048576 (default 1024); a change applies from the next start after a reset");

/* Record types inside the trace's ring; never reported over the ioctl. */
enum {
	MTRACE_REC_MOVE = 0x100,	/* migration or fork placement */
	MTRACE_REC_COMM,		/* copy_process, set_task_comm, task_list */
	MTRACE_REC_MARK,
	MTRACE_REC_START,		/* start_sched_clock */
};

struct mtrace_rec_move {
	struct diag_record_header hdr;
	s32 pid;
	u32 kind;		/* cause, or DIAG_MT_FORK_PLACEMENT */
	u32 orig_cpu;
	u32 dest_cpu;
};

struct mtrace_rec_comm {
	struct diag_record_header hdr;
	s32 pid;
	u32 kind;
	char comm[TASK_COMM_LEN];
};

struct mtrace_rec_mark {
	struct diag_record_header hdr;
	s32 pid;
	u32 kind;
	u64 mark;
};

struct mtrace_rec_start {
	struct diag_record_header hdr;
	s64 sec;		/* CLOCK_REALTIME at the start on this CPU */
	u32 usec;
	u32 reserved;
};

#define MTRACE_MAX_REC	sizeof(struct mtrace_rec_comm)

bool mtrace_on;				/* see mtrace_recording() */
static DEFINE_MUTEX(mtrace_mutex);		/* everything below */
static struct diag_ring mtrace_ring;	/* allocated: the trace is not empty */
static bool mtrace_probes;			/* we hold a probe reference */
static bool mtrace_quiet;			/* no probe of ours is in flight */
static u64 mtrace_generation;		/* bumped at every start and reset */
static u64 mtrace_start_ts, mtrace_stop_ts;
static unsigned int mtrace_starts;
static atomic_t mtrace_full_cpu = ATOMIC_INIT(-1);
static u64 mtrace_full_ts;
static struct dentry *mtrace_dir;

static inline bool mtrace_allocated(void)
{
	return mtrace_ring.cpu != NULL;
}

/* ---- recording (probe context: no locks, no allocation) ---- */

/* The first CPU to find its buffer full stops the trace everywhere. */
static void mtrace_buffer_full(void)
{
	if (atomic_cmpxchg(&mtrace_full_cpu, -1, raw_smp_processor_id()) != -1)
		return;
	mtrace_full_ts = ktime_get_mono_fast_ns();
	WRITE_ONCE(mtrace_on, false);
	mlite_settle_later();
}

static void *mtrace_reserve(struct diag_ring_slot *slot, u16 type, u32 size,
			u64 ts)
{
	void *rec = diag_ring_reserve_at(&mtrace_ring, slot, type, size, ts);

	if (unlikely(!rec) && !in_nmi())
		mtrace_buffer_full();
	return rec;
}

void mtrace_record_move(struct task_struct *p, u32 orig_cpu, u32 dest_cpu,
		    u32 kind, u64 ts_ns)
{
	struct diag_ring_slot slot;
	struct mtrace_rec_move *r;

	r = mtrace_reserve(&slot, MTRACE_REC_MOVE, sizeof(*r), ts_ns);
	if (!r)
		return;
	r->pid = p->pid;
	r->kind = kind;
	r->orig_cpu = orig_cpu;
	r->dest_cpu = dest_cpu;
	diag_ring_commit(&slot);
}

/* A name may change under us: copy at most 15 bytes, NUL-padded. */
static void copy_comm(char *dst, const char *src)
{
	unsigned int i;

	for (i = 0; i < TASK_COMM_LEN - 1; i++) {
		char c = READ_ONCE(src[i]);

		if (!c)
			break;
		dst[i] = c;
	}
	memset(dst + i, 0, TASK_COMM_LEN - i);
}

void mtrace_record_comm(struct task_struct *p, const char *comm, u32 kind)
{
	struct diag_ring_slot slot;
	struct mtrace_rec_comm *r;

	/* also called from process context: stay on one CPU's buffer */
	preempt_disable_notrace();
	r = mtrace_reserve(&slot, MTRACE_REC_COMM, sizeof(*r), 0);
	if (r) {
		r->pid = p->pid;
		r->kind = kind;
		copy_comm(r->comm, comm);
		diag_ring_commit(&slot);
	}
	preempt_enable_notrace();
}

/* On every online CPU, from the start: its clock against the wall. */
static void mtrace_record_start(void *unused)
{
	struct diag_ring_slot slot;
	struct mtrace_rec_start *r;
	struct timespec64 now;

	r = mtrace_reserve(&slot, MTRACE_REC_START, sizeof(*r), 0);
	if (!r)
		return;
	ktime_get_real_ts64(&now);
	r->sec = now.tv_sec;
	r->usec = now.tv_nsec / NSEC_PER_USEC;
	r->reserved = 0;
	diag_ring_commit(&slot);
}

/*
 * Callable from any context but NMI.  The preempt-disabled section is
 * what mtrace_stop() waits for with synchronize_rcu() before the buffers can
 * be read or freed.
 */
void mt_trace_mark(unsigned long mark)
{
	struct diag_ring_slot slot;
	struct mtrace_rec_mark *r;

	if (in_nmi())
		return;
	preempt_disable_notrace();
	if (mtrace_recording()) {
		r = mtrace_reserve(&slot, MTRACE_REC_MARK, sizeof(*r), 0);
		if (r) {
			r->pid = current->pid;
			r->kind = DIAG_MT_MARK;
			r->mark = mark;
			diag_ring_commit(&slot);
		}
	}
	preempt_enable_notrace();
}
EXPORT_SYMBOL_GPL(mt_trace_mark);

/* ---- control (process context, mtrace_mutex held) ---- */

/* The names of every task alive at the start. */
static void mtrace_record_tasks(void)
{
	struct task_struct *g, *t;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (!mtrace_recording())
			break;		/* the buffer filled */
		mtrace_record_comm(t, t->comm, DIAG_MT_TASK_LIST);
	}
	rcu_read_unlock();
}

/*
 * After mtrace_on went false: drop our probe reference and make sure no probe
 * or mark that saw mtrace_on true is still writing.  Then the buffers can be
 * read or freed.
 */
static void mtrace_quiesce(void)
{
	lockdep_assert_held(&mtrace_mutex);
	if (mtrace_recording())
		return;
	if (mtrace_probes) {
		mlite_probes_put();
		mtrace_probes = false;
	}
	if (mtrace_quiet)
		return;
	/* probes and marks run with preemption disabled */
	synchronize_rcu();
	mtrace_quiet = true;
	/* stopped by a full buffer: mtrace_full_ts is written by now */
	if (mtrace_starts && !mtrace_stop_ts && atomic_read(&mtrace_full_cpu) >= 0)
		mtrace_stop_ts = mtrace_full_ts;
}

static int mtrace_start(bool allow_restart)
{
	int ret;

	lockdep_assert_held(&mtrace_mutex);
	if (mtrace_recording())
		return -EALREADY;
	mtrace_quiesce();
	if (mtrace_allocated() && !allow_restart)
		return -EEXIST;
	if (atomic_read(&mtrace_full_cpu) >= 0)
		return -ENOSPC;	/* a restart of a full trace */
	if (!mtrace_allocated()) {
		u32 kib = READ_ONCE(mtrace_buf_kib);

		ret = diag_ring_alloc(&mtrace_ring, kib, 2 * MTRACE_MAX_REC);
		if (ret == -E2BIG) {
			pr_warn_ratelimited("diagnose: migration_trace of %u KiB x %u CPUs is over the memory limit: %llu of %llu MiB in use (mem_limit_mib)\n",
					    kib, num_possible_cpus(),
					    diag_mem_used() >> 20,
					    diag_mem_limit() >> 20);
			return -ENOMEM;
		}
		if (ret)
			return ret;
		mtrace_starts = 0;
		mtrace_start_ts = 0;
		atomic_set(&mtrace_full_cpu, -1);
	}
	ret = mlite_probes_get();
	if (ret) {
		if (!mtrace_starts)
			diag_ring_free(&mtrace_ring);
		return ret;
	}
	mtrace_probes = true;
	mtrace_quiet = false;
	mtrace_generation++;
	if (!mtrace_starts++)
		mtrace_start_ts = ktime_get_mono_fast_ns();
	mtrace_stop_ts = 0;
	on_each_cpu(mtrace_record_start, NULL, 1);
	if (atomic_read(&mtrace_full_cpu) >= 0)
		return 0;	/* a buffer filled already: stopped itself */
	/* pairs with mtrace_recording(): the buffers are set up */
	smp_store_release(&mtrace_on, true);
	mtrace_record_tasks();
	return 0;
}

static void mtrace_stop(void)
{
	lockdep_assert_held(&mtrace_mutex);
	if (mtrace_recording()) {
		WRITE_ONCE(mtrace_on, false);
		mtrace_stop_ts = ktime_get_mono_fast_ns();
	}
	mtrace_quiesce();
}

static void mtrace_reset(void)
{
	lockdep_assert_held(&mtrace_mutex);
	mtrace_stop();
	diag_ring_free(&mtrace_ring);
	atomic_set(&mtrace_full_cpu, -1);
	mtrace_starts = 0;
	mtrace_start_ts = mtrace_stop_ts = 0;
	mtrace_generation++;
}

/* From the settle work: the trace stopped itself. */
void mtrace_settle(void)
{
	mutex_lock(&mtrace_mutex);
	mtrace_quiesce();
	mutex_unlock(&mtrace_mutex);
}

/*
 * Start (1) or stop (0) the trace from kernel code.  A start is refused
 * with -EEXIST while the buffer holds a trace, unless @allow_restart: the
 * trace then goes on after a gap, which the analysis cannot see.  May
 * sleep.  Returns 0 or a negative errno as the enable file does.
 */
int mt_trace_enable(int enable, int allow_restart)
{
	int ret = 0;

	might_sleep();
	mutex_lock(&mtrace_mutex);
	if (enable == 1)
		ret = mtrace_start(allow_restart);
	else if (enable == 0)
		mtrace_stop();
	else
		ret = -EINVAL;
	mutex_unlock(&mtrace_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(mt_trace_enable);

/* ---- debugfs control files ---- */

static ssize_t mtrace_enable_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	char buf[4];
	int len = scnprintf(buf, sizeof(buf), "%d\n", mtrace_recording());

	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t mtrace_enable_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	u64 val;
	int ret;

	ret = mlite_parse_write(ubuf, count, 10, &val);
	if (ret)
		return ret;
	if (val > 1)
		return -EINVAL;
	ret = mt_trace_enable(val, 0);
	return ret ?: count;
}

static ssize_t mtrace_mark_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	u64 mark;
	int ret;

	ret = mlite_parse_write(ubuf, count, 0, &mark);
	if (ret)
		return ret;
	/* the same path as mt_trace_mark(), but say when the mark is lost */
	mutex_lock(&mtrace_mutex);
	if (mtrace_recording()) {
		mt_trace_mark(mark);
		ret = count;
	} else {
		ret = -EPIPE;
	}
	mutex_unlock(&mtrace_mutex);
	return ret;
}

static ssize_t mtrace_reset_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	u64 val;
	int ret;

	ret = mlite_parse_write(ubuf, count, 10, &val);
	if (ret)
		return ret;
	if (val != 0)
		return -EINVAL;
	mutex_lock(&mtrace_mutex);
	mtrace_reset();
	mutex_unlock(&mtrace_mutex);
	return count;
}

static const struct file_operations mtrace_enable_fops = {
	.owner = THIS_MODULE,
	.read = mtrace_enable_read,
	.write = mtrace_enable_write,
	.llseek = default_llseek,
};

static const struct file_operations mtrace_mark_fops = {
	.owner = THIS_MODULE,
	.write = mtrace_mark_write,
	.llseek = noop_llseek,
};

static const struct file_operations mtrace_reset_fops = {
	.owner = THIS_MODULE,
	.write = mtrace_reset_write,
	.llseek = noop_llseek,
};

/* ---- the trace file: a seq_file over a merge of the CPU buffers ---- */

/*
 * Lines are built by hand, straight into the seq_file buffer, rather than
 * with seq_printf(): the trace is millions of lines of a few fixed shapes,
 * and vsnprintf() would be most of the cost of reading it.
 */
#define MTRACE_LINE_MAX		96	/* longest line: a mark, with 64-bit values */

static char *put_hex16(char *p, u64 v)
{
	int i;

	*p++ = '0';
	*p++ = 'x';
	for (i = 15; i >= 0; i--) {
		p[i] = hex_asc[v & 0xf];
		v >>= 4;
	}
	return p + 16;
}

/* 0x and at least 8 hex digits, as the seed printed marks */
static char *put_hex8(char *p, u64 v)
{
	int n = v >> 32 ? (fls64(v) + 3) / 4 : 8, i;

	*p++ = '0';
	*p++ = 'x';
	for (i = n - 1; i >= 0; i--) {
		p[i] = hex_asc[v & 0xf];
		v >>= 4;
	}
	return p + n;
}

static char *put_dec(char *p, u64 v)
{
	char tmp[20];
	int n = 0;

	if (v < 10) {
		*p++ = '0' + v;
		return p;
	}
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* A name is the rest of its line: nothing may end or split the line. */
static char *put_comm(char *p, const char *comm)
{
	unsigned int i;

	for (i = 0; i < TASK_COMM_LEN && comm[i]; i++)
		*p++ = (comm[i] < ' ' || comm[i] == 0x7f) ? '?' : comm[i];
	return p;
}

static void mtrace_show_record(struct seq_file *m,
			       const struct diag_record_header *hdr)
{
	char *line, *p;

	if (seq_get_buf(m, &line) < MTRACE_LINE_MAX) {
		seq_commit(m, -1);	/* seq_read() retries with room */
		return;
	}
	/* "0x<ts> CPU " starts every line */
	p = put_hex16(line, hdr->ts_ns);
	*p++ = ' ';
	p = put_dec(p, hdr->cpu);
	*p++ = ' ';

	switch (hdr->type) {
	case MTRACE_REC_MOVE: {
		const struct mtrace_rec_move *r = (const void *)hdr;

		/* 0x<ts> CPU OLD NEW PID CAUSE# */
		p = put_dec(p, r->orig_cpu);
		*p++ = ' ';
		p = put_dec(p, r->dest_cpu);
		*p++ = ' ';
		p = put_dec(p, r->pid);
		*p++ = ' ';
		p = put_dec(p, r->kind);
		break;
	}
	case MTRACE_REC_COMM: {
		const struct mtrace_rec_comm *r = (const void *)hdr;

		/* 0x<ts> CPU . . PID LOC# : COMM */
		p = put_str(p, ". . ");
		p = put_dec(p, r->pid);
		*p++ = ' ';
		p = put_dec(p, r->kind);
		p = put_str(p, " : ");
		p = put_comm(p, r->comm);
		break;
	}
	case MTRACE_REC_MARK: {
		const struct mtrace_rec_mark *r = (const void *)hdr;

		/* 0x<ts> CPU . . PID LOC# 0x<mark> */
		p = put_str(p, ". . ");
		p = put_dec(p, r->pid);
		*p++ = ' ';
		p = put_dec(p, r->kind);
		*p++ = ' ';
		p = put_hex8(p, r->mark);
		break;
	}
	case MTRACE_REC_START: {
		const struct mtrace_rec_start *r = (const void *)hdr;

		/* 0x<ts> CPU . . . start_sched_clock SEC USEC */
		p = put_str(p, ". . . " DIAG_MT_START_EVENT " ");
		p = put_dec(p, r->sec);
		*p++ = ' ';
		p = put_dec(p, r->usec);
		break;
	}
	default:
		return;		/* cannot happen */
	}
	*p++ = '\n';
	seq_commit(m, p - line);
}

static const char *mtrace_state(void)
{
	if (!mtrace_allocated())
		return "empty";
	if (atomic_read(&mtrace_full_cpu) >= 0)
		return "full";
	return mtrace_recording() ? "running" : "stopped";
}

static void mtrace_show_header(struct seq_file *m)
{
	int full_cpu = atomic_read(&mtrace_full_cpu);
	unsigned int i;

	seq_printf(m, "# version %s\n", DIAG_MT_FORMAT_VERSION);
	seq_printf(m, "# nr_cpus %u\n", num_possible_cpus());
	seq_puts(m, "# ts_field 1\n");
	seq_puts(m, "# ts_clock CLOCK_MONOTONIC ns, hexadecimal\n");
	for (i = 0; i < DIAG_NR_CAUSES; i++)
		seq_printf(m, "# cause %u %s\n", i, diag_migrate_cause_name(i));
#define MTRACE_KIND_LINE(e, n, name, desc) seq_printf(m, "# loc %u %s\n", n, name);
	DIAG_MT_EVENT_KINDS(MTRACE_KIND_LINE)
#undef MTRACE_KIND_LINE
	seq_printf(m, "# state %s\n", mtrace_state());
	if (!mtrace_allocated())
		return;
	seq_printf(m, "# buffer_kib %u\n", mtrace_ring.size / 1024);
	seq_printf(m, "# starts %u\n", mtrace_starts);
	seq_printf(m, "# start_ts 0x%016llx\n", mtrace_start_ts);
	if (mtrace_stop_ts)
		seq_printf(m, "# stop_ts 0x%016llx\n", mtrace_stop_ts);
	if (full_cpu >= 0) {
		seq_printf(m, "# full_cpu %d\n", full_cpu);
		seq_printf(m, "# full_ts 0x%016llx\n", mtrace_full_ts);
		seq_printf(m, "# tracing stopped itself: the buffer of CPU %d filled (%u KiB per CPU); events after full_ts are incomplete\n",
			   full_cpu, mtrace_ring.size / 1024);
	}
	seq_printf(m, "# lost %llu\n", diag_ring_lost(&mtrace_ring));
}

/*
 * Position 0 is the header; position N > 0 is the N-th event.  The
 * iterator stays in the reader's private data between read() calls, so a
 * sequential read costs O(1) per event; any other position is reached by
 * walking from the start (seq_lseek()).
 */
struct mtrace_reader {
	u64 generation;
	struct diag_ring_iter *it;
	loff_t it_pos;		/* position of the event it points at */
};

static void *mtrace_seek(struct mtrace_reader *r, loff_t pos)
{
	if (!r->it || r->it_pos > pos) {
		if (r->it)
			diag_ring_iter_end(r->it);
		r->it = diag_ring_iter_start(&mtrace_ring);
		if (!r->it)
			return ERR_PTR(-ENOMEM);
		r->it_pos = 1;
	}
	while (r->it_pos < pos && diag_ring_iter_peek(r->it)) {
		diag_ring_iter_next(r->it);
		r->it_pos++;
	}
	return diag_ring_iter_peek(r->it);
}

static void *mtrace_seq_start(struct seq_file *m, loff_t *pos)
{
	struct mtrace_reader *r = m->private;

	mutex_lock(&mtrace_mutex);
	/* mt_trace_enable() may restart, or reset, between two reads */
	if (r->generation != mtrace_generation)
		return ERR_PTR(-ESTALE);
	if (mtrace_recording())
		return ERR_PTR(-EBUSY);
	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (!mtrace_allocated())
		return NULL;
	return mtrace_seek(r, *pos);
}

static void *mtrace_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct mtrace_reader *r = m->private;

	++*pos;
	if (!mtrace_allocated())
		return NULL;
	return mtrace_seek(r, *pos);
}

static void mtrace_seq_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&mtrace_mutex);
}

static int mtrace_seq_show(struct seq_file *m, void *v)
{
	if (v == SEQ_START_TOKEN)
		mtrace_show_header(m);
	else
		mtrace_show_record(m, v);
	return 0;
}

static const struct seq_operations mtrace_seq_ops = {
	.start = mtrace_seq_start,
	.next = mtrace_seq_next,
	.stop = mtrace_seq_stop,
	.show = mtrace_seq_show,
};

#define MTRACE_READ_BUF		(256 * 1024)

static int mtrace_file_open(struct inode *inode, struct file *file)
{
	struct mtrace_reader *r;
	struct seq_file *m;
	int ret = 0;

	r = __seq_open_private(file, &mtrace_seq_ops, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/*
	 * seq_read() returns at most one buffer per read(): a large one
	 * saves thousands of calls on a big trace (seq_release() frees it).
	 */
	m = file->private_data;
	m->buf = kvmalloc(MTRACE_READ_BUF, GFP_KERNEL);
	if (m->buf)
		m->size = MTRACE_READ_BUF;
	mutex_lock(&mtrace_mutex);
	if (mtrace_recording()) {
		ret = -EBUSY;
	} else {
		/* a trace that stopped itself may still have probes in flight */
		mtrace_quiesce();
		r->generation = mtrace_generation;
	}
	mutex_unlock(&mtrace_mutex);
	if (ret)
		seq_release_private(inode, file);
	return ret;
}

static int mtrace_file_release(struct inode *inode, struct file *file)
{
	struct mtrace_reader *r = ((struct seq_file *)file->private_data)->private;

	if (r->it)
		diag_ring_iter_end(r->it);
	return seq_release_private(inode, file);
}

static const struct file_operations mtrace_file_fops = {
	.owner = THIS_MODULE,
	.open = mtrace_file_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = mtrace_file_release,
};

int mtrace_init(void)
{
	mtrace_dir = debugfs_create_dir("migration_trace", NULL);
	if (IS_ERR(mtrace_dir)) {
		pr_warn("diagnose: no debugfs, migration_trace/ is not available\n");
		mtrace_dir = NULL;
		return 0;
	}
	debugfs_create_file("enable", 0600, mtrace_dir, NULL, &mtrace_enable_fops);
	debugfs_create_file("mark", 0200, mtrace_dir, NULL, &mtrace_mark_fops);
	debugfs_create_file("reset", 0200, mtrace_dir, NULL, &mtrace_reset_fops);
	debugfs_create_file("trace", 0400, mtrace_dir, NULL, &mtrace_file_fops);
	return 0;
}

void mtrace_exit(void)
{
	/* waits for file operations in progress; open files pin the module */
	debugfs_remove(mtrace_dir);
	mutex_lock(&mtrace_mutex);
	mtrace_reset();
	mutex_unlock(&mtrace_mutex);
}
