// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_abuse: feeds /dev/diagnose malformed calls and checks that each is
 * refused with its documented errno (docs/abi.md) and, where the module
 * explains itself, a message.  Exits 0 when every check held.
 *
 *   ioctl_abuse                 the targeted checks, one per documented
 *                               errno
 *   ioctl_abuse consume         reports refused with EFAULT (buffer
 *                               unmapped, running into a PROT_NONE page,
 *                               request read-only) consume nothing: the
 *                               next report has every migration the
 *                               kernel counted
 *   ioctl_abuse fuzz CALLS THREADS SEED BUSY_PID
 *                               CALLS random calls from THREADS threads:
 *                               random command numbers (function, verb,
 *                               size and direction bits), struct diag_ioc
 *                               fields and pointers that are NULL, kernel
 *                               addresses, unmapped, partly mapped (across
 *                               into a PROT_NONE page) or read-only.  Every
 *                               errno must be one docs/abi.md gives for the
 *                               call; prints the histogram per verb.  The
 *                               functions active at the start are kept
 *                               active (a deactivation that would succeed
 *                               is sent with a wrong ABI version; one that
 *                               got through anyway is undone); those that
 *                               were not are deactivated at the end.
 *   ioctl_abuse unpriv-open     (run as an unprivileged user) opening the
 *                               device fails; prints the errno
 *   ioctl_abuse unpriv-ioctl CALLS
 *                               opens the device as root, drops to
 *                               uid/gid 65534 without capabilities and
 *                               makes CALLS calls (valid ones included):
 *                               each must fail with EPERM
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "abuse.h"

static int failures;

static void expect(const char *what, int ret, int want_errno, const char *msg)
{
	int err = ret ? errno : 0;

	if (err == want_errno) {
		printf("ok: %s -> %s%s%s\n", what, want_errno ? strerror(err) : "success",
		       msg && *msg ? ": " : "", msg ? msg : "");
	} else {
		printf("FAIL: %s -> %s (%d), expected %s (%d)\n", what, strerror(err), err,
		       strerror(want_errno), want_errno);
		failures++;
	}
}

/* Move ourselves between CPU 0 and 1: migrations that are sure to exist. */
static void move_self(int n)
{
	cpu_set_t set;
	int i;

	for (i = 0; i <= n; i++) {
		CPU_ZERO(&set);
		CPU_SET(i % 2, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
}

static int count_own_moves(const char *buf, unsigned int len)
{
	const struct diag_record_header *h;
	unsigned int pos;
	int n = 0;

	for (pos = 0; pos + sizeof(*h) <= len; pos += h->size) {
		h = (const void *)(buf + pos);
		if (h->size < sizeof(*h))
			break;
		if (h->type == DIAG_REC_MIGRATE &&
		    ((const struct diag_migrate_record *)h)->pid == getpid())
			n++;
	}
	return n;
}

static int call(int fd, unsigned int fn, unsigned int verb, struct diag_ioc *ioc)
{
	return ioctl(fd, DIAG_IOC(fn, verb), ioc);
}

static struct diag_ioc ioc_for(void *arg, unsigned int size)
{
	struct diag_ioc ioc;

	memset(&ioc, 0, sizeof(ioc));
	ioc.abi_version = DIAG_ABI_VERSION;
	ioc.arg = (unsigned long)arg;
	ioc.arg_size = size;
	return ioc;
}

static int targeted_checks(void)
{
	struct diag_migrate_image_settings s;
	struct diag_version v;
	struct diag_report rep;
	struct diag_ioc ioc;
	static char big[1 << 20];
	char small[8];
	int fd, ret;

	fd = open("/dev/" DIAG_DEVICE_NAME, O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}

	expect("version query", ioctl(fd, DIAG_IOC_VERSION, &v), 0, NULL);
	expect("version query to a bad pointer", ioctl(fd, DIAG_IOC_VERSION, (void *)8), EFAULT,
	       NULL);
	expect("unknown ioctl type", ioctl(fd, _IOWR('x', 1, struct diag_ioc), &ioc), ENOTTY, NULL);
	expect("command with the wrong struct size",
	       ioctl(fd, _IOWR(DIAG_IOC_MAGIC, DIAG_IOC_NR(DIAG_FN_MIGRATE_IMAGE, 2), long), &ioc),
	       ENOTTY, NULL);
	expect("command struct at a bad pointer",
	       ioctl(fd, DIAG_IOC(DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_SETTINGS), (void *)8), EFAULT,
	       NULL);

	ioc = ioc_for(&s, sizeof(s));
	ioc.abi_version = 999;
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_SETTINGS, &ioc);
	expect("wrong ABI version", ret, EPROTO, ioc.msg);

	ioc = ioc_for(&s, sizeof(s));
	ret = call(fd, 50, DIAG_VERB_SETTINGS, &ioc);
	expect("function that does not exist", ret, EOPNOTSUPP, ioc.msg);

	ioc = ioc_for(&s, sizeof(s) - 8);
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("activate with a short settings struct", ret, EINVAL, ioc.msg);

	ioc = ioc_for((void *)8, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("activate with settings at a bad pointer", ret, EFAULT, ioc.msg);

	ioc = ioc_for((void *)8, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_SETTINGS, &ioc);
	expect("settings into a bad pointer", ret, EFAULT, ioc.msg);

	memset(&s, 0, sizeof(s));
	memset(s.common.comm, 'a', sizeof(s.common.comm));
	ioc = ioc_for(&s, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("comm without a terminating NUL", ret, EINVAL, ioc.msg);

	memset(&s, 0, sizeof(s));
	s.common.pid = -5;
	ioc = ioc_for(&s, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("negative pid", ret, EINVAL, ioc.msg);

	memset(&s, 0, sizeof(s));
	s.common.reserved = 1;
	ioc = ioc_for(&s, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("reserved field set", ret, EINVAL, ioc.msg);

	memset(&s, 0, sizeof(s));
	s.common.buf_kib = DIAG_BUF_KIB_MAX + 1;
	ioc = ioc_for(&s, sizeof(s));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc);
	expect("buffer over the limit", ret, EINVAL, ioc.msg);

	/* a real activation for the report checks; watch everything */
	memset(&s, 0, sizeof(s));
	s.common.buf_kib = 64;
	ioc = ioc_for(&s, sizeof(s));
	expect("activate", call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &ioc), 0, NULL);
	move_self(4);

	memset(&rep, 0, sizeof(rep));
	ioc = ioc_for(&rep, sizeof(rep) - 8);
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
	expect("report request of the wrong size", ret, EINVAL, ioc.msg);

	memset(&rep, 0, sizeof(rep));
	rep.flags = 0x80;
	ioc = ioc_for(&rep, sizeof(rep));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
	expect("report with unknown flags", ret, EINVAL, ioc.msg);

	ioc = ioc_for((void *)8, sizeof(rep));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
	expect("report request at a bad pointer", ret, EFAULT, ioc.msg);

	memset(&rep, 0, sizeof(rep));
	rep.buf = 8;
	rep.buf_len = 1 << 20;
	ioc = ioc_for(&rep, sizeof(rep));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
	expect("report into a bad buffer", ret, EFAULT, ioc.msg);

	memset(&rep, 0, sizeof(rep));
	rep.buf = (unsigned long)small;
	rep.buf_len = sizeof(small);
	ioc = ioc_for(&rep, sizeof(rep));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
	expect("report into a buffer smaller than a record", ret, ENOSPC, ioc.msg);

	/* the refused reports consumed nothing */
	memset(&rep, 0, sizeof(rep));
	rep.buf = (unsigned long)big;
	rep.buf_len = sizeof(big);
	ioc = ioc_for(&rep, sizeof(rep));
	expect("report", call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc), 0, NULL);
	if (count_own_moves(big, rep.bytes) < 4) {
		printf("FAIL: our 4 moves were not all kept through the refused reports (%d)\n",
		       count_own_moves(big, rep.bytes));
		failures++;
	} else {
		printf("ok: all our moves kept through the refused reports\n");
	}

	ioc = ioc_for(&rep, sizeof(rep));
	ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_DEACTIVATE, &ioc);
	expect("deactivate with an argument", ret, EINVAL, ioc.msg);

	ioc = ioc_for(NULL, 0);
	expect("deactivate", call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_DEACTIVATE, &ioc), 0,
	       NULL);
	close(fd);
	printf("%d failures\n", failures);
	return failures != 0;
}

