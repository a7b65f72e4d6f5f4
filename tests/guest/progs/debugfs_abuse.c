// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs_abuse: garbage writers and looping readers for the files of
 * migration_trace/ and migration_stat/ (docs/migration-trace.md).
 *
 *   debugfs_abuse garbage SEED N FILE... [-- PATH=VALUE...]
 *       Into every FILE: N writes of random bytes (1..256, never a
 *       number), writes that are refused whatever their start (a number
 *       followed by junk, by a NUL and junk, a sign, blanks), 1 MiB writes
 *       (random, and a valid number followed by NULs or blanks), writes
 *       from a buffer that runs into a PROT_NONE page, and garbage at
 *       random offsets.  Each must fail with EINVAL, or EFAULT where the
 *       buffer cannot be read (the VFS answers first for a file it cannot
 *       write at all: EINVAL, and ESPIPE for a write at an offset into a
 *       file without positions; trace does not open while tracing: EBUSY).
 *       After each FILE,
 *       every PATH must still read VALUE (the state garbage must not
 *       change).  Prints the writes and refusals per file.
 *   debugfs_abuse readers SECONDS FILE...
 *       For SECONDS (or until SIGTERM), opens and reads every FILE in turn
 *       to its end, with
 *       read sizes from 1 byte to 1 MiB, sometimes from a random offset
 *       (pread) or after a seek.  The only errors allowed are those
 *       docs/migration-trace.md gives for reading: EBUSY (trace while
 *       tracing) and ESTALE (trace reset under the reader).  Prints the
 *       opens, reads, bytes and errors per file.
 * Exits 0 when every check held.
 */
#include "abuse.h"

#include <signal.h>
#include <sys/mman.h>

#define HUGE_WRITE	(1 << 20)

static int failures;
static long page;

/* The value a file reads, without its newline. */
static int read_value(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

struct file_tally {
	long writes, einval, efault, espipe, other;
};

/*
 * Garbage is refused with EINVAL; a buffer that is not readable user
 * memory with EFAULT (@want); a write at an offset into a file that has
 * no positions (the seq_file ones) may be refused by the VFS first, with
 * ESPIPE.
 */
static void check_write(const char *path, int fd, const void *buf, size_t len, off_t off,
			const char *what, int want, struct file_tally *t)
{
	ssize_t n = off < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, off);
	int err = n < 0 ? errno : 0;

	t->writes++;
	/* a file with no write at all says EINVAL before it looks at the buffer */
	if (want == EFAULT && err == EINVAL)
		want = EINVAL;
	if (err == want) {
		if (err == EINVAL)
			t->einval++;
		else
			t->efault++;
		return;
	}
	if (off >= 0 && err == ESPIPE) {
		t->espipe++;
		return;
	}
	t->other++;
	if (t->other <= 5)
		printf("FAIL: %s: %s (%zu bytes%s) -> %s, expected %s\n", path, what, len,
		       off >= 0 ? ", at an offset" : "", n >= 0 ? "accepted" : errno_name(err),
		       errno_name(want));
	failures++;
}

static void one_write(const char *path, int fd, const void *buf, size_t len, off_t off,
		      const char *what, struct file_tally *t)
{
	check_write(path, fd, buf, len, off, what, EINVAL, t);
}

