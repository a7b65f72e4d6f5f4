// SPDX-License-Identifier: GPL-2.0
/*
 * ring_account: every record a function produces on its smallest buffer
 * is either delivered or counted lost; the guest case compares the sum
 * with the kernel's own counters (tests/guest/cases/abuse.sh).
 *
 *   ring_account minbuf FN KEY=VAL...
 *       The smallest buf-kib the module accepts for FN with these
 *       settings ("minbuf FN KIB MAX_RECORD"); one KiB less must be
 *       refused with EINVAL.
 *   ring_account read DIR FN INTERVAL_MS KEY=VAL...
 *       Activates FN (pinned to CPU 0), writes DIR/ready, reports every
 *       INTERVAL_MS until DIR/stop exists, then drains what is left and
 *       deactivates.  Prints what it got, "KEY VALUE" lines: reports,
 *       records, lost (the sum of the LOST records, which must equal the
 *       module's total), records per type and event, and per function:
 *       migrate-image migrations; kprobe hits of pid TARGET (target=PID),
 *       record sizes, missed; resource-image "ri PID SAMPLES CPU_NS NVCSW
 *       NIVCSW RCHAR WCHAR" per task.
 *   ring_account kt-work DIR N         (keytime-image's workload, named
 *       kt-abuse) N rounds of: a fork whose child fails to exec 0-2 times
 *       and then execs DIR/kt-abuse (a link to this program) with argv of
 *       random length, which exits at once; a thread now and then; short
 *       sleeps.  DIR/done: "forks F threads T execs_ok E execs_failed X".
 *   ring_account kp-work DIR N RING_BYTES USTACK_BYTES WALKS
 *       (kprobe's workload, on the last CPU) getppid() from a user stack
 *       whose depth it chooses, so the kprobe records' user stack copies
 *       (to the top of that stack) have sizes it knows: WALKS times it
 *       steers the ring's write position to 8 bytes before the end (with
 *       the reader of "read" reporting often), then N calls at random
 *       depths.  DIR/done: "calls N walks W".
 *   ring_account ri-work DIR THREADS MS   (resource-image's workload,
 *       named ri-abuse) THREADS threads spin, sleep, read and write for
 *       MS ms, then sleep.
 * The workloads write DIR/pids ("tgid N") and DIR/ready, wait for
 * SIGUSR1, work, write DIR/done, and wait for SIGUSR1 again to exit.
 */
#include "abuse.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *dir;