/* ---- refused reports consume nothing ---- */

/* se.nr_migrations of the calling thread: the kernel's own count. */
static long own_nr_migrations(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/thread-self/sched", "r");

	if (!f)
		die("/proc/thread-self/sched");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "se.nr_migrations", 16))
			n = atol(strchr(line, ':') + 1);
	fclose(f);
	return n;
}

/* Own migrate records and lost records in a report. */
static void count_report(const char *buf, unsigned int len, long *own, long *lost)
{
	const struct diag_record_header *h;
	unsigned int pos;

	for (pos = 0; pos + sizeof(*h) <= len; pos += h->size) {
		h = (const void *)(buf + pos);
		if (h->size < sizeof(*h))
			break;
		if (h->type == DIAG_REC_MIGRATE &&
		    ((const struct diag_migrate_record *)h)->pid == (pid_t)syscall(SYS_gettid))
			(*own)++;
		else if (h->type == DIAG_REC_LOST)
			*lost += ((const struct diag_lost_record *)h)->count;
	}
}

enum { REFUSE_UNMAPPED_BUF, REFUSE_PARTLY_MAPPED_BUF, REFUSE_READONLY_REQUEST };

/*
 * Our own migrations recorded, then a report the module must refuse with
 * EFAULT, then a good report: it must still hold every migration the
 * kernel counted (docs/abi.md: EFAULT consumes nothing).
 */
