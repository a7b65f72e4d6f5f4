// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_abuse: feeds /dev/diagnose malformed calls and checks that each is
 * refused with its documented errno (docs/abi.md) and, where the module
 * explains itself, a message.  Exits 0 when every check held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../../uapi/diagnose.h"

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

/* The kernel's own count of our migrations: se.nr_migrations. */
static long nr_migrations(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/self/sched", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "se.nr_migrations : %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
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

int main(void)
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

	/*
	 * A report that faults part-way, or whose request cannot be written
	 * back, consumes nothing: every move arrives in the next report, as
	 * many as the kernel counted.
	 */
	{
		long page = sysconf(_SC_PAGESIZE), before, after;
		char *win = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct diag_report *ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int own;

		if (win == MAP_FAILED || ro == MAP_FAILED || mprotect(win + page, page, PROT_NONE)) {
			perror("mmap");
			return 1;
		}
		before = nr_migrations();
		move_self(40);
		after = nr_migrations();

		/* room for a record or two, then a page that faults */
		memset(&rep, 0, sizeof(rep));
		rep.buf = (unsigned long)(win + page - 3 * sizeof(struct diag_migrate_record) / 2);
		rep.buf_len = 1 << 20;
		ioc = ioc_for(&rep, sizeof(rep));
		ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
		expect("report into a buffer that faults part-way", ret, EFAULT, ioc.msg);

		/* the request itself read-only: the answer cannot be written */
		memset(ro, 0, sizeof(*ro));
		ro->buf = (unsigned long)big;
		ro->buf_len = sizeof(big);
		mprotect(ro, page, PROT_READ);
		ioc = ioc_for(ro, sizeof(*ro));
		ret = call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc);
		expect("report whose request is read-only", ret, EFAULT, ioc.msg);

		memset(&rep, 0, sizeof(rep));
		rep.buf = (unsigned long)big;
		rep.buf_len = sizeof(big);
		ioc = ioc_for(&rep, sizeof(rep));
		expect("report", call(fd, DIAG_FN_MIGRATE_IMAGE, DIAG_VERB_REPORT, &ioc), 0, NULL);
		own = count_own_moves(big, rep.bytes);
		if (own != after - before || rep.lost) {
			printf("FAIL: after the faulted reports: %d moves reported, the kernel counted %ld (lost %llu)\n",
			       own, after - before, (unsigned long long)rep.lost);
			failures++;
		} else {
			printf("ok: after the faulted reports: %d moves reported = se.nr_migrations %ld\n",
			       own, after - before);
		}
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