static int exists_in_dir(const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* ---- minbuf ---- */

static int minbuf(const struct fn_info *fn, union diag_any_settings *s)
{
	char msg[DIAG_MSG_LEN];
	unsigned int kib;
	int fd = diag_open(), err = EINVAL;
	const char *p;

	for (kib = 1; kib <= 1024; kib++) {
		s->common.buf_kib = kib;
		err = diag_call(fd, fn->id, DIAG_VERB_ACTIVATE, s, fn->settings_size, msg);
		if (err != EINVAL)
			break;
		if (!strstr(msg, "too small"))
			dief("minbuf %s: %u KiB refused for another reason: %s", fn->name, kib, msg);
	}
	if (err)
		dief("minbuf %s: %u KiB: %s: %s", fn->name, kib, errno_name(err), msg);
	diag_call(fd, fn->id, DIAG_VERB_DEACTIVATE, NULL, 0, NULL);
	if (kib == 1) {
		printf("minbuf %s 1 ?\n", fn->name);
		return 0;
	}
	/* the refusal of kib - 1 names the largest record */
	s->common.buf_kib = kib - 1;
	err = diag_call(fd, fn->id, DIAG_VERB_ACTIVATE, s, fn->settings_size, msg);
	if (err != EINVAL)
		dief("minbuf %s: %u KiB accepted on the second try", fn->name, kib - 1);
	p = strstr(msg, "up to ");
	printf("minbuf %s %u %s\n", fn->name, kib, p ? p + 6 : "?");
	return 0;
}

/* ---- read ---- */

#define READ_BUF	(8 << 20)
#define MAX_SIZES	4096
#define MAX_TASKS	256

struct ri_sum {
	int pid;
	long samples;
	uint64_t cpu_ns, nvcsw, nivcsw, rchar, wchar;
};

struct tallies {
	long reports, records, bytes, lost_records, lost_sum;
	long by_type[8];
	long kt_events[8];
	long kt_stacks, kt_truncated;
	long mi_migrations, mi_fork_placements;
	long kp_hits, kp_other_pid, kp_min_len, kp_max_len, kp_faulted;
	unsigned int kp_sizes[MAX_SIZES];	/* distinct record sizes */
	int kp_nr_sizes;
	struct ri_sum ri[MAX_TASKS];
	int ri_nr;
	long ri_table_full;
};

static struct tallies tl;
static int target_pid;

static void note_size(unsigned int size)
{
	int i;

	for (i = 0; i < tl.kp_nr_sizes; i++)
		if (tl.kp_sizes[i] == size)
			return;
	if (tl.kp_nr_sizes < MAX_SIZES)
		tl.kp_sizes[tl.kp_nr_sizes++] = size;
}

static struct ri_sum *ri_of(int pid)
{
	int i;

	for (i = 0; i < tl.ri_nr; i++)
		if (tl.ri[i].pid == pid)
			return &tl.ri[i];
	if (tl.ri_nr == MAX_TASKS)
		dief("more than %d tasks", MAX_TASKS);
	tl.ri[tl.ri_nr].pid = pid;
	return &tl.ri[tl.ri_nr++];
}

static void tally_report(const char *buf, unsigned int len)
{
	const struct diag_record_header *h;
	unsigned int pos;

	for (pos = 0; pos < len; pos += h->size) {
		h = (const void *)(buf + pos);
		if (len - pos < sizeof(*h) || h->size < sizeof(*h) || h->size % 8 ||
		    h->size > len - pos)
			dief("malformed record at %u of %u", pos, len);
		tl.by_type[h->type < 8 ? h->type : 7]++;
		if (h->type == DIAG_REC_LOST) {
			tl.lost_records++;
			tl.lost_sum += ((const struct diag_lost_record *)h)->count;
			continue;
		}
		tl.records++;
		switch (h->type) {
		case DIAG_REC_MIGRATE: {
			const struct diag_migrate_record *r = (const void *)h;

			if (r->flags & DIAG_MIGRATE_FORK_PLACEMENT)
				tl.mi_fork_placements++;
			else
				tl.mi_migrations++;
			break;
		}
		case DIAG_REC_KEYTIME: {
			const struct diag_keytime_record *r = (const void *)h;

			tl.kt_events[r->event < 8 ? r->event : 0]++;
			if (r->flags & DIAG_KT_STACK)
				tl.kt_stacks++;
			if (r->flags & DIAG_KT_TRUNCATED)
				tl.kt_truncated++;
			break;
		}
		case DIAG_REC_KPROBE: {
			const struct diag_kprobe_record *r = (const void *)h;

			if (r->pid != target_pid) {
				tl.kp_other_pid++;
				break;
			}
			tl.kp_hits++;
			note_size(h->size);
			if (!tl.kp_min_len || r->ustack.len < tl.kp_min_len)
				tl.kp_min_len = r->ustack.len;
			if (r->ustack.len > tl.kp_max_len)
				tl.kp_max_len = r->ustack.len;
			if (r->ustack.flags & DIAG_USTACK_FAULTED)
				tl.kp_faulted++;
			break;
		}
		case DIAG_REC_RESOURCE: {
			const struct diag_resource_record *r = (const void *)h;
			struct ri_sum *s;

			if (r->flags & DIAG_RI_TABLE_FULL) {
				tl.ri_table_full++;
				break;
			}
			s = ri_of(r->pid);
			s->samples++;
			s->cpu_ns += r->cpu_ns;
			s->nvcsw += r->nvcsw;
			s->nivcsw += r->nivcsw;
			s->rchar += r->rchar;
			s->wchar += r->wchar;
			break;
		}
		default:
			break;
		}
	}
}

/* DIR/reports: how many reports the reader has made, for the workload */
static volatile long *reports_done;

static volatile long *map_reports(int create)
{
	char path[4096];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/reports", dir);
	fd = open(path, create ? O_RDWR | O_CREAT : O_RDWR, 0644);
	if (fd < 0 || (create && ftruncate(fd, sizeof(long))))
		die(path);
	p = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	return p;
}

static int do_report(int fd, const struct fn_info *fn, char *buf, struct diag_report *rep)
{
	int err = diag_report(fd, fn->id, buf, READ_BUF, rep);

	if (err)
		dief("report %s: %s", fn->name, errno_name(err));
	tl.reports++;
	*reports_done = tl.reports;
	tl.bytes += rep->bytes;
	tally_report(buf, rep->bytes);
	return rep->more;
}

static int read_mode(const struct fn_info *fn, union diag_any_settings *s, unsigned int interval)
{
	char *buf = malloc(READ_BUF), msg[DIAG_MSG_LEN];
	struct diag_report rep;
	uint64_t t0;
	int fd = diag_open(), err, i, failed = 0;
	long lost_total;

	pin_to_cpu(0);
	reports_done = map_reports(1);
	err = diag_call(fd, fn->id, DIAG_VERB_ACTIVATE, s, fn->settings_size, msg);
	if (err)
		dief("activate %s: %s: %s", fn->name, errno_name(err), msg);
	fclose(open_in(dir, "ready", "w"));
	t0 = now_ns();
	while (!exists_in_dir("stop")) {
		do_report(fd, fn, buf, &rep);
		sleep_ms(interval);
	}
	/* what is left, including what a report itself adds (off-CPU samples, maps) */
	for (i = 0; i < 3; i++) {
		int rounds = 0;

		while (do_report(fd, fn, buf, &rep))
			if (++rounds > 1000)
				dief("report %s: still more after 1000 reports", fn->name);
		sleep_ms(20);
	}
	lost_total = rep.lost;
	if (fn->id == DIAG_FN_KPROBE) {
		struct diag_kprobe_settings ks;

		diag_call(fd, fn->id, DIAG_VERB_SETTINGS, &ks, sizeof(ks), NULL);
		printf("kp_missed %llu\nkp_maps_dropped %llu\n", (unsigned long long)ks.missed,
		       (unsigned long long)ks.maps_dropped);
	}
	err = diag_call(fd, fn->id, DIAG_VERB_DEACTIVATE, NULL, 0, msg);
	if (err)
		dief("deactivate %s: %s: %s", fn->name, errno_name(err), msg);

	printf("seconds %.2f\nreports %ld\nbytes %ld\nrecords %ld\nlost %ld\nlost_total %ld\n"
	       "lost_records %ld\n", secs_since(t0), tl.reports, tl.bytes, tl.records, tl.lost_sum,
	       lost_total, tl.lost_records);
	for (i = 0; i < 8; i++)
		if (tl.by_type[i])
			printf("type_%d %ld\n", i, tl.by_type[i]);
	switch (fn->id) {
	case DIAG_FN_MIGRATE_IMAGE:
		printf("mi_migrations %ld\nmi_fork_placements %ld\n", tl.mi_migrations,
		       tl.mi_fork_placements);
		break;
	case DIAG_FN_KEYTIME_IMAGE:
		for (i = 1; i < 7; i++)
			printf("kt_event_%d %ld\n", i, tl.kt_events[i]);
		printf("kt_stacks %ld\nkt_truncated %ld\n", tl.kt_stacks, tl.kt_truncated);
		break;
	case DIAG_FN_KPROBE:
		printf("kp_hits %ld\nkp_other_pid %ld\nkp_sizes %d\nkp_ustack_len %ld..%ld\n"
		       "kp_faulted %ld\n", tl.kp_hits, tl.kp_other_pid, tl.kp_nr_sizes,
		       tl.kp_min_len, tl.kp_max_len, tl.kp_faulted);
		break;
	case DIAG_FN_RESOURCE_IMAGE:
		printf("ri_table_full %ld\n", tl.ri_table_full);
		for (i = 0; i < tl.ri_nr; i++)
			printf("ri %d %ld %llu %llu %llu %llu %llu\n", tl.ri[i].pid, tl.ri[i].samples,
			       (unsigned long long)tl.ri[i].cpu_ns,
			       (unsigned long long)tl.ri[i].nvcsw,
			       (unsigned long long)tl.ri[i].nivcsw,
			       (unsigned long long)tl.ri[i].rchar,
			       (unsigned long long)tl.ri[i].wchar);
		break;
	}
	/* the module's two counts of losses must agree */
	if (tl.lost_sum != lost_total) {
		printf("FAIL: the LOST records add up to %ld, the module's total says %ld\n",
		       tl.lost_sum, lost_total);
		failed = 1;
	}
	return failed;
}

/* ---- workloads ---- */

static void workload_ready(void)
{
	FILE *f = open_in(dir, "pids", "w");
	sigset_t set;

	fprintf(f, "tgid %d\n", getpid());
	fclose(f);
	fclose(open_in(dir, "ready", "w"));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* argv of random length: up to 24 strings of up to 120 printable bytes */
static char **random_argv(struct rng *r, const char *argv0, const char *argv1)
{
	int n = 2 + rng_below(r, 24), i;
	char **v = calloc(n + 1, sizeof(*v));

	v[0] = (char *)argv0;
	v[1] = (char *)argv1;
	for (i = 2; i < n; i++) {
		int len = rng_below(r, 121), j;

		v[i] = malloc(len + 1);
		for (j = 0; j < len; j++)
			v[i][j] = 'a' + rng_below(r, 26);
		v[i][len] = '\0';
	}
	return v;
}

static void *kt_thread(void *arg)
{
	sleep_ms((unsigned int)(long)arg);
	return NULL;
}

static int kt_work(int n)
{
	long forks = 0, threads = 0, execs_ok = 0, execs_failed = 0;
	char target[4096];
	struct rng r;
	FILE *f;
	int i;

	snprintf(target, sizeof(target), "%s/kt-abuse", dir);
	prctl(PR_SET_NAME, "kt-abuse");
	rng_seed(&r, getpid());
	workload_ready();
	wait_usr1();
	for (i = 0; i < n; i++) {
		int fails = i % 3, status;
		char **v = random_argv(&r, "kt-abuse", "child");
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int j;

			for (j = 0; j < fails; j++)
				execv("/nonexistent/kt-abuse", v);
			execv(target, v);
			_exit(127);
		}
		forks++;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			dief("kt-work: child %d: status 0x%x", pid, status);
		execs_failed += fails;
		execs_ok++;
		for (int j = 2; v[j]; j++)
			free(v[j]);
		free(v);
		if (i % 4 == 0) {
			pthread_t t;

			if (pthread_create(&t, NULL, kt_thread, (void *)(long)rng_below(&r, 2)))
				die("pthread_create");
			pthread_join(t, NULL);
			forks++;
			threads++;
		}
		if (rng_pct(&r, 30))
			sleep_ms(rng_below(&r, 2));
	}
	f = open_in(dir, "done", "w");
	fprintf(f, "forks %ld threads %ld execs_ok %ld execs_failed %ld\n", forks, threads, execs_ok,
		execs_failed);
	fclose(f);
	wait_usr1();
	return 0;
}

/*
 * Wait until the reader has made two more reports: whatever we recorded
 * before is drained, so nothing of ours is lost and our model of the
 * ring's write position holds.  Gives up after a second.
 */
static void wait_drained(volatile long *reports)
{
	long want = *reports + 2;
	int i;

	for (i = 0; i < 1000 && *reports < want; i++)
		sleep_ms(1);
}

/* getppid() with the stack pointer at @sp: the kprobe copies from there up */
static long getppid_on_stack(void *sp)
{
	long ret;

	asm volatile("mov %%rsp, %%r12\n\t"
		     "mov %[sp], %%rsp\n\t"
		     "syscall\n\t"
		     "mov %%r12, %%rsp\n\t"
		     : "=a"(ret)
		     : "0"((long)SYS_getppid), [sp] "r"(sp)
		     : "rcx", "r11", "r12", "memory");
	return ret;
}

static int kp_work(int n, unsigned long ring_bytes, unsigned long ustack_bytes, int nwalks)
{
	const unsigned long fixed = sizeof(struct diag_kprobe_record);
	/* the handler reserves room for a whole copy, then trims the record */
	const unsigned long reserve = fixed + ustack_bytes;
	long page = sysconf(_SC_PAGESIZE), calls = 0, walks = 0;
	unsigned long depth_max = ustack_bytes - 8, head = 0, i;
	/* the walk uses records of at most 4 KiB of stack: the ring holds dozens */
	unsigned long smin = fixed + 8, smax = fixed + (depth_max < 4096 ? depth_max : 4096);
	unsigned long target = ring_bytes - reserve;
	size_t stack_size = ustack_bytes + 4 * page;
	volatile long *reports;
	char *stack, *top;
	struct rng r;
	FILE *f;
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	/* the copy ends where the stack does: at a PROT_NONE page */
	stack = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		die("mmap");
	top = stack + stack_size;
	mprotect(top, page, PROT_NONE);
	memset(stack, 0, stack_size);
	rng_seed(&r, getpid());
	/* one CPU, so one ring sees every record, in our order */
	pin_to_cpu(ncpus - 1);
	workload_ready();
	wait_usr1();
	/* the reader made it before it said it was ready */
	reports = map_reports(0);

	/*
	 * A call at depth d makes a record of fixed + d bytes (d a multiple of
	 * 8), reserved at its full size (fixed + ustack_bytes) and trimmed:
	 * it goes where the ring's write position is when that much fits
	 * before the end, else to the start, after padding.  Steer the
	 * position to reserve bytes before the end, make the largest trimmed
	 * record there (it ends 8 bytes before the end), then one more: it
	 * does not fit in those 8 bytes.  Wait for the reader after every
	 * call, so that nothing is lost and the position stays known.
	 */
	for (walks = 0; walks < nwalks; walks++) {
		for (;;) {
			unsigned long want, s;

			if (ring_bytes - head < reserve)
				want = 0;	/* past the target: the next one wraps */
			else
				want = target - head;
			if (head == target)
				break;
			if (want >= smin && want <= smax)
				s = want;
			else if (want > smax)
				s = want - smax >= smin ? smax : want - smin;
			else
				s = smax;	/* cannot land this lap: wrap */
			if (ring_bytes - head < reserve)
				head = 0;
			getppid_on_stack(top - (s - fixed));
			head += s;
			calls++;
			wait_drained(reports);
		}
		getppid_on_stack(top - (reserve - 8 - fixed));	/* ends at ring_bytes - 8 */
		calls++;
		wait_drained(reports);
		getppid_on_stack(top - (smin - fixed));		/* after the 8-byte gap */
		head = smin;
		calls++;
		wait_drained(reports);
	}
	/* then any depth */
	for (i = 0; i < (unsigned long)n; i++) {
		unsigned long d = 8 + 8 * rng_below(&r, depth_max / 8);

		getppid_on_stack(top - d);
		calls++;
		if (rng_pct(&r, 5))
			sleep_ms(1);
	}
	f = open_in(dir, "done", "w");
	fprintf(f, "calls %ld walks %ld\n", calls, walks);
	fclose(f);
	wait_usr1();
	return 0;
}

static int ri_ms;
static pthread_barrier_t ri_start;

static void *ri_thread(void *arg)
{
	char buf[4096];
	struct rng r;
	uint64_t end;
	int fds[2];

	rng_seed(&r, (long)arg);
	memset(buf, 'r', sizeof(buf));
	if (pipe(fds))
		die("pipe");
	pthread_barrier_wait(&ri_start);
	end = now_ns() + (uint64_t)ri_ms * 1000000;
	while (now_ns() < end) {
		uint64_t spin = now_ns() + rng_below(&r, 3000) * 1000ull;

		while (now_ns() < spin)
			;
		if (write(fds[1], buf, 1 + rng_below(&r, sizeof(buf))) < 0 ||
		    read(fds[0], buf, sizeof(buf)) < 0)
			die("pipe");
		if (rng_pct(&r, 50))
			usleep(rng_below(&r, 2000));
		else
			sched_yield();
	}
	close(fds[0]);
	close(fds[1]);
	pthread_barrier_wait(&ri_start);	/* asleep until everyone is done */
	for (;;)
		pause();
	return NULL;
}

static int ri_work(int threads, int ms)
{
	pthread_t t;
	FILE *f;
	long i;

	ri_ms = ms;
	prctl(PR_SET_NAME, "ri-abuse");
	pthread_barrier_init(&ri_start, NULL, threads + 1);
	workload_ready();
	for (i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, ri_thread, (void *)(i + 1)))
			die("pthread_create");
	wait_usr1();
	pthread_barrier_wait(&ri_start);
	pthread_barrier_wait(&ri_start);
	f = open_in(dir, "done", "w");
	fprintf(f, "threads %d ms %d\n", threads, ms);
	fclose(f);
	wait_usr1();
	return 0;
}