static void consume_round(int fd, int how, const char *what)
{
	long page = sysconf(_SC_PAGESIZE), before, after, own = 0, lost = 0;
	struct diag_migrate_image_settings s;
	static char big[1 << 20];
	struct diag_report rep, *urep;
	char *map, msg[DIAG_MSG_LEN];
	int err, rounds = 0;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		die("mmap");
	pin_to_cpu(0);
	memset(&s, 0, sizeof(s));
	s.common.pid = (pid_t)syscall(SYS_gettid);
	s.common.buf_kib = 64;
	err = diag_call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_ACTIVATE, &s, sizeof(s), msg);
	if (err) {
		printf("FAIL: %s: activate: %s: %s\n", what, errno_name(err), msg);
		failures++;
		return;
	}
	before = own_nr_migrations();
	move_self(9);	/* ends pinned: no migration after this */
	after = own_nr_migrations();

	memset(&rep, 0, sizeof(rep));
	rep.buf_len = 1 << 16;
	urep = &rep;
	switch (how) {
	case REFUSE_UNMAPPED_BUF:
		munmap(map, 2 * page);
		rep.buf = (unsigned long)map;
		break;
	case REFUSE_PARTLY_MAPPED_BUF:
		/* room for one record before the PROT_NONE page, not two */
		mprotect(map + page, page, PROT_NONE);
		rep.buf = (unsigned long)(map + page - 200);
		break;
	case REFUSE_READONLY_REQUEST:
		/* the request is read, the records copied, the answer cannot be written */
		rep.buf = (unsigned long)big;
		urep = (struct diag_report *)map;
		memcpy(urep, &rep, sizeof(rep));
		mprotect(map, page, PROT_READ);
		break;
	}
	err = diag_call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, urep, sizeof(rep), msg);
	if (err != EFAULT) {
		printf("FAIL: %s: report -> %s, expected EFAULT\n", what, errno_name(err));
		failures++;
	}
	do {
		err = diag_report(fd, DIAG_FN_MIGRATE_IMAGE, big, sizeof(big), &rep);
		if (err)
			break;
		count_report(big, rep.bytes, &own, &lost);
	} while (rep.more && ++rounds < 16);
	if (err) {
		printf("FAIL: %s: report after the refused one: %s\n", what, errno_name(err));
		failures++;
	} else if (own + lost != after - before) {
		printf("FAIL: %s: the kernel counted %ld migrations, the module kept %ld records"
		       " and counted %ld lost: %ld records vanished with the refused report\n",
		       what, after - before, own, lost, after - before - own - lost);
		failures++;
	} else {
		printf("ok: %s: refused with EFAULT, all %ld migrations still reported (lost %ld)\n",
		       what, after - before, lost);
	}
	diag_call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_DEACTIVATE, NULL, 0, NULL);
	if (how != REFUSE_UNMAPPED_BUF)
		munmap(map, 2 * page);
	{
		cpu_set_t all;
		int i;

		CPU_ZERO(&all);
		for (i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
	}
}

static int consume_checks(void)
{
	int fd = diag_open();

	consume_round(fd, REFUSE_UNMAPPED_BUF, "report into an unmapped buffer");
	consume_round(fd, REFUSE_PARTLY_MAPPED_BUF,
		      "report into a buffer that runs into a PROT_NONE page");
	consume_round(fd, REFUSE_READONLY_REQUEST, "report request in read-only memory");
	close(fd);
	printf("%d failures\n", failures);
	return failures != 0;
}

/* ---- the random storm ---- */

/* Where a pointer of a call points. */
enum ptr_class {
	P_OK,		/* our own read-write memory, big enough */
	P_NULL,
	P_LOW,		/* a small number: never mapped */
	P_KERNEL,	/* a kernel address */
	P_NONCANON,	/* not an address at all */
	P_UNMAPPED,	/* a hole between our mappings */
	P_STRADDLE,	/* starts in our memory, runs into a PROT_NONE page */
	P_RO,		/* our memory, PROT_READ */
	NR_PTR_CLASSES
};

static const char *const ptr_names[NR_PTR_CLASSES] = {
	"ok", "null", "low", "kernel", "noncanonical", "unmapped", "straddle", "readonly",
};

static const unsigned long kernel_addrs[] = {
	0xffffffff81000000ul, 0xffff888000000000ul, 0xffffffffff600000ul,
	0xfffffffffffff000ul, ~0ul - 63,
};
static const unsigned long noncanon_addrs[] = {
	0x0000800000000000ul, 0x8000000000000000ul, 0xdead000000000000ul,
};

/* What a call was, for the histogram and the documented errnos. */
enum call_kind {
	K_ACTIVATE = DIAG_VERB_ACTIVATE,
	K_DEACTIVATE = DIAG_VERB_DEACTIVATE,
	K_SETTINGS = DIAG_VERB_SETTINGS,
	K_REPORT = DIAG_VERB_REPORT,
	K_VERSION,	/* DIAG_IOC_VERSION */
	K_FOREIGN,	/* any other command number */
	NR_KINDS
};

static const char *const kind_names[NR_KINDS] = {
	"activate", "deactivate", "settings", "report", "version", "other-cmd",
};

/*
 * docs/abi.md, "Errors", per call.  EPERM, EFAULT, EPROTO and EOPNOTSUPP
 * apply to every function/verb command; ENOTTY to any command that is not
 * one of ours.  The rest are the rows that name the verb.
 */
/* deactivate_arg: a DEACTIVATE that names an argument, which it takes none of */
static int documented(enum call_kind k, int err, int deactivate_arg)
{
	if (!err)
		return k != K_FOREIGN;
	if (err == EPERM)
		return 1;
	switch (k) {
	case K_FOREIGN:
		return err == ENOTTY;
	case K_VERSION:
		return err == EFAULT;
	default:
		break;
	}
	if (err == EFAULT || err == EPROTO || err == EOPNOTSUPP)
		return 1;
	switch (k) {
	case K_ACTIVATE:
		return err == EINVAL || err == EBUSY || err == ENOMEM || err == ENOENT;
	case K_DEACTIVATE:
		return err == ENODATA || (err == EINVAL && deactivate_arg);
	case K_SETTINGS:
		return err == EINVAL;
	case K_REPORT:
		return err == EINVAL || err == ENODATA || err == ENOSPC;
	default:
		return 0;
	}
}

