// SPDX-License-Identifier: GPL-2.0
/*
 * cause_work: workloads whose migrations have a cause known in advance,
 * for the migrate-image cause tests (tests/guest/cases/migrate_causes.sh).
 *
 *   cause_work OUTDIR SCENARIO N [EXEC_TARGET]
 *
 * Sets its threads up so that none of them can migrate yet (pinned to one
 * CPU, or asleep), writes OUTDIR/pids ("ROLE TID" lines) and OUTDIR/ready
 * and waits for SIGUSR1.  Then it reads every thread's se.nr_migrations,
 * runs SCENARIO N times, parks every thread (asleep: nothing moves any
 * more), reads the counts again and writes
 *   OUTDIR/nr    "TID ROLE BEFORE AFTER WBEFORE WAFTER" per thread:
 *                se.nr_migrations, and nr_wakeups_migrate (wakeups that
 *                moved it, counted while schedstats are on), at the start
 *                and at the end
 *   OUTDIR/log   what the workload itself saw (one fact a line, below),
 *                and "counted B0 B1 A0 A1": CLOCK_MONOTONIC ns around the
 *                first reads (B0..B1) and the last (A0..A1)
 *   OUTDIR/done
 * and waits for SIGTERM.  Only CPUs 0 and 1 are used; "unpinned" means
 * allowed on both.
 *
 * Scenarios and their log lines:
 *   affinity   a spinning thread pinned to one CPU is moved N times to
 *              the other with sched_setaffinity() from another thread
 *              ("move FROM TO")
 *   exec       N children each pin themselves beside a spinner on CPU 0,
 *              unpin and exec EXEC_TARGET (exec_probe) while CPU 1 is
 *              idle; exec_probe appends "PID CPU_BEFORE CPU_AFTER
 *              NR_BEFORE NR_AFTER" to OUTDIR/exec
 *   wakeup     a thread beside a spinner on CPU 0 sleeps there, N times,
 *              and a SCHED_FIFO thread pinned to CPU 0 wakes it while
 *              CPU 1 is idle: wakeup placement moves it ("trial T cpu
 *              CPU"); before each sleep it pins itself back to CPU 0 and
 *              unpins
 *   balance    N spinners are created while CPU 1 is offline, so fork
 *              placement puts them on CPU 0; then CPU 1 comes back online
 *              and the load balancer spreads them ("hog TID start CPU",
 *              "hog I before_online CPU", "hog I at_end CPU")
 *   active     a nice-19 spinner pinned to CPU 0 and a nice-0 spinner that
 *              is unpinned N times, each time spinning until it is moved
 *              to CPU 1 (it is nearly always the one running, so only
 *              active balancing can move it), then pins itself back
 *              ("trial T cpu CPU waited_ms MS")
 *   rt-push, dl-push
 *              a low-priority spinner L (SCHED_FIFO 60, or SCHED_DEADLINE
 *              with a late deadline), and two high-priority threads pinned
 *              to CPU 0 and 1 (FIFO 80, or DEADLINE with an earlier
 *              deadline) that wake by timer every 6 ms, 3 ms apart; one waking where
 *              L runs preempts it and the scheduler pushes L to the other
 *              CPU, N times ("window START_NS END_NS", "push K from CPU")
 *   rt-pull, dl-pull
 *              the two high-priority threads spin; the one on L's CPU
 *              wakes L (it queues there: no CPU runs anything lower),
 *              then the other sleeps, and its CPU, dropping to a lower
 *              priority, pulls L ("window START_NS END_NS",
 *              "round R from A to B slept 0|1")
 *   numa-move  a thread whose memory is bound to node 1 runs on CPU 0
 *              (node 0); unpinned N times, NUMA balancing moves it to
 *              CPU 1 ("trial T cpu CPU waited_ms MS"); it pins itself back
 *   numa-swap  two threads, each on the node away from its memory, with
 *              both CPUs busy: NUMA balancing swaps them
 *              ("trial T T0 CPU T1 CPU waited_ms MS")
 * SCHED_DEADLINE threads cannot be pinned under admission control (and
 * turning it off, sched_rt_runtime_us = -1, corrupts the kernel's
 * deadline bandwidth sum once deadline tasks come and go: CPU hotplug
 * then fails with EBUSY), so the DL scenarios need exactly two CPUs, and
 * their high threads start on their CPU and stay there because a waking
 * deadline task stays where it preempts.  NUMA scenarios need CPU 0 on
 * node 0 and CPU 1 on node 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "prog_util.h"

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#define MPOL_BIND_ 2
#define MPOL_F_NUMA_BALANCING_ (1 << 13)

#define MS 1000000ULL
#define MAX_TASKS 16

struct sched_attr_ {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static const char *outdir;
static int n_arg;
static const char *exec_target;

static struct {
	char role[16];
	pid_t tid;
	long long before, wbefore;
} tasks[MAX_TASKS];
static atomic_int ntasks;
static pthread_barrier_t setup_done;
static atomic_int go, stop;
static atomic_int nfinished;		/* the scenario's threads that are done */
static unsigned long long deadline_ns;

