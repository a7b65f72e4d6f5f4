// SPDX-License-Identifier: GPL-2.0
/*
 * migrator: a process whose threads migrate in known and in natural ways,
 * for the migrate-image guest tests.
 *
 *   migrator OUTDIR MOVES HOGS WAKEUPS [COMM]
 *
 * Starts a worker thread named COMM (default "mig-worker") and HOGS spinning
 * threads named "mig-hog", all blocked until SIGUSR1.  Writes OUTDIR/pids
 * ("tgid N", "worker N", "hog N" lines) and OUTDIR/ready, then waits.
 *
 * On SIGUSR1 the worker
 *   1. pins itself to CPU i % ncpus for i in 0..MOVES-1 with
 *      sched_setaffinity(), writing each real move "FROM TO" to
 *      OUTDIR/moves and the CLOCK_MONOTONIC bounds of this phase to
 *      OUTDIR/phase ("START_NS END_NS");
 *   2. unpins itself and sleeps 50 us WAKEUPS times while the hogs spin,
 *      so the scheduler moves it on its own.
 * Each hog first moves itself once to the next online CPU with sched_setaffinity()
 * and unpins itself, so every thread of the process migrates at least once
 * whatever the scheduler then does with the spinning hogs.
 * Then every thread blocks (nothing can migrate while asleep), OUTDIR/done
 * is written, and the process waits for SIGTERM.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "prog_util.h"

static const char *outdir;
static int moves, hogs, wakeups;
static const char *worker_comm = "mig-worker";
static pthread_barrier_t named, start;
static pid_t worker_tid, *hog_tids;
static atomic_int worker_done;
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parked_cond = PTHREAD_COND_INITIALIZER;	/* main waits */
static int parked;

/*
 * Block for good; a sleeping task is never migrated.  Only main is woken
 * to count the parked threads: a parked thread is never woken again (a
 * wakeup could migrate it after OUTDIR/done); pause() returns only after
 * a signal handler ran, and this program installs none.
 */
static void park(void)
{
	pthread_mutex_lock(&park_lock);
	parked++;
	pthread_cond_signal(&parked_cond);
	pthread_mutex_unlock(&park_lock);
	for (;;)
		pause();
}

static void *worker(void *arg)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long t0, t1;
	cpu_set_t all;
	FILE *f;
	int i;

	(void)arg;
	prctl(PR_SET_NAME, worker_comm);
	worker_tid = syscall(SYS_gettid);
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&start);

	/* pinned from here on: only our own moves can happen in the window */
	pin_to_cpu(sched_getcpu());
	f = open_in(outdir, "moves", "w");
	t0 = now_ns();
	for (i = 0; i < moves; i++) {
		int from = sched_getcpu(), target = i % ncpus, to;

		pin_to_cpu(target);
		to = sched_getcpu();
		if (to != target) {
			fprintf(stderr, "pinned to %d but running on %d\n", target, to);
			exit(1);
		}
		if (from != to)
			fprintf(f, "%d %d\n", from, to);
		/* stay a moment so the move is not folded into the next */
		for (volatile int spin = 0; spin < 20000; spin++)
			;
	}
	t1 = now_ns();
	fclose(f);
	f = open_in(outdir, "phase", "w");
	fprintf(f, "%llu %llu\n", t0, t1);
	fclose(f);

	CPU_ZERO(&all);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
	for (i = 0; i < wakeups; i++)
		usleep(50);
	atomic_store(&worker_done, 1);
	park();
	return NULL;
}

static void *hog(void *arg)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	unsigned long n = 0;
	cpu_set_t set;
	int i, cpu;

	prctl(PR_SET_NAME, "mig-hog");
	*(pid_t *)arg = syscall(SYS_gettid);
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&start);
	/* the next CPU that is online (hotplug tests take some away) */
	cpu = sched_getcpu();
	for (i = 1; i < ncpus; i++) {
		CPU_ZERO(&set);
		CPU_SET((cpu + i) % ncpus, &set);
		if (!sched_setaffinity(0, sizeof(set), &set))
			break;
	}
	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (!atomic_load(&worker_done)) {
		/* mostly spin, sometimes sleep: both busy and waking threads */
		if (++n % 200000 == 0)
			usleep(100);
	}
	park();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	sigset_t set;
	FILE *f;
	int sig, i;

	if (argc < 5) {
		fprintf(stderr, "usage: migrator OUTDIR MOVES HOGS WAKEUPS [COMM]\n");
		return 2;
	}
	outdir = argv[1];
	moves = atoi(argv[2]);
	hogs = atoi(argv[3]);
	wakeups = atoi(argv[4]);
	if (argc > 5)
		worker_comm = argv[5];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by the threads */

	pthread_barrier_init(&named, NULL, hogs + 2);
	pthread_barrier_init(&start, NULL, hogs + 2);
	hog_tids = calloc(hogs + 1, sizeof(*hog_tids));
	if (pthread_create(&t, NULL, worker, NULL))
		die("pthread_create");
	for (i = 0; i < hogs; i++)
		if (pthread_create(&t, NULL, hog, &hog_tids[i]))
			die("pthread_create");
	pthread_barrier_wait(&named);

	f = open_in(outdir, "pids", "w");
	fprintf(f, "tgid %d\nworker %d\n", getpid(), worker_tid);
	for (i = 0; i < hogs; i++)
		fprintf(f, "hog %d\n", hog_tids[i]);
	fclose(f);
	fclose(open_in(outdir, "ready", "w"));

	if (sigwait(&set, &sig) || sig != SIGUSR1)
		return 0;
	pthread_barrier_wait(&start);

	/* wait until every thread is parked, then say so */
	pthread_mutex_lock(&park_lock);
	while (parked < hogs + 1)
		pthread_cond_wait(&parked_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
	fclose(open_in(outdir, "done", "w"));

	sigwait(&set, &sig);
	return 0;
}