#define MAX_ERRNO	256
#define AREA_SIZE	(512 * 1024)

struct fuzz_thread {
	pthread_t thread;
	int index;
	struct rng rng;
	char *area;		/* AREA_SIZE read-write */
	char *straddle;		/* a read-write page, then a PROT_NONE page */
	char *ro;		/* a page, PROT_READ except while we fill it */
	unsigned long hole;	/* an unmapped page between two of ours */
	long calls;
	long hist[NR_KINDS][MAX_ERRNO];
	long by_ptr[NR_PTR_CLASSES];
	long reactivations;
	long activations;	/* successful random activations */
	long model_failures;
};

static int fuzz_fd;
static long page_size;
static pid_t busy_pid;
static union diag_any_settings kept[NR_DIAG_FNS];
static int kept_active[NR_DIAG_FNS];
static atomic_long undocumented, model_violations;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void report_violation(struct fuzz_thread *t, const char *why, unsigned int cmd,
			     enum call_kind k, int err, enum ptr_class ioc_p, const char *detail)
{
	atomic_long *counter = strcmp(why, "UNDOCUMENTED") ? &model_violations : &undocumented;

	if (atomic_fetch_add(counter, 1) >= 20)
		return;
	pthread_mutex_lock(&print_lock);
	printf("%s: thread %d cmd 0x%08x (%s) -> %s, struct diag_ioc %s; %s\n", why, t->index,
	       cmd, kind_names[k], errno_name(err), ptr_names[ioc_p], detail);
	pthread_mutex_unlock(&print_lock);
}

static enum ptr_class pick_ptr(struct rng *r, unsigned int ok_pct)
{
	if (rng_pct(r, ok_pct))
		return P_OK;
	return (enum ptr_class)(1 + rng_below(r, NR_PTR_CLASSES - 1));
}

/*
 * Place an object (contents in @obj) as @pc says; returns its address.
 * @size is what the module will access there: a P_STRADDLE object has
 * fewer bytes than that before the PROT_NONE page.  P_OK objects go at
 * @ok_off into the thread's area.
 */
static unsigned long place(struct fuzz_thread *t, enum ptr_class pc, const void *obj,
			   size_t size, size_t ok_off)
{
	size_t k;

	switch (pc) {
	case P_OK:
		memcpy(t->area + ok_off, obj, size);
		return (unsigned long)(t->area + ok_off);
	case P_NULL:
		return 0;
	case P_LOW:
		return 8 + 8 * rng_below(&t->rng, 8192);
	case P_KERNEL:
		return kernel_addrs[rng_below(&t->rng, 5)] + 8 * rng_below(&t->rng, 64);
	case P_NONCANON:
		return noncanon_addrs[rng_below(&t->rng, 3)];
	case P_UNMAPPED:
		return t->hole + 8 * rng_below(&t->rng, page_size / 8);
	case P_STRADDLE:
		/* 1 .. size - 1 bytes before the PROT_NONE page */
		k = size > 1 ? 1 + rng_below(&t->rng, size - 1 < (size_t)page_size ?
						       size - 1 : (size_t)page_size) : 0;
		memcpy(t->straddle + page_size - k, obj, k);
		return (unsigned long)(t->straddle + page_size - k);
	case P_RO:
	default:
		/* struct diag_ioc in the upper half, what it points to in the lower */
		k = ok_off ? page_size / 2 : 0;
		if (mprotect(t->ro, page_size, PROT_READ | PROT_WRITE))
			die("mprotect");
		memcpy(t->ro + k, obj, size < (size_t)page_size / 2 ? size : (size_t)page_size / 2);
		if (mprotect(t->ro, page_size, PROT_READ))
			die("mprotect");
		return (unsigned long)(t->ro + k);
	}
}

static unsigned int pick_fn(struct rng *r)
{
	unsigned int x = rng_below(r, 100);

	if (x < 70)
		return 1 + rng_below(r, NR_DIAG_FNS);
	if (x < 80)
		return 0;
	return 1 + rng_below(r, DIAG_FN_MAX);
}

static int pick_pid(struct fuzz_thread *t)
{
	switch (rng_below(&t->rng, 8)) {
	case 0:
	case 1:
	case 2:
		return 0;
	case 3:
	case 4:
		return busy_pid;
	case 5:
		return getpid();
	case 6:
		return -1 - (int)rng_below(&t->rng, 1000);
	default:
		return (int)rng_below(&t->rng, 1 << 22);
	}
}

static const char *const probe_names[] = {
	"__x64_sys_getppid",		/* exists, hit rarely */
	"diag_no_such_function_x",	/* ENOENT */
	"diag_core_ioctl",		/* in diagnose.ko itself: EINVAL */
	"do_int3",			/* kprobe blacklist: EINVAL (or ENOENT) */
	"",				/* nothing to probe: EINVAL */
	"vfs_read",			/* exists, hit often */
};