/* the log, filled from any thread without a lock, written at the end */
static char logbuf[1 << 20];
static atomic_size_t loglen;

static void note(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	size_t n, at;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	at = atomic_fetch_add(&loglen, n);
	if (at + n <= sizeof(logbuf))
		memcpy(logbuf + at, line, n);
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int timed_out(void)
{
	return mono_ns() > deadline_ns;
}

static void sleep_until(unsigned long long ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void sleep_ns(unsigned long long ns)
{
	sleep_until(mono_ns() + ns);
}

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

static long futex(atomic_int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* a scenario thread is done */
static void finish(void)
{
	atomic_fetch_add(&nfinished, 1);
	futex(&nfinished, FUTEX_WAKE_PRIVATE, 1);
}

/*
 * The main thread waits, asleep, for n scenario threads: a main thread
 * that polled would keep waking on the CPU the workloads want idle.
 */
static void wait_finished(int n)
{
	struct timespec second = { 1, 0 };
	int v;

	while ((v = atomic_load(&nfinished)) < n && !timed_out())
		syscall(SYS_futex, &nfinished, FUTEX_WAIT_PRIVATE, v, &second, NULL, 0);
}

static void set_affinity(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		CPU_SET(0, &set);
		CPU_SET(1, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	if (sched_setaffinity(tid, sizeof(set), &set))
		die("sched_setaffinity");
}

static void pin(int cpu)
{
	set_affinity(0, cpu);
}

static void unpin(void)
{
	set_affinity(0, -1);
}

static void set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		die("sched_setscheduler(SCHED_FIFO)");
}

/* runtime per period; the relative deadline is the period */
static void set_deadline(unsigned long long runtime, unsigned long long period)
{
	struct sched_attr_ a = {
		.size = sizeof(a),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = runtime,
		.sched_deadline = period,
		.sched_period = period,
	};

	if (syscall(SYS_sched_setattr, 0, &a, 0))
		die("sched_setattr(SCHED_DEADLINE)");
}

/* Block for good; a sleeping task is never migrated. */
static void park(void)
{
	static atomic_int never;

	for (;;)
		futex(&never, FUTEX_WAIT_PRIVATE, 0);
}

static int register_task(const char *role)
{
	int i = atomic_fetch_add(&ntasks, 1);
	char comm[16];

	if (i >= MAX_TASKS) {
		fprintf(stderr, "too many tasks\n");
		exit(1);
	}
	snprintf(tasks[i].role, sizeof(tasks[i].role), "%s", role);
	tasks[i].tid = gettid_();
	tasks[i].before = -1;
	tasks[i].wbefore = -1;
	snprintf(comm, sizeof(comm), "cw-%s", role);
	prctl(PR_SET_NAME, comm);
	return i;
}

/* a counter of /proc/self/task/TID/sched: "se.nr_migrations", ... */
static long long read_sched(pid_t tid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/sched", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + n;

		if (strncmp(line, name, n) || (*p != ' ' && *p != ':'))
			continue;
		p = strchr(p, ':');
		if (p && sscanf(p + 1, "%lld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static long long read_nr(pid_t tid)
{
	return read_sched(tid, "se.nr_migrations");
}

/* wakeups that moved the task (counted while schedstats are on) */
static long long read_wakeup_moves(pid_t tid)
{
	return read_sched(tid, "nr_wakeups_migrate");
}

static char task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : '?';
}

static void wait_go(void)
{
	while (!atomic_load(&go))
		futex(&go, FUTEX_WAIT_PRIVATE, 0);
}

/* wait, spinning, for go: for threads that must stay on their CPU */
static void spin_go(void)
{
	while (!atomic_load(&go))
		;
}

static pthread_t start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg))
		die("pthread_create");
	return t;
}

/* ---- affinity, and the spinner of exec ---- */

static atomic_int hog_cpu = -1;
static atomic_int hog_tid;

static void *pinned_hog(void *arg)
{
	(void)arg;
	register_task("hog");
	atomic_store(&hog_tid, gettid_());
	pin(0);
	pthread_barrier_wait(&setup_done);
	while (!atomic_load(&stop))
		atomic_store(&hog_cpu, sched_getcpu());
	park();
	return NULL;
}

static void run_affinity(void)
{
	int i;

	for (i = 0; i < n_arg && !timed_out(); i++) {
		int from = atomic_load(&hog_cpu), to = 1 - from;

		set_affinity(atomic_load(&hog_tid), to);
		while (atomic_load(&hog_cpu) != to && !timed_out())
			;
		if (atomic_load(&hog_cpu) != to) {
			note("timeout move %d %d", from, to);
			break;
		}
		note("move %d %d", from, to);
	}
}

static void run_exec(void)
{
	char out[4096];
	int i;

	snprintf(out, sizeof(out), "%s/exec", outdir);
	for (i = 0; i < n_arg && !timed_out(); i++) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char nr[32];

			/* beside the spinner: from here only our own moves */
			pin(0);
			snprintf(nr, sizeof(nr), "%lld", read_nr(getpid()));
			/*
			 * Sleep so that the wakeup (pinned: it cannot move us)
			 * starts a fresh slice, and nothing preempts us between
			 * the unpinning and sched_exec().
			 */
			usleep(2000);
			unpin();
			execl(exec_target, "exec_probe", out, "0", nr, (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid");
		note("child %d status %d", pid, status);
	}
}

/* ---- wakeup ---- */

static atomic_int s_word, s_asleep;

static void *sleeper(void *arg)
{
	int t;

	(void)arg;
	register_task("S");
	pin(0);
	pthread_barrier_wait(&setup_done);
	wait_go();
	for (t = 0; t < n_arg && !timed_out(); t++) {
		int seen;

		/* on CPU 0 beside the spinner (by affinity: the stopper)... */
		pin(0);
		unpin();
		/* ...asleep there, until the waker wakes us */
		seen = atomic_load(&s_word);
		atomic_store(&s_asleep, 1);
		while (atomic_load(&s_word) == seen && !timed_out())
			futex(&s_word, FUTEX_WAIT_PRIVATE, seen);
		note("trial %d cpu %d", t, sched_getcpu());
	}
	atomic_store(&stop, 1);
	finish();
	park();
	return NULL;
}

/*
 * The waker: a SCHED_FIFO thread pinned to CPU 0 that sleeps on a precise
 * (hard) timer and wakes the sleeper when it is asleep.  Its wakeups come
 * between ticks: a sleeper woken by its own timer would, on PREEMPT_RT, be
 * woken from the tick's ktimers thread, just when CPU 1 runs its own tick
 * threads and is not idle.
 */
static void *waker(void *arg)
{
	(void)arg;
	register_task("W");
	pin(0);
	set_fifo(10);
	pthread_barrier_wait(&setup_done);
	wait_go();
	while (!atomic_load(&stop) && !timed_out()) {
		sleep_ns(3 * MS);
		if (!atomic_exchange(&s_asleep, 0))
			continue;
		/* it may not be quite asleep yet: then it does not sleep */
		atomic_fetch_add(&s_word, 1);
		futex(&s_word, FUTEX_WAKE_PRIVATE, 1);
	}
	park();
	return NULL;
}

static void run_wakeup(void)
{
	wait_finished(1);
}

/* ---- balance ---- */

static int set_online(int cpu, int on)
{
	char path[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = fprintf(f, "%d\n", on) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static atomic_int hog_cpus[MAX_TASKS];

static void *free_hog(void *arg)
{
	int i = (int)(intptr_t)arg;
	int t = register_task("hog");

	atomic_store(&hog_cpus[i], sched_getcpu());
	note("hog %d start %d", tasks[t].tid, sched_getcpu());
	while (!atomic_load(&stop))
		atomic_store(&hog_cpus[i], sched_getcpu());
	park();
	return NULL;
}

static void run_balance(void)
{
	int i, k = n_arg > MAX_TASKS - 2 ? MAX_TASKS - 2 : n_arg;

	/*
	 * With CPU 1 offline every new thread starts on CPU 0, placed there
	 * by fork placement with no affinity involved; once CPU 1 is back,
	 * only the load balancer can give it work.
	 */
	if (set_online(1, 0)) {
		note("offline failed");
		return;
	}
	for (i = 0; i < k; i++)
		start_thread(free_hog, (void *)(intptr_t)i);
	usleep(100000);
	for (i = 0; i < k; i++)
		note("hog %d before_online %d", i, atomic_load(&hog_cpus[i]));
	if (set_online(1, 1)) {
		note("online failed");
		return;
	}
	usleep(1000000);
	for (i = 0; i < k; i++)
		note("hog %d at_end %d", i, atomic_load(&hog_cpus[i]));
}

/* ---- active ---- */


static void *nice_hog(void *arg)
{
	(void)arg;
	register_task("nice19");
	pin(0);
	if (setpriority(PRIO_PROCESS, gettid_(), 19))
		die("setpriority");
	pthread_barrier_wait(&setup_done);
	while (!atomic_load(&stop))
		;
	park();
	return NULL;
}

static void *active_hog(void *arg)
{
	int t;

	(void)arg;
	register_task("hog");
	pin(0);
	pthread_barrier_wait(&setup_done);
	spin_go();
	for (t = 0; t < n_arg && !timed_out(); t++) {
		unsigned long long t0 = mono_ns(), t1;
		int cpu;

		unpin();
		while ((cpu = sched_getcpu()) == 0 && mono_ns() - t0 < 5000 * MS)
			;
		t1 = mono_ns();
		note("trial %d cpu %d waited_ms %.1f", t, cpu, (t1 - t0) / 1e6);
		/* back beside the nice-19 spinner, and settle */
		pin(0);
		while (mono_ns() - t1 < 30 * MS)
			;
	}
	finish();
	park();
	return NULL;
}

static void run_active(void)
{
	wait_finished(1);
}

/* ---- rt-push, dl-push, rt-pull, dl-pull ---- */

static int use_dl;
static atomic_int lcpu = -1;		/* where L is, or last ran */
static unsigned long long window_start, go_ns;

static int pull_dance;

/*
 * Deadlines: L's relative deadline (2 s) is far later than the high
 * threads' (100 ms when they wake briefly to push, 1 s when they spin
 * through the pull rounds), so that a high thread always preempts L and
 * never the other way round.  The bandwidths (runtime / period) fit the
 * admission control of two CPUs with the fair servers of 6.12: push
 * 0.5 + 2 * 0.2, pull 0.05 + 2 * 0.8.
 */
static void set_low(void)
{
	if (use_dl && pull_dance)
		set_deadline(100 * MS, 2000 * MS);
	else if (use_dl)
		set_deadline(1000 * MS, 2000 * MS);
	else
		set_fifo(60);
}

/* start on CPU i, and stay there */
static void set_high(int i)
{
	pin(i);
	if (!use_dl) {
		set_fifo(80);
		return;
	}
	/*
	 * A deadline task may not be pinned; it stays on CPU i anyway:
	 * when it wakes, it preempts whatever runs there (L has the later
	 * deadline), and select_task_rq_dl() keeps a task where it
	 * preempts.
	 */
	unpin();
	if (pull_dance)
		set_deadline(800 * MS, 1000 * MS);
	else
		set_deadline(20 * MS, 100 * MS);
}

#define PUSH_PERIOD (6 * MS)

static atomic_int pushes;

static void *push_low(void *arg)
{
	(void)arg;
	register_task("L");
	unpin();
	set_low();
	pthread_barrier_wait(&setup_done);
	wait_go();
	while (!atomic_load(&stop) && !timed_out())
		atomic_store(&lcpu, sched_getcpu());
	park();
	return NULL;
}

static void *push_high(void *arg)
{
	int i = (int)(intptr_t)arg;
	char role[4] = { 'H', '0' + i, 0 };

	register_task(role);
	set_high(i);
	pthread_barrier_wait(&setup_done);
	wait_go();
	for (unsigned long long next = window_start + i * PUSH_PERIOD / 2;
	     atomic_load(&pushes) < n_arg && !timed_out(); next += PUSH_PERIOD) {
		/*
		 * Each on its own beat, half a period apart: when one wakes
		 * and preempts L, the other CPU runs nothing real-time for
		 * L to be pushed to.
		 */
		if (next < mono_ns())
			continue;
		sleep_until(next);
		if (atomic_load(&lcpu) != sched_getcpu())
			continue;
		/*
		 * L ran here until we woke: we preempted it, and in that
		 * same switch the scheduler pushed it to the other CPU,
		 * which runs nothing real-time.  Sleep again at once: the
		 * other CPU's thread must find this one asleep.  L says
		 * again where it runs when it runs.
		 */
		atomic_store(&lcpu, -1);
		note("push %d from %d", atomic_fetch_add(&pushes, 1), i);
	}
	finish();
	park();
	return NULL;
}

static void run_push(void)
{
	wait_finished(2);
	atomic_store(&stop, 1);
	note("window %llu %llu", window_start, mono_ns());
}

static atomic_int round_word, l_asleep, phase, rounds_started;
static atomic_int spinning[2], sleep_req[2];

static void *pull_low(void *arg)
{
	int r = 0;

	(void)arg;
	register_task("L");
	unpin();
	set_low();
	atomic_store(&lcpu, sched_getcpu());
	pthread_barrier_wait(&setup_done);
	for (;;) {
		int seen = atomic_load(&round_word), slept, cpu;

		atomic_store(&l_asleep, 1);
		slept = futex(&round_word, FUTEX_WAIT_PRIVATE, seen) == 0;
		atomic_store(&l_asleep, 0);
		if (atomic_load(&round_word) == seen)
			continue;	/* spurious */
		if (atomic_load(&stop))
			break;
		cpu = sched_getcpu();
		note("round %d from %d to %d slept %d", r++, atomic_load(&lcpu), cpu, slept);
		atomic_store(&lcpu, cpu);
		atomic_store(&phase, 0);
	}
	park();
	return NULL;
}

static void *pull_high(void *arg)
{
	int i = (int)(intptr_t)arg;
	char role[4] = { 'H', '0' + i, 0 };

	register_task(role);
	set_high(i);
	pthread_barrier_wait(&setup_done);
	wait_go();
	atomic_store(&spinning[i], 1);
	while (!atomic_load(&stop)) {
		if (timed_out() || (atomic_load(&rounds_started) >= n_arg &&
				    atomic_load(&phase) == 0)) {
			/* the last round is over: let L go (we cannot rely
			 * on the CFS main thread to run while we spin) */
			if (!atomic_exchange(&stop, 1)) {
				note("window %llu %llu", go_ns, mono_ns());
				atomic_fetch_add(&round_word, 1);
				futex(&round_word, FUTEX_WAKE_PRIVATE, 1);
			}
			break;
		}
		if (atomic_load(&sleep_req[i])) {
			/*
			 * Drop below L: this CPU pulls it.  Sleep until L
			 * has run and gone back to sleep, however long the
			 * host keeps a virtual CPU from running.
			 */
			atomic_store(&sleep_req[i], 0);
			atomic_store(&spinning[i], 0);
			do
				sleep_ns(1 * MS);
			while (!(atomic_load(&phase) == 0 && atomic_load(&l_asleep)) &&
			       !timed_out());
			atomic_store(&spinning[i], 1);
			continue;
		}
		if (atomic_load(&phase) == 0 && atomic_load(&lcpu) == sched_getcpu() &&
		    atomic_load(&spinning[1 - i]) && atomic_load(&l_asleep)) {
			/*
			 * L last ran here: woken, it stays here behind us,
			 * since the other CPU runs a higher priority too.
			 */
			atomic_store(&phase, 1);
			atomic_fetch_add(&rounds_started, 1);
			atomic_fetch_add(&round_word, 1);
			futex(&round_word, FUTEX_WAKE_PRIVATE, 1);
			atomic_store(&sleep_req[1 - i], 1);
		}
	}
	finish();
	park();
	return NULL;
}

static void run_pull(void)
{
	wait_finished(2);
}

/* ---- numa-move, numa-swap ---- */

#define NUMA_BYTES (16UL << 20)

static int numa_swap;
static pthread_barrier_t numa_trial;
static atomic_int numa_arrived;
static atomic_int numa_cpu[2];

static void bind_memory(int node)
{
	unsigned long mask = 1UL << node;

	if (syscall(SYS_set_mempolicy, MPOL_BIND_ | MPOL_F_NUMA_BALANCING_, &mask,
		    sizeof(mask) * 8))
		die("set_mempolicy(MPOL_BIND|MPOL_F_NUMA_BALANCING)");
}

static char *numa_memory(int node)
{
	char *m;
	size_t i;

	bind_memory(node);
	m = mmap(NULL, NUMA_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	for (i = 0; i < NUMA_BYTES; i += 4096)
		m[i] = 1;
	return m;
}

static void touch(char *m)
{
	size_t i;

	for (i = 0; i < NUMA_BYTES; i += 4096)
		m[i]++;
}

static void *numa_thread(void *arg)
{
	int k = (int)(intptr_t)arg;
	int home = k, away = 1 - k;	/* CPU k is on node k */
	int swap = numa_swap;
	char role[4] = { 'T', '0' + k, 0 };
	char *m;
	int t;

	register_task(role);
	/* memory on the node away from the CPU we run on */
	m = numa_memory(away);
	pin(home);
	pthread_barrier_wait(&setup_done);
	while (!atomic_load(&go))
		touch(m);
	for (t = 0; t < n_arg && !timed_out(); t++) {
		unsigned long long t0 = mono_ns();
		int cpu;

		if (swap)
			pthread_barrier_wait(&numa_trial);
		unpin();
		while ((cpu = sched_getcpu()) == home && !timed_out())
			touch(m);
		atomic_store(&numa_cpu[k], cpu);
		if (!swap) {
			note("trial %d cpu %d waited_ms %.1f", t, cpu, (mono_ns() - t0) / 1e6);
		} else {
			/* stay busy until the other one is there too */
			atomic_fetch_add(&numa_arrived, 1);
			while (atomic_load(&numa_arrived) < 2 * (t + 1) && !timed_out())
				touch(m);
			if (k == 0)
				note("trial %d T0 %d T1 %d waited_ms %.1f", t,
				     atomic_load(&numa_cpu[0]), atomic_load(&numa_cpu[1]),
				     (mono_ns() - t0) / 1e6);
		}
		pin(home);
		t0 = mono_ns();
		while (mono_ns() - t0 < 100 * MS)
			touch(m);
	}
	finish();
	park();
	return NULL;
}

static void run_numa(int threads)
{
	wait_finished(threads);
}

/* ---- main ---- */


static void status(const char *what)
{
	FILE *f = open_in(outdir, "status", "a");

	fprintf(f, "%s\n", what);
	fclose(f);
	fclose(open_in(outdir, what, "w"));
}

int main(int argc, char **argv)
{
	const char *sc;
	int setup_threads = 0, i, sig, scenario_ms = 60000;
	unsigned long long read_start, read_end, after_start;
	sigset_t set;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: cause_work OUTDIR SCENARIO N [EXEC_TARGET]\n");
		return 2;
	}
	outdir = argv[1];
	sc = argv[2];
	n_arg = atoi(argv[3]);
	exec_target = argc > 4 ? argv[4] : NULL;
	/* every thread and child inherits it */
	unpin();

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by the threads */

	if (!strcmp(sc, "wakeup")) {
		setup_threads = 3;
	} else if (!strcmp(sc, "affinity") || !strcmp(sc, "exec")) {
		if (!strcmp(sc, "exec") && !exec_target) {
			fprintf(stderr, "exec needs EXEC_TARGET\n");
			return 2;
		}
		setup_threads = 1;
	} else if (!strcmp(sc, "active")) {
		setup_threads = 2;
	} else if (!strcmp(sc, "rt-push") || !strcmp(sc, "dl-push") ||
		   !strcmp(sc, "rt-pull") || !strcmp(sc, "dl-pull")) {
		use_dl = sc[0] == 'd';
		pull_dance = !strcmp(sc + 3, "pull");
		setup_threads = 3;
		scenario_ms = 20000;
	} else if (!strcmp(sc, "numa-move")) {
		setup_threads = 1;
		scenario_ms = 120000;
	} else if (!strcmp(sc, "numa-swap")) {
		setup_threads = 2;
		scenario_ms = 120000;
		numa_swap = 1;
		pthread_barrier_init(&numa_trial, NULL, 2);
	} else if (strcmp(sc, "balance")) {
		fprintf(stderr, "unknown scenario %s\n", sc);
		return 2;
	}

	pthread_barrier_init(&setup_done, NULL, setup_threads + 1);
	if (!strcmp(sc, "affinity") || !strcmp(sc, "exec")) {
		start_thread(pinned_hog, NULL);
	} else if (!strcmp(sc, "wakeup")) {
		start_thread(pinned_hog, NULL);
		start_thread(sleeper, NULL);
		start_thread(waker, NULL);
	} else if (!strcmp(sc, "active")) {
		start_thread(nice_hog, NULL);
		start_thread(active_hog, NULL);
	} else if (!strcmp(sc + 3, "push")) {
		start_thread(push_low, NULL);
		start_thread(push_high, (void *)0);
		start_thread(push_high, (void *)1);
	} else if (!strcmp(sc + 3, "pull")) {
		start_thread(pull_low, NULL);
		start_thread(pull_high, (void *)0);
		start_thread(pull_high, (void *)1);
	} else if (!strcmp(sc, "numa-move")) {
		start_thread(numa_thread, (void *)0);
	} else if (!strcmp(sc, "numa-swap")) {
		start_thread(numa_thread, (void *)0);
		start_thread(numa_thread, (void *)1);
	}
	pthread_barrier_wait(&setup_done);
	/* the spinners must be on their CPU before we say ready */
	if (!strcmp(sc, "affinity") || !strcmp(sc, "exec") || !strcmp(sc, "wakeup"))
		while (atomic_load(&hog_cpu) != 0)
			;
	/* and the threads that wait for go asleep */
	for (i = 0; i < atomic_load(&ntasks); i++)
		if (!strcmp(tasks[i].role, "L") || tasks[i].role[0] == 'H' ||
		    !strcmp(tasks[i].role, "S") || !strcmp(tasks[i].role, "W"))
			while (task_state(tasks[i].tid) != 'S')
				usleep(1000);

	f = open_in(outdir, "pids", "w");
	fprintf(f, "tgid %d\n", getpid());
	for (i = 0; i < atomic_load(&ntasks); i++)
		fprintf(f, "%s %d\n", tasks[i].role, tasks[i].tid);
	fclose(f);
	status("ready");

	if (sigwait(&set, &sig) || sig != SIGUSR1)
		return 0;
	read_start = mono_ns();
	for (i = 0; i < atomic_load(&ntasks); i++) {
		tasks[i].before = read_nr(tasks[i].tid);
		tasks[i].wbefore = read_wakeup_moves(tasks[i].tid);
	}
	read_end = mono_ns();
	deadline_ns = mono_ns() + scenario_ms * MS;
	go_ns = mono_ns();
	window_start = go_ns + 20 * MS;
	atomic_store(&go, 1);
	futex(&go, FUTEX_WAKE_PRIVATE, 1 << 30);

	if (!strcmp(sc, "affinity"))
		run_affinity();
	else if (!strcmp(sc, "wakeup"))
		run_wakeup();
	else if (!strcmp(sc, "exec"))
		run_exec();
	else if (!strcmp(sc, "balance"))
		run_balance();
	else if (!strcmp(sc, "active"))
		run_active();
	else if (!strcmp(sc + 3, "push"))
		run_push();
	else if (!strcmp(sc + 3, "pull"))
		run_pull();
	else
		run_numa(setup_threads);
	if (timed_out())
		note("timeout");

	/* everything parks; once all sleep, the kernel's counts are final */
	atomic_store(&stop, 1);
	for (i = 0; i < atomic_load(&ntasks); i++)
		while (task_state(tasks[i].tid) != 'S')
			usleep(1000);
	f = open_in(outdir, "nr", "w");
	after_start = mono_ns();
	for (i = 0; i < atomic_load(&ntasks); i++)
		fprintf(f, "%d %s %lld %lld %lld %lld\n", tasks[i].tid, tasks[i].role,
			tasks[i].before < 0 ? 0 : tasks[i].before, read_nr(tasks[i].tid),
			tasks[i].wbefore < 0 ? 0 : tasks[i].wbefore,
			read_wakeup_moves(tasks[i].tid));
	fclose(f);
	note("counted %llu %llu %llu %llu", read_start, read_end, after_start, mono_ns());
	f = open_in(outdir, "log", "w");
	fwrite(logbuf, 1, atomic_load(&loglen) < sizeof(logbuf) ? atomic_load(&loglen) : sizeof(logbuf), f);
	fclose(f);
	status("done");

	sigwait(&set, &sig);
	return 0;
}
