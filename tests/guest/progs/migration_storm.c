// SPDX-License-Identifier: GPL-2.0
/*
 * migration_storm: make many CPU migrations quickly, for the migration
 * trace benchmark and its buffer-full test.
 *
 *   migration_storm THREADS MOVES
 *
 * THREADS threads named "mig-storm" each pin themselves to the next CPU
 * in turn with sched_setaffinity() until MOVES affinity changes were made
 * in all; every change moves a running thread, i.e. one migration.
 * Prints "moves N seconds S" at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static atomic_long left;
static int ncpus;

static void *storm(void *arg)
{
	long i = (long)arg;
	cpu_set_t set;

	prctl(PR_SET_NAME, "mig-storm");
	while (atomic_fetch_sub(&left, 1) > 0) {
		CPU_ZERO(&set);
		CPU_SET(i++ % ncpus, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("sched_setaffinity");
			exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t *tids;
	long threads, moves, i;

	if (argc != 3) {
		fprintf(stderr, "usage: migration_storm THREADS MOVES\n");
		return 2;
	}
	threads = atol(argv[1]);
	moves = atol(argv[2]);
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1 || moves < 1 || ncpus < 2) {
		fprintf(stderr, "migration_storm: need THREADS >= 1, MOVES >= 1 and 2 CPUs\n");
		return 2;
	}
	atomic_store(&left, moves);
	tids = calloc(threads, sizeof(*tids));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, storm, (void *)i)) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("moves %ld seconds %.3f\n", moves,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