/*
 * Random settings for function @fn (an id; any id): mostly valid-looking
 * so that some activations succeed, with every field sometimes out of
 * range.  Valid buffers stay small (the guest has 1 GiB); buffers over
 * the limit are refused before anything is allocated.
 */
static void random_settings(struct fuzz_thread *t, unsigned int fn, union diag_any_settings *s)
{
	struct rng *r = &t->rng;
	struct diag_common_settings *c = &s->common;

	memset(s, 0, sizeof(*s));
	if (rng_pct(r, 3)) {
		rng_fill(r, s, sizeof(*s));
		/* never a valid but huge buffer: the guest has 1 GiB */
		if (c->buf_kib <= DIAG_BUF_KIB_MAX)
			c->buf_kib &= 1023;
		return;
	}
	c->activated = rng_pct(r, 10) ? (uint32_t)rng_next(r) : 0;
	c->verbose = rng_below(r, 3);
	c->tgid = rng_pct(r, 50) ? pick_pid(t) : 0;
	c->pid = rng_pct(r, 30) ? pick_pid(t) : 0;
	switch (rng_below(r, 10)) {
	case 0:
	case 1:
		strcpy(c->comm, "abuse-load");
		break;
	case 2:
		memset(c->comm, 'x', DIAG_COMM_LEN);	/* no NUL */
		break;
	case 3:
		rng_fill(r, c->comm, DIAG_COMM_LEN);
		c->comm[rng_below(r, DIAG_COMM_LEN)] = '\0';
		break;
	default:
		break;
	}
	switch (rng_below(r, 10)) {
	case 0:
	case 1:
	case 2:
		c->buf_kib = 0;		/* the default */
		break;
	case 3:
		c->buf_kib = DIAG_BUF_KIB_MAX + 1 + rng_below(r, 1 << 20);
		break;
	case 4:
		c->buf_kib = 0x80000000u | (uint32_t)rng_next(r);
		break;
	default:
		c->buf_kib = 1 + rng_below(r, 1024);
		break;
	}
	c->reserved = rng_pct(r, 10);
	switch (fn) {
	case DIAG_FN_KPROBE:
		if (rng_pct(r, 5))
			memset(s->kp.probe, 'a', DIAG_KPROBE_SYM_LEN);	/* no NUL */
		else
			strcpy(s->kp.probe, probe_names[rng_below(r, 6)]);
		s->kp.dump_style = rng_pct(r, 5) ? rng_below(r, 3) : 0;
		s->kp.ustack_kib = rng_below(r, DIAG_USTACK_KIB_MAX + 8);
		s->kp.cpus_set = rng_pct(r, 20) ? rng_below(r, 3) : 0;
		s->kp.cpus[0] = rng_below(r, 4);
		if (rng_pct(r, 5))
			s->kp.cpus[rng_below(r, DIAG_CPUSET_WORDS)] |= 1ull << rng_below(r, 64);
		s->kp.reserved = rng_pct(r, 5);
		/* out-fields: the module must ignore what comes in */
		s->kp.probe_addr = rng_next(r);
		s->kp.missed = rng_next(r);
		break;
	case DIAG_FN_KEYTIME_IMAGE:
		s->kt.oncpu = rng_below(r, 3);
		s->kt.stack = rng_below(r, 3);
		break;
	case DIAG_FN_RESOURCE_IMAGE:
		switch (rng_below(r, 5)) {
		case 0:
			s->ri.interval_ms = 0;
			break;
		case 1:
			s->ri.interval_ms = rng_below(r, DIAG_RI_INTERVAL_MS_MIN);
			break;
		case 2:
			s->ri.interval_ms = DIAG_RI_INTERVAL_MS_MAX + 1 + rng_below(r, 1000);
			break;
		default:
			s->ri.interval_ms = DIAG_RI_INTERVAL_MS_MIN + rng_below(r, 1000);
			break;
		}
		s->ri.max_tasks = rng_pct(r, 10) ? DIAG_RI_TASKS_MAX + 1 + rng_below(r, 100) :
						   rng_below(r, 256);
		break;
	default:
		break;
	}
}

static unsigned int right_size(unsigned int fn, unsigned int verb)
{
	const struct fn_info *f = fn_by_id(fn);

	if (verb == DIAG_VERB_REPORT)
		return sizeof(struct diag_report);
	if (verb == DIAG_VERB_DEACTIVATE)
		return 0;
	return f ? f->settings_size : sizeof(union diag_any_settings);
}

static const unsigned int report_lens[] = { 0, 8, 16, 100, 4096, 65536, 262144 };

/* Keep the functions that were active at the start active. */
static void keep_active(struct fuzz_thread *t, unsigned int fn)
{
	const struct fn_info *f = fn_by_id(fn);
	int i = (int)(f - diag_fns), err;
	union diag_any_settings s = kept[i];

	s.common.activated = 0;
	err = diag_call(fuzz_fd, fn, DIAG_VERB_ACTIVATE, &s, f->settings_size, NULL);
	if (!err)
		t->reactivations++;
	else if (err != EBUSY)
		report_violation(t, "MODEL", DIAG_IOC(fn, DIAG_VERB_ACTIVATE), K_ACTIVATE, err,
				 P_OK, "re-activating a function the storm deactivated failed");
}