int main(int argc, char **argv)
{
	union diag_any_settings s;
	const struct fn_info *fn;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "child"))
		return 0;	/* kt-work's exec target: exit at once */
	if (argc >= 3 && !strcmp(argv[1], "minbuf")) {
		fn = fn_by_name(argv[2]);
		settings_from_args(fn, &s, argc - 3, argv + 3);
		return minbuf(fn, &s);
	}
	if (argc >= 5 && !strcmp(argv[1], "read")) {
		dir = argv[2];
		fn = fn_by_name(argv[3]);
		/* target=PID is ours, the rest are settings */
		for (i = 5; i < argc; i++)
			if (!strncmp(argv[i], "target=", 7)) {
				target_pid = atoi(argv[i] + 7);
				argv[i] = argv[--argc];
			}
		settings_from_args(fn, &s, argc - 5, argv + 5);
		return read_mode(fn, &s, atoi(argv[4]));
	}
	if (argc == 4 && !strcmp(argv[1], "kt-work")) {
		dir = argv[2];
		return kt_work(atoi(argv[3]));
	}
	if (argc == 7 && !strcmp(argv[1], "kp-work")) {
		dir = argv[2];
		return kp_work(atoi(argv[3]), strtoul(argv[4], NULL, 0), strtoul(argv[5], NULL, 0),
			       atoi(argv[6]));
	}
	if (argc == 5 && !strcmp(argv[1], "ri-work")) {
		dir = argv[2];
		return ri_work(atoi(argv[3]), atoi(argv[4]));
	}
	dief("usage: ring_account minbuf|read|kt-work|kp-work|ri-work ... (see the source)");
	return 2;
}
