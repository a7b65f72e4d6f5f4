// SPDX-License-Identifier: GPL-2.0
/*
 * loadgen: a busy process for the adversarial tests, until SIGTERM.
 *
 *   loadgen NAME [PAIRS]
 *
 * Every thread is named NAME: PAIRS (default 1) pairs of threads bouncing
 * a byte through two pipes (wakeups, switches, migrations), one thread
 * forking children that exec /bin/true (fork, exec, exit), and one thread
 * that spins 5 ms and sleeps 1 ms in turn.  On SIGTERM prints what it did
 * ("loadgen: SECONDS s, N round trips, N forks+execs, N spins") and exits.
 */
#include "abuse.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static atomic_long round_trips, forks, spins;

static void *ping(void *arg)
{
	int *fds = arg;	/* to the partner, from the partner */
	char c = 0;

	for (;;) {
		if (write(fds[0], &c, 1) != 1 || read(fds[1], &c, 1) != 1)
			die("ping");
		atomic_fetch_add(&round_trips, 1);
	}
	return NULL;
}

static void *pong(void *arg)
{
	int *fds = arg;	/* from the partner, to the partner */
	char c;

	for (;;)
		if (read(fds[0], &c, 1) != 1 || write(fds[1], &c, 1) != 1)
			die("pong");
	return NULL;
}

static void *churn(void *arg)
{
	(void)arg;
	for (;;) {
		pid_t pid = fork();

		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		atomic_fetch_add(&forks, 1);
	}
	return NULL;
}

static void *spin(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t end = now_ns() + 5000000;

		while (now_ns() < end)
			;
		atomic_fetch_add(&spins, 1);
		sleep_ms(1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int pairs = argc > 2 ? atoi(argv[2]) : 1, i, sig;
	uint64_t t0 = now_ns();
	pthread_t t;
	sigset_t set;

	if (argc < 2)
		dief("usage: loadgen NAME [PAIRS]");
	prctl(PR_SET_NAME, argv[1]);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < pairs; i++) {
		int a[2], b[2];
		int *to_pong = malloc(2 * sizeof(int)), *to_ping = malloc(2 * sizeof(int));

		if (pipe(a) || pipe(b))
			die("pipe");
		to_ping[0] = a[1];	/* ping writes a, reads b */
		to_ping[1] = b[0];
		to_pong[0] = a[0];	/* pong reads a, writes b */
		to_pong[1] = b[1];
		if (pthread_create(&t, NULL, ping, to_ping) || pthread_create(&t, NULL, pong, to_pong))
			die("pthread_create");
	}
	if (pthread_create(&t, NULL, churn, NULL) || pthread_create(&t, NULL, spin, NULL))
		die("pthread_create");
	sigwait(&set, &sig);
	printf("loadgen: %.1f s, %ld round trips, %ld forks+execs, %ld spins\n", secs_since(t0),
	       atomic_load(&round_trips), atomic_load(&forks), atomic_load(&spins));
	fflush(stdout);
	_exit(0);
}
