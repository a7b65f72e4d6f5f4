// SPDX-License-Identifier: GPL-2.0
/*
 * ring_stress KIB MAXREC SECONDS [FAULT_EVERY]
 *
 * Drives tests/kmod/ring_test.ko: starts its writers (a kthread and an
 * hrtimer per CPU, random record sizes, trimmed records, nested writers)
 * on a ring of KIB per CPU, drains it concurrently while they run, and
 * every FAULT_EVERY-th read (default 7) drains into a buffer whose end
 * is not mapped, which must fail with EFAULT and consume nothing.  Then
 * checks, per CPU:
 *   - records arrive with seq 0, 1, 2, ... (none vanished silently),
 *     intact (size, CPU, payload);
 *   - records delivered = records the writers committed;
 *   - reservations tried = records delivered + records counted lost.
 * (Until a read has faulted, every read drains into the faulting buffer.)
 * Prints the figures; exit 0 when every check holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "../../../uapi/diagnose.h"

#define DIR "/sys/kernel/debug/diag_ring_test/"
#define RT_REC_TYPE 0x7e57
#define MAX_CPUS 1024
#define BUF_LEN (256 * 1024)

struct rt_record {
	struct diag_record_header hdr;
	uint64_t seq;
	uint32_t len;
	uint32_t cpu;
};

static uint64_t next_seq[MAX_CPUS], lost[MAX_CPUS], delivered[MAX_CPUS];
static uint64_t bad, reads, efaults, bytes_read;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ctl(const char *cmd)
{
	int fd = open(DIR "ctl", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n < 0 ? -errno : 0;
}

static void complain(const char *what, const struct diag_record_header *h)
{
	if (bad++ < 10)
		fprintf(stderr, "ring_stress: %s (cpu %u size %u type %u)\n",
			what, h->cpu, h->size, h->type);
}

static void parse(const unsigned char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const struct diag_record_header *h = (const void *)(buf + off);

		if (len - off < sizeof(*h) || h->size < sizeof(*h) ||
		    h->size % 8 || h->size > len - off || h->cpu >= MAX_CPUS) {
			complain("malformed record", h);
			return;
		}
		if (h->type == DIAG_REC_LOST) {
			const struct diag_lost_record *l = (const void *)h;

			lost[h->cpu] += l->count;
		} else if (h->type == RT_REC_TYPE) {
			const struct rt_record *r = (const void *)h;
			const unsigned char *p = (const unsigned char *)(r + 1);
			uint32_t i;

			if (h->size < sizeof(*r) || r->len < sizeof(*r) ||
			    (r->len + 7) / 8 * 8 != h->size || r->cpu != h->cpu) {
				complain("bad size or cpu", h);
			} else {
				if (r->seq != next_seq[h->cpu]) {
					if (bad++ < 10)
						fprintf(stderr, "ring_stress: cpu %u: seq %" PRIu64
							" after %" PRIu64 ": records vanished\n",
							h->cpu, r->seq, next_seq[h->cpu]);
				}
				next_seq[h->cpu] = r->seq + 1;
				for (i = 0; i < r->len - sizeof(*r); i++) {
					if (p[i] != (unsigned char)(r->seq * 131 + i * 7 + 1)) {
						complain("payload corrupt", h);
						break;
					}
				}
				delivered[h->cpu]++;
			}
		} else {
			complain("unknown record type", h);
		}
		off += h->size;
	}
}

/* One drain; returns the bytes, 0 when empty. */
static ssize_t drain(int fd, unsigned char *good, unsigned char *faulty,
		     int fault_every)
{
	ssize_t n;

	reads++;
	/* until one has faulted, every read tries: a slow kernel makes few */
	if (fault_every && (!efaults || reads % fault_every == 0)) {
		/*
		 * The page after a 128-byte window is PROT_NONE.  The writers
		 * get 5 ms first, so that the ring holds more than the window
		 * and the read faults however few reads a slow kernel gets
		 * through in the run (the sanitizer kernel: about 20).
		 */
		usleep(5000);
		n = read(fd, faulty, BUF_LEN);
		if (n < 0 && errno == EFAULT) {
			efaults++;
			return 1;	/* nothing consumed: read again */
		}
		if (n < 0) {
			perror("ring_stress: read (faulting buffer)");
			exit(2);
		}
		parse(faulty, n);
		bytes_read += n;
		return n;
	}
	n = read(fd, good, BUF_LEN);
	if (n < 0) {
		perror("ring_stress: read");
		exit(2);
	}
	parse(good, n);
	bytes_read += n;
	return n;
}