static void fuzz_one(struct fuzz_thread *t)
{
	struct rng *r = &t->rng;
	unsigned int fn = 0, verb = 0, cmd, x = rng_below(r, 100);
	enum ptr_class ioc_p, arg_p = P_OK, buf_p = P_OK;
	union diag_any_settings settings;
	struct diag_report rep;
	struct diag_ioc ioc;
	enum call_kind k;
	unsigned long uioc;
	int err, arg_size_right = 0;
	char detail[160];

	/* the command number */
	if (x < 70) {
		fn = pick_fn(r);
		verb = rng_below(r, DIAG_NR_VERBS);
		cmd = DIAG_IOC(fn, verb);
	} else if (x < 75) {
		cmd = DIAG_IOC_VERSION;
	} else if (x < 92) {
		cmd = _IOC(rng_below(r, 4), DIAG_IOC_MAGIC, rng_below(r, 256),
			   rng_pct(r, 50) ? sizeof(struct diag_ioc) + rng_below(r, 3) * 8 - 8 :
					    rng_below(r, 1 << 14));
	} else {
		/* other types; none the VFS answers itself (FIONBIO, FIFREEZE, ...) */
		static const unsigned char types[] = { 'x', 0xDB, 0xD9, 0xFF, 0xDA ^ 0x80 };

		cmd = _IOC(rng_below(r, 4), types[rng_below(r, sizeof(types))], rng_below(r, 256),
			   rng_below(r, 1 << 14));
	}
	if (cmd == DIAG_IOC_VERSION) {
		k = K_VERSION;
	} else if (_IOC_TYPE(cmd) == DIAG_IOC_MAGIC &&
		   cmd == DIAG_IOC(DIAG_IOC_FN(_IOC_NR(cmd)), DIAG_IOC_VERB(_IOC_NR(cmd)))) {
		fn = DIAG_IOC_FN(_IOC_NR(cmd));
		verb = DIAG_IOC_VERB(_IOC_NR(cmd));
		k = (enum call_kind)verb;
	} else {
		k = K_FOREIGN;
	}

	/* the struct diag_ioc and what it points to */
	memset(&ioc, 0, sizeof(ioc));
	ioc.abi_version = rng_pct(r, 92) ? DIAG_ABI_VERSION : (uint32_t)rng_next(r);
	switch (rng_below(r, 10)) {
	case 0:
		ioc.arg_size = right_size(fn, verb) + 8 * (rng_below(r, 5) - 2);
		break;
	case 1:
		ioc.arg_size = rng_pct(r, 50) ? 0 : (uint32_t)rng_next(r);
		break;
	default:
		ioc.arg_size = right_size(fn, verb);
		break;
	}
	arg_size_right = ioc.arg_size == right_size(fn, verb);
	if (rng_pct(r, 2))
		rng_fill(r, ioc.msg, sizeof(ioc.msg));
	if (k == K_REPORT) {
		memset(&rep, 0, sizeof(rep));
		buf_p = pick_ptr(r, 75);
		rep.buf_len = rng_pct(r, 80) ? report_lens[rng_below(r, 7)] :
					       rng_below(r, 262144);
		if (buf_p == P_OK)
			rep.buf = (unsigned long)(t->area + 65536);
		else
			rep.buf = place(t, buf_p, t->area, rep.buf_len ? rep.buf_len : 1, 0);
		rep.flags = rng_pct(r, 5) ? 1u << rng_below(r, 32) : 0;
		if (rng_pct(r, 3))
			rng_fill(r, &rep, sizeof(rep));
		arg_p = pick_ptr(r, 85);
		ioc.arg = place(t, arg_p, &rep, sizeof(rep), 0);
	} else if (k == K_ACTIVATE || k == K_SETTINGS) {
		random_settings(t, fn, &settings);
		arg_p = pick_ptr(r, 85);
		ioc.arg = place(t, arg_p, &settings,
				fn_by_id(fn) ? fn_by_id(fn)->settings_size : sizeof(settings), 0);
	} else {
		ioc.arg = rng_pct(r, 80) ? 0 : rng_next(r);
	}
	/*
	 * The functions kept active stay active: a deactivation of one that
	 * would succeed (no argument) goes in with a wrong ABI version
	 * instead (deactivation is what the lifecycle storms hammer; here it
	 * would only stall the storm on grace periods).
	 */
	if (k == K_DEACTIVATE && fn_by_id(fn) && kept_active[fn_by_id(fn) - diag_fns] &&
	    ioc.abi_version == DIAG_ABI_VERSION && !ioc.arg && !ioc.arg_size)
		ioc.abi_version = DIAG_ABI_VERSION + 1 + rng_below(r, 100);
	ioc_p = pick_ptr(r, 80);
	/* the version query's struct is smaller than struct diag_ioc */
	uioc = place(t, ioc_p, &ioc, k == K_VERSION ? sizeof(struct diag_version) : sizeof(ioc),
		     8192);

	err = syscall(SYS_ioctl, fuzz_fd, cmd, uioc) ? errno : 0;
	t->calls++;
	t->by_ptr[ioc_p]++;
	t->hist[k][err < MAX_ERRNO ? err : 0]++;

	snprintf(detail, sizeof(detail), "fn %u verb %u abi %u arg_size %u arg %s buf %s",
		 fn, verb, ioc.abi_version, ioc.arg_size, ptr_names[arg_p], ptr_names[buf_p]);
	if (!documented(k, err, k == K_DEACTIVATE && (ioc.arg || ioc.arg_size)))
		report_violation(t, "UNDOCUMENTED", cmd, k, err, ioc_p, detail);

	/* where docs/abi.md leaves one answer, it must be that one */
	if (k == K_VERSION) {
		int want = ioc_p == P_OK ? 0 : EFAULT;

		if (err != want)
			report_violation(t, "MODEL", cmd, k, err, ioc_p, "version query");
	} else if (k != K_FOREIGN) {
		int want = -1;

		if (ioc_p != P_OK && ioc_p != P_RO)
			want = EFAULT;	/* struct diag_ioc unreadable */
		else if (ioc.abi_version != DIAG_ABI_VERSION)
			want = ioc_p == P_RO ? EFAULT : EPROTO;
		else if (!fn_by_id(fn))
			want = ioc_p == P_RO ? EFAULT : EOPNOTSUPP;
		else if (k == K_SETTINGS && arg_size_right && arg_p != P_OK)
			want = EFAULT;	/* cannot write the settings there */
		else if ((k == K_SETTINGS || k == K_ACTIVATE || k == K_REPORT) && !arg_size_right)
			want = ioc_p == P_RO ? EFAULT : EINVAL;
		else if (k == K_DEACTIVATE && (ioc.arg || ioc.arg_size))
			want = ioc_p == P_RO ? EFAULT : EINVAL;
		if (want >= 0 && err != want)
			report_violation(t, "MODEL", cmd, k, err, ioc_p, detail);
		/* a refusal explains itself, on one line */
		if (err && err != EFAULT && ioc_p == P_OK) {
			const char *m = (const char *)(t->area + 8192 + offsetof(struct diag_ioc, msg));

			if (!m[0] || !memchr(m, '\0', DIAG_MSG_LEN) || strchr(m, '\n'))
				report_violation(t, "MODEL", cmd, k, err, ioc_p,
						 "no one-line reason in msg");
		}
	}
	if (!err && k == K_ACTIVATE)
		t->activations++;
	if (!err && k == K_DEACTIVATE) {
		const struct fn_info *f = fn_by_id(fn);

		if (f && kept_active[f - diag_fns])
			keep_active(t, fn);
	}
}

