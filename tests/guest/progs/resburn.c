// SPDX-License-Identifier: GPL-2.0
/*
 * resburn: uses known amounts of CPU, memory and I/O when told to, and
 * writes down what the kernel's own counters said at the edges.
 *
 *   resburn DIR INTERVAL_MS PHASE...
 *
 * Writes DIR/pids ("tgid N") and DIR/ready, waits for SIGUSR1, runs the
 * phases in order, writes DIR/done, naps twice 1.5 intervals (so that the
 * last interval of its work is closed by a switch of its own), then waits
 * for SIGUSR1 again and exits 0.  Phases:
 *   cpu:MS:DUTY  for MS ms, busy DUTY% of every 10 ms period, asleep the
 *                rest; DIR/cpu gets "NS TICKS HZ" lines: CLOCK_MONOTONIC and
 *                utime+stime of /proc/self/stat at the end of every busy
 *                part (the kernel's own CPU time, to compare with; the
 *                time is that of the middle of the shortest of a few
 *                reads of it, see mark())
 *   spin:MS      busy for MS ms without sleeping; DIR/spin as for cpu, a
 *                line every 10 ms (reading /proc/self/stat never blocks)
 *   io:KIB       writes KIB KiB to DIR/io.dat in 64 KiB writes, reads it back
 *   mem:MIB      maps MIB MiB of anonymous memory and touches every page
 *   burst:KIB:MS a thread writes KIB KiB, burns MS ms of CPU and exits;
 *                DIR/burst gets "TID CPUTIME_NS ELAPSED_NS": its
 *                CLOCK_THREAD_CPUTIME_ID at the end, and the time from a
 *                clock read just before that until the join returned
 *                (what it can have run since, a guest stop included)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "prog_util.h"

static const char *dir;

static void put(const char *name, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/*
 * utime + stime of the process, in clock ticks: the kernel's own count;
 * one pread of a file kept open, to keep the read short
 */
static unsigned long long stat_ticks(void)
{
	static int fd = -1;
	char buf[4096], *p;
	unsigned long long ut = 0, st = 0;
	ssize_t n;

	if (fd < 0)
		fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		perror("/proc/self/stat");
		exit(1);
	}
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2) {
		fprintf(stderr, "cannot parse /proc/self/stat\n");
		exit(1);
	}
	return ut + st;
}

static void burn_until(uint64_t end)
{
	while (now_ns() < end)
		;
}

static void nap_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ull, ns % 1000000000ull };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* (time, utime+stime) pairs of a phase, written when it is over */
static struct {
	unsigned long long ns, ticks;
} marks[100000];
static unsigned int nr_marks;

/*
 * A mark's time is the middle of a read of /proc/self/stat, the shortest
 * of up to MARK_TRIES reads: when the guest stops between the read and
 * the clock (its QEMU thread descheduled on a busy host), the clock jumps
 * and so does the CPU time the tick charges for the jump, but not the
 * count already read, so a mark taken across the stop is tens of ms off
 * and both of the samples that meet near it look that much off /proc's
 * figure (CI once saw 91.9% and 106.9% for a spinning task the module had
 * at 99.9% twice).  A read that took under 1 ms is taken at once; the
 * tries are bounded because on a loaded host no read may be that quick.
 */
#define MARK_TRIES 8

static void mark(void)
{
	unsigned long long before, ticks, after, best_ticks = 0;
	unsigned long long best_ns = 0, best_len = ~0ull;
	unsigned int tries;

	if (nr_marks >= sizeof(marks) / sizeof(marks[0]))
		return;
	for (tries = 0; tries < MARK_TRIES; tries++) {
		before = now_ns();
		ticks = stat_ticks();
		after = now_ns();
		if (after - before < best_len) {
			best_len = after - before;
			best_ticks = ticks;
			best_ns = before + best_len / 2;
		}
		if (best_len < 1000000ull)
			break;
	}
	marks[nr_marks].ticks = best_ticks;
	marks[nr_marks].ns = best_ns;
	nr_marks++;
}

static void put_marks(const char *name)
{
	static char text[sizeof(marks) / sizeof(marks[0]) * 48];
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < nr_marks; i++)
		n += snprintf(text + n, sizeof(text) - n, "%llu %llu %ld\n",
			      marks[i].ns, marks[i].ticks, sysconf(_SC_CLK_TCK));
	put(name, text);
	nr_marks = 0;
}