static void garbage(unsigned long seed, int n, char **files, int nfiles, char **checks,
		    int nchecks)
{
	static const char *const crafted[] = {
		"-1", " 1", "1 1", "1x", "0x", "+", "\n", "1\n\n", "1\t", "0 ", "--1", "0b1",
		"99999999999999999999999999999", "18446744073709551616", "1e3", "0.5",
	};
	/* a number, then a NUL or blanks, then junk: only the start is a number */
	static const char nul_junk[] = "0\0garbage", nl_nul_junk[] = "1\n\0junk";
	char *huge = malloc(HUGE_WRITE), *straddle, buf[512];
	struct rng r;
	int f, i, c;

	rng_seed(&r, seed);
	straddle = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!huge || straddle == MAP_FAILED)
		die("memory");
	mprotect(straddle + page, page, PROT_NONE);
	for (f = 0; f < nfiles; f++) {
		struct file_tally t = { 0 };
		uint64_t t0 = now_ns();
		int fd = open(files[f], O_WRONLY);

		if (fd < 0 && errno == EBUSY) {
			/* trace, while tracing: documented, and nothing to write to */
			printf("garbage %s: open for writing refused with EBUSY\n", files[f]);
			continue;
		}
		if (fd < 0) {
			printf("FAIL: %s: open for writing: %s\n", files[f], errno_name(errno));
			failures++;
			continue;
		}
		for (i = 0; i < n; i++) {
			size_t len = 1 + rng_below(&r, 256);

			rng_fill(&r, buf, len);
			/* no number starts with anything but a digit or '+' */
			while ((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '+')
				buf[0] = (char)rng_next(&r);
			one_write(files[f], fd, buf, len, -1, "random bytes", &t);
			if (i % 8 == 0)
				one_write(files[f], fd, buf, len,
					  rng_pct(&r, 50) ? (off_t)rng_below(&r, 1 << 20) :
							    (off_t)(rng_next(&r) >> 2),
					  "random bytes", &t);
		}
		for (c = 0; c < (int)(sizeof(crafted) / sizeof(crafted[0])); c++)
			one_write(files[f], fd, crafted[c], strlen(crafted[c]), -1, crafted[c], &t);
		one_write(files[f], fd, "", 0, -1, "an empty write", &t);
		one_write(files[f], fd, nul_junk, sizeof(nul_junk) - 1, -1,
			  "a number, a NUL and junk", &t);
		one_write(files[f], fd, nl_nul_junk, sizeof(nl_nul_junk) - 1, -1,
			  "a number, a newline, a NUL and junk", &t);

		/* 1 MiB: random; a number then NULs; a number then blanks; all digits */
		rng_fill(&r, huge, HUGE_WRITE);
		huge[0] = 'z';
		one_write(files[f], fd, huge, HUGE_WRITE, -1, "1 MiB of random bytes", &t);
		memset(huge, 0, HUGE_WRITE);
		huge[0] = '1';
		huge[1] = '\n';
		one_write(files[f], fd, huge, HUGE_WRITE, -1, "1 MiB: \"1\\n\" and NULs", &t);
		huge[0] = '0';
		huge[1] = '\0';
		one_write(files[f], fd, huge, HUGE_WRITE, -1, "1 MiB: \"0\" and NULs", &t);
		memset(huge + 1, ' ', HUGE_WRITE - 1);
		one_write(files[f], fd, huge, HUGE_WRITE, -1, "1 MiB: \"0\" and blanks", &t);
		memset(huge, '1', HUGE_WRITE);
		one_write(files[f], fd, huge, HUGE_WRITE, -1, "1 MiB of digits", &t);

		/* "1" and then no more readable memory */
		straddle[page - 1] = '1';
		check_write(files[f], fd, straddle + page - 1, 2, -1,
			    "a buffer that runs into a PROT_NONE page", EFAULT, &t);
		one_write(files[f], fd, straddle + page - 1, HUGE_WRITE, -1,
			  "1 MiB that runs into a PROT_NONE page", &t);
		check_write(files[f], fd, (void *)0xffffffff81000000ul, 2, -1,
			    "a kernel address", EFAULT, &t);
		close(fd);

		/* what the garbage must not have changed */
		for (c = 0; c < nchecks; c++) {
			char *eq = strchr(checks[c], '='), got[256];
			int err;

			*eq = '\0';
			err = read_value(checks[c], got, sizeof(got));
			if (err || strcmp(got, eq + 1)) {
				printf("FAIL: after garbage into %s, %s reads '%s' (%s), not '%s'\n",
				       files[f], checks[c], err ? "" : got, errno_name(-err), eq + 1);
				failures++;
			}
			*eq = '=';
		}
		printf("garbage %s: %ld writes in %.2f s: EINVAL %ld, EFAULT %ld, ESPIPE %ld,"
		       " other %ld\n", files[f], t.writes, secs_since(t0), t.einval, t.efault,
		       t.espipe, t.other);
	}
}

struct read_tally {
	long opens, reads, bytes, ebusy, estale, other;
};

static volatile sig_atomic_t stop_reading;

static void on_term(int sig)
{
	(void)sig;
	stop_reading = 1;
}

static void readers(double seconds, char **files, int nfiles)
{
	struct read_tally *t = calloc(nfiles, sizeof(*t));
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	char *buf = malloc(HUGE_WRITE);
	struct rng r;
	int f;

	rng_seed(&r, getpid());
	signal(SIGTERM, on_term);	/* SIGTERM ends the loop: the counts are printed */
	while (now_ns() < end && !stop_reading) {
		for (f = 0; f < nfiles && !stop_reading; f++) {
			size_t len = rng_pct(&r, 50) ? 1 + rng_below(&r, 4096) : HUGE_WRITE;
			int fd = open(files[f], O_RDONLY), err = 0;
			off_t off = -1;
			ssize_t n;

			if (fd < 0) {
				err = errno;
				goto tally;
			}
			t[f].opens++;
			if (rng_pct(&r, 20))
				off = rng_below(&r, 1 << 16);
			else if (rng_pct(&r, 10) && lseek(fd, rng_below(&r, 4096), SEEK_SET) < 0)
				err = errno;
			while (!err) {
				n = off >= 0 ? pread(fd, buf, len, off) : read(fd, buf, len);
				if (n < 0) {
					err = errno;
					break;
				}
				t[f].reads++;
				t[f].bytes += n;
				if (!n)
					break;
				if (off >= 0)
					off += n;
			}
			close(fd);
tally:
			if (err == EBUSY)
				t[f].ebusy++;
			else if (err == ESTALE)
				t[f].estale++;
			else if (err) {
				if (t[f].other++ < 5)
					printf("FAIL: reading %s: %s\n", files[f], errno_name(err));
				failures++;
			}
		}
	}
	for (f = 0; f < nfiles; f++)
		printf("reader %d %s: %ld opens, %ld reads, %ld bytes, EBUSY %ld, ESTALE %ld,"
		       " other errors %ld\n", getpid(), files[f], t[f].opens, t[f].reads,
		       t[f].bytes, t[f].ebusy, t[f].estale, t[f].other);
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	if (argc >= 5 && !strcmp(argv[1], "garbage")) {
		for (i = 4; i < argc && strcmp(argv[i], "--"); i++)
			;
		garbage(strtoul(argv[2], NULL, 0), atoi(argv[3]), argv + 4, i - 4,
			argv + i + (i < argc), argc - i - (i < argc));
	} else if (argc >= 4 && !strcmp(argv[1], "readers")) {
		readers(atof(argv[2]), argv + 3, argc - 3);
	} else {
		dief("usage: debugfs_abuse garbage SEED N FILE... [-- PATH=VALUE...] |"
		     " readers SECONDS FILE...");
	}
	printf("%d failures\n", failures);
	return failures != 0;
}