int main(int argc, char **argv)
{
	unsigned kib, maxrec, seconds;
	int fault_every = 7, fd, cpu, rc = 0, ret;
	unsigned char *good, *faulty;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t tot_att = 0, tot_wr = 0, tot_del = 0, tot_lost = 0;
	char cmd[64], line[256];
	double t0, t1;
	FILE *st;

	if (argc < 4) {
		fprintf(stderr, "usage: ring_stress KIB MAXREC SECONDS [FAULT_EVERY]\n");
		return 2;
	}
	kib = atoi(argv[1]);
	maxrec = atoi(argv[2]);
	seconds = atoi(argv[3]);
	if (argc > 4)
		fault_every = atoi(argv[4]);

	good = malloc(BUF_LEN);
	/* a 128-byte window, then a page that faults */
	faulty = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!good || faulty == MAP_FAILED || mprotect(faulty + page, page, PROT_NONE)) {
		perror("ring_stress: buffers");
		return 2;
	}
	faulty += page - 128;

	snprintf(cmd, sizeof(cmd), "start %u %u %u", kib, maxrec, seconds);
	ret = ctl(cmd);
	if (ret) {
		fprintf(stderr, "ring_stress: %s: %s\n", cmd, strerror(-ret));
		return 2;
	}
	fd = open(DIR "ring", O_RDONLY);
	if (fd < 0) {
		perror("ring_stress: open ring");
		return 2;
	}
	t0 = now();
	while (now() < t0 + seconds) {
		if (drain(fd, good, faulty, fault_every) == 0)
			usleep(2000);
		/* sometimes let the ring fill up, so that records are lost */
		if (reads % 50 == 0)
			usleep(20000);
	}
	ctl("stop");
	while (drain(fd, good, faulty, 0) > 0)
		;
	t1 = now();
	close(fd);

	st = fopen(DIR "stats", "r");
	if (!st) {
		perror("ring_stress: stats");
		return 2;
	}
	while (fgets(line, sizeof(line), st)) {
		uint64_t att, wr;

		if (sscanf(line, "cpu %d attempts %" SCNu64 " written %" SCNu64, &cpu, &att, &wr) != 3 ||
		    cpu < 0 || cpu >= MAX_CPUS)
			continue;
		if (!att)
			continue;
		printf("cpu %d: attempts %" PRIu64 " written %" PRIu64 " delivered %" PRIu64
		       " lost %" PRIu64 "\n", cpu, att, wr, delivered[cpu], lost[cpu]);
		if (delivered[cpu] != wr || next_seq[cpu] != wr) {
			printf("  FAILED: cpu %d delivered %" PRIu64 " of %" PRIu64 " written\n",
			       cpu, delivered[cpu], wr);
			rc = 1;
		}
		if (att != delivered[cpu] + lost[cpu]) {
			printf("  FAILED: cpu %d attempts %" PRIu64 " != delivered + lost %" PRIu64 "\n",
			       cpu, att, delivered[cpu] + lost[cpu]);
			rc = 1;
		}
		tot_att += att;
		tot_wr += wr;
		tot_del += delivered[cpu];
		tot_lost += lost[cpu];
	}
	fclose(st);
	ctl("free");
	printf("ring %u KiB/CPU, records 32..%u bytes, %u s: attempts %" PRIu64 " = delivered %"
	       PRIu64 " + lost %" PRIu64 "; %" PRIu64 " reads (%" PRIu64
	       " faulted, consumed nothing), %.1f MB at %.1f MB/s\n",
	       kib, maxrec, seconds, tot_att, tot_del, tot_lost, reads, efaults,
	       bytes_read / 1e6, bytes_read / 1e6 / (t1 - t0));
	if (bad) {
		printf("  FAILED: %" PRIu64 " bad records\n", bad);
		rc = 1;
	}
	if (!tot_att || !tot_lost || !tot_del || (fault_every && !efaults)) {
		printf("  FAILED: the run did not exercise delivery, loss and faults\n");
		rc = 1;
	}
	(void)tot_wr;
	return rc;
}