static void phase_cpu(unsigned int ms, unsigned int duty)
{
	const uint64_t period = 10000000ull;
	uint64_t end, p;

	mark();
	end = marks[0].ns + ms * 1000000ull;
	for (p = marks[0].ns; p < end; p += period) {
		uint64_t t;

		burn_until(p + period * duty / 100);
		mark();
		/* one reading: a second one past the period's end would make
		 * the nap wrap to centuries (CI: "done" never came) */
		t = now_ns();
		if (t < p + period)
			nap_ns(p + period - t);
	}
	put_marks("cpu");
}

static void phase_spin(unsigned int ms)
{
	uint64_t t, end;

	mark();
	end = marks[0].ns + ms * 1000000ull;
	for (t = marks[0].ns; t < end; ) {
		t += 10000000ull;
		burn_until(t);
		mark();
	}
	put_marks("spin");
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0) {
			perror("write");
			exit(1);
		}
		buf += n;
		len -= n;
	}
}

static void phase_io(unsigned int kib)
{
	static char buf[64 * 1024];
	char path[4096];
	size_t left;
	int fd;

	memset(buf, 'x', sizeof(buf));
	snprintf(path, sizeof(path), "%s/io.dat", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	for (left = kib * 1024ull; left; ) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		write_all(fd, buf, n);
		left -= n;
	}
	lseek(fd, 0, SEEK_SET);
	for (left = kib * 1024ull; left; ) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0) {
			perror("read");
			exit(1);
		}
		left -= n;
	}
	close(fd);
}

static void phase_mem(unsigned int mib)
{
	size_t len = mib * 1024ull * 1024, off;
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (off = 0; off < len; off += page)
		p[off] = 1;
	/* kept mapped: the RSS stays until the process exits */
}

struct burst {
	unsigned int kib, ms;
	pid_t tid;
	uint64_t cputime, end_ns;
};

static void *burst_main(void *arg)
{
	struct burst *b = arg;
	static char buf[256 * 1024];
	char path[4096];
	size_t left;
	int fd;

	b->tid = (pid_t)syscall(SYS_gettid);
	snprintf(path, sizeof(path), "%s/burst.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	for (left = b->kib * 1024ull; left; ) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		write_all(fd, buf, n);
		left -= n;
	}
	close(fd);
	burn_until(now_ns() + b->ms * 1000000ull);
	/* the clock first, so that ELAPSED covers all time after the CPU
	 * time read */
	b->end_ns = now_ns();
	b->cputime = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static void phase_burst(unsigned int kib, unsigned int ms)
{
	struct burst b = { .kib = kib, .ms = ms };
	char text[128];
	pthread_t t;

	if (pthread_create(&t, NULL, burst_main, &b)) {
		perror("pthread_create");
		exit(1);
	}
	pthread_join(t, NULL);
	snprintf(text, sizeof(text), "%d %llu %llu\n", b.tid,
		 (unsigned long long)b.cputime,
		 (unsigned long long)(now_ns() - b.end_ns));
	put("burst", text);
}

int main(int argc, char **argv)
{
	unsigned int a, b, interval_ms;
	char text[64];
	sigset_t set;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: resburn DIR INTERVAL_MS PHASE...\n");
		return 2;
	}
	dir = argv[1];
	interval_ms = atoi(argv[2]);
	/*
	 * The guest kernel has THP "always": khugepaged may collapse our
	 * ranges at any time, changing RSS while we sleep and breaking the
	 * comparison of our last sample with VmRSS read later.
	 */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		perror("PR_SET_THP_DISABLE");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	snprintf(text, sizeof(text), "tgid %d\n", getpid());
	put("pids", text);
	put("ready", "");
	wait_usr1();

	for (i = 3; i < argc; i++) {
		if (sscanf(argv[i], "cpu:%u:%u", &a, &b) == 2)
			phase_cpu(a, b);
		else if (sscanf(argv[i], "spin:%u", &a) == 1)
			phase_spin(a);
		else if (sscanf(argv[i], "io:%u", &a) == 1)
			phase_io(a);
		else if (sscanf(argv[i], "mem:%u", &a) == 1)
			phase_mem(a);
		else if (sscanf(argv[i], "burst:%u:%u", &a, &b) == 2)
			phase_burst(a, b);
		else {
			fprintf(stderr, "unknown phase %s\n", argv[i]);
			return 2;
		}
	}
	put("done", "");
	/*
	 * Two naps: the switch into the second comes after one interval with
	 * nothing but the same few instructions since the first, so the last
	 * sample of the work is taken with the memory and I/O counters final
	 * (a fault in between could fold this thread's RSS cache into the mm
	 * after the sample and make VmRSS differ from it).
	 */
	nap_ns(interval_ms * 1500000ull);
	nap_ns(interval_ms * 1500000ull);
	wait_usr1();
	return 0;
}