static void *fuzz_thread_main(void *arg)
{
	struct fuzz_thread *t = arg;
	long n = t->calls;

	t->calls = 0;
	while (t->calls < n)
		fuzz_one(t);
	return NULL;
}

static void fuzz_setup(struct fuzz_thread *t)
{
	char *m;

	t->area = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m = mmap(NULL, 5 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->area == MAP_FAILED || m == MAP_FAILED)
		die("mmap");
	t->straddle = m;
	mprotect(m + page_size, page_size, PROT_NONE);
	t->hole = (unsigned long)(m + 3 * page_size);
	munmap(m + 3 * page_size, page_size);
	t->ro = m + 2 * page_size;
	mprotect(t->ro, page_size, PROT_READ);
	/* m + 4 pages stays mapped: the hole has neighbours on both sides */
}

static int fuzz(long calls, int nthreads, unsigned long seed, pid_t busy)
{
	struct fuzz_thread *th = calloc(nthreads, sizeof(*th));
	long total[NR_KINDS][MAX_ERRNO] = { { 0 } }, by_ptr[NR_PTR_CLASSES] = { 0 };
	long reactivations = 0, activations = 0, sum = 0;
	unsigned int i, k, e;
	uint64_t t0;
	double wall;
	int j;

	page_size = sysconf(_SC_PAGESIZE);
	busy_pid = busy;
	fuzz_fd = diag_open();
	/* what is active now stays active */
	for (i = 0; i < NR_DIAG_FNS; i++) {
		if (diag_call(fuzz_fd, diag_fns[i].id, DIAG_VERB_SETTINGS, &kept[i],
			      diag_fns[i].settings_size, NULL))
			dief("settings of %s", diag_fns[i].name);
		kept_active[i] = kept[i].common.activated;
		printf("fuzz: %s %s at the start\n", diag_fns[i].name,
		       kept_active[i] ? "active" : "inactive");
	}
	for (j = 0; j < nthreads; j++) {
		th[j].index = j;
		rng_seed(&th[j].rng, seed * 1000 + j);
		th[j].calls = calls / nthreads + (j < calls % nthreads);
		fuzz_setup(&th[j]);
	}
	t0 = now_ns();
	for (j = 0; j < nthreads; j++)
		if (pthread_create(&th[j].thread, NULL, fuzz_thread_main, &th[j]))
			die("pthread_create");
	for (j = 0; j < nthreads; j++)
		pthread_join(th[j].thread, NULL);
	wall = secs_since(t0);

	for (j = 0; j < nthreads; j++) {
		sum += th[j].calls;
		reactivations += th[j].reactivations;
		activations += th[j].activations;
		for (k = 0; k < NR_KINDS; k++)
			for (e = 0; e < MAX_ERRNO; e++)
				total[k][e] += th[j].hist[k][e];
		for (k = 0; k < NR_PTR_CLASSES; k++)
			by_ptr[k] += th[j].by_ptr[k];
	}
	/* leave the functions as they were found */
	for (i = 0; i < NR_DIAG_FNS; i++) {
		union diag_any_settings s;

		diag_call(fuzz_fd, diag_fns[i].id, DIAG_VERB_SETTINGS, &s,
			  diag_fns[i].settings_size, NULL);
		if (s.common.activated && !kept_active[i]) {
			diag_call(fuzz_fd, diag_fns[i].id, DIAG_VERB_DEACTIVATE, NULL, 0, NULL);
			printf("fuzz: deactivated %s, which the storm had activated\n",
			       diag_fns[i].name);
		} else if (!s.common.activated && kept_active[i]) {
			printf("FAIL: %s was active at the start and is not at the end\n",
			       diag_fns[i].name);
			failures++;
		}
	}

	printf("fuzz: calls %ld threads %d seed %lu wall %.2f s rate %.0f calls/s\n", sum, nthreads,
	       seed, wall, sum / wall);
	printf("fuzz: successful random activations %ld, re-activations of kept functions %ld\n",
	       activations, reactivations);
	printf("fuzz: struct diag_ioc pointers:");
	for (k = 0; k < NR_PTR_CLASSES; k++)
		printf(" %s %ld", ptr_names[k], by_ptr[k]);
	printf("\n");
	for (k = 0; k < NR_KINDS; k++) {
		long n = 0;

		for (e = 0; e < MAX_ERRNO; e++)
			n += total[k][e];
		printf("errnos %-10s (%6ld calls):", kind_names[k], n);
		for (e = 0; e < MAX_ERRNO; e++)
			if (total[k][e])
				printf(" %s %ld%s", errno_name(e), total[k][e],
				       documented((enum call_kind)k, e, 1) ? "" : " (UNDOCUMENTED)");
		printf("\n");
	}
	printf("fuzz: undocumented errnos %ld, model violations %ld\n", atomic_load(&undocumented),
	       atomic_load(&model_violations));
	if (atomic_load(&undocumented) || atomic_load(&model_violations))
		failures++;
	printf("%d failures\n", failures);
	return failures != 0;
}

/* ---- without privileges ---- */

static int unpriv_open(void)
{
	int fd = open("/dev/" DIAG_DEVICE_NAME, O_RDWR);

	if (fd >= 0) {
		printf("open: success as uid %d\n", getuid());
		return 1;
	}
	printf("open: %s\n", errno_name(errno));
	return 0;
}

static int unpriv_ioctl(long calls)
{
	long n, eperm = 0, other = 0;
	struct fuzz_thread t;
	int fd, err;

	memset(&t, 0, sizeof(t));
	rng_seed(&t.rng, 7);
	page_size = sysconf(_SC_PAGESIZE);
	fuzz_setup(&t);
	fd = diag_open();
	/* from root to another uid: the capabilities go too */
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		die("dropping privileges");
	for (n = 0; n < calls; n++) {
		unsigned int fn = 1 + rng_below(&t.rng, NR_DIAG_FNS), verb = rng_below(&t.rng, 4);
		unsigned int cmd = rng_pct(&t.rng, 70) ? DIAG_IOC(fn, verb) :
			rng_pct(&t.rng, 50) ? DIAG_IOC_VERSION :
			_IOC(rng_below(&t.rng, 4), DIAG_IOC_MAGIC, rng_below(&t.rng, 256),
			     rng_below(&t.rng, 1 << 14));
		union diag_any_settings s;
		struct diag_report rep;
		struct diag_ioc ioc;

		/* well-formed calls: only the missing capability can refuse them */
		memset(&s, 0, sizeof(s));
		memset(&rep, 0, sizeof(rep));
		rep.buf = (unsigned long)t.area;
		rep.buf_len = 65536;
		memset(&ioc, 0, sizeof(ioc));
		ioc.abi_version = DIAG_ABI_VERSION;
		ioc.arg = verb == DIAG_VERB_REPORT ? (unsigned long)&rep :
			  verb == DIAG_VERB_DEACTIVATE ? 0 : (unsigned long)&s;
		ioc.arg_size = right_size(fn, verb);
		if (verb == DIAG_VERB_ACTIVATE)
			s.common.tgid = 1;
		err = ioctl(fd, cmd, rng_pct(&t.rng, 90) ? (void *)&ioc : NULL) ? errno : 0;
		if (err == EPERM) {
			eperm++;
		} else {
			if (other++ < 10)
				printf("FAIL: unprivileged cmd 0x%08x -> %s, expected EPERM\n", cmd,
				       errno_name(err));
		}
	}
	printf("unprivileged: %ld calls as uid %d: EPERM %ld, other %ld\n", calls, getuid(), eperm,
	       other);
	return other != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 1)
		return targeted_checks();
	if (!strcmp(argv[1], "consume"))
		return consume_checks();
	if (!strcmp(argv[1], "fuzz") && argc == 6)
		return fuzz(atol(argv[2]), atoi(argv[3]), strtoul(argv[4], NULL, 0), atoi(argv[5]));
	if (!strcmp(argv[1], "unpriv-open"))
		return unpriv_open();
	if (!strcmp(argv[1], "unpriv-ioctl") && argc == 3)
		return unpriv_ioctl(atol(argv[2]));
	fprintf(stderr, "usage: ioctl_abuse [consume | fuzz CALLS THREADS SEED BUSY_PID | unpriv-open |"
			" unpriv-ioctl CALLS]\n");
	return 2;
}
