// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: a process that goes through every life event keytime-image
 * reports, a known number of times, when told to.
 *
 *   lifecycle DIR NFORK NVFORK NTHREAD [VFORK_SPIN_MS | hold]
 *
 * Writes DIR/pids ("tgid N") and DIR/ready, then waits for SIGUSR1.  Then:
 *   NFORK    fork()s; child i exits with code 10 + i;
 *   NVFORK   vfork()s; each child spins VFORK_SPIN_MS (default 30) on the
 *            CPU, so the parent's wait is visible, then execs /bin/true;
 *            with "hold" instead, each child sleeps until DIR/release
 *            exists, so the parent waits in vfork for as long as the
 *            caller needs;
 *   NTHREAD  threads, one after the other; each sleeps 2 ms and exits;
 *   1        clone(CLONE_VM | SIGCHLD) child that returns 5;
 *   1        failed exec of /nonexistent/diag-lifecycle (ENOENT).
 * It writes DIR/tids (its own tid and every thread's, one a line) and
 * DIR/children (child pids), then execs itself as "stage2": the new image
 * writes DIR/stage2 and waits for SIGUSR1 again, then exits with code 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "prog_util.h"

static const char *dir;
static pid_t thread_tids[4096];
static int spin_ms = 30;
static char release_path[4096];	/* set with "hold" */

static void put(const char *name, const char *fmt, long v)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "a");
	if (!f) {
		perror(path);
		exit(1);
	}
	if (fmt)
		fprintf(f, fmt, v);
	fclose(f);
}

static void reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static void *thread_main(void *arg)
{
	struct timespec ts = { 0, 2000000 };

	*(pid_t *)arg = (pid_t)syscall(SYS_gettid);
	nanosleep(&ts, NULL);
	return NULL;
}

static int clone_child(void *arg)
{
	(void)arg;
	return 5;
}

/* Runs on the parent's stack until the exec: touch nothing of main's. */
static __attribute__((noinline, noreturn)) void vfork_child(void)
{
	struct timespec ts = { 0, 10000000 };
	uint64_t end = now_ns() + spin_ms * 1000000ull;

	if (release_path[0]) {
		while (access(release_path, F_OK))
			nanosleep(&ts, NULL);
	} else {
		while (now_ns() < end)
			;
	}
	execl("/bin/true", "true", (char *)NULL);
	_exit(127);
}

int main(int argc, char **argv)
{
	int nfork, nvfork, nthread, i;
	static char clone_stack[64 * 1024];
	sigset_t set;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[2], "stage2")) {
		dir = argv[1];
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		put("stage2", "%ld\n", getpid());
		wait_usr1();
		exit(3);
	}
	if (argc < 5) {
		fprintf(stderr, "usage: lifecycle DIR NFORK NVFORK NTHREAD [VFORK_SPIN_MS | hold]\n");
		return 2;
	}
	dir = argv[1];
	nfork = atoi(argv[2]);
	nvfork = atoi(argv[3]);
	nthread = atoi(argv[4]);
	if (argc > 5 && !strcmp(argv[5], "hold"))
		snprintf(release_path, sizeof(release_path), "%s/release", dir);
	else if (argc > 5)
		spin_ms = atoi(argv[5]);
	if (nthread > 4096)
		nthread = 4096;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	put("pids", "tgid %ld\n", getpid());
	put("ready", NULL, 0);
	wait_usr1();

	for (i = 0; i < nfork; i++) {
		pid = fork();
		if (pid == 0)
			_exit(10 + i);
		put("children", "%ld\n", pid);
		reap(pid);
	}
	for (i = 0; i < nvfork; i++) {
		pid = vfork();
		if (pid == 0)
			vfork_child();
		put("children", "%ld\n", pid);
		reap(pid);
	}
	for (i = 0; i < nthread; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_main, &thread_tids[i])) {
			perror("pthread_create");
			return 1;
		}
		pthread_join(t, NULL);
	}
	pid = clone(clone_child, clone_stack + sizeof(clone_stack),
		    CLONE_VM | SIGCHLD, NULL);
	if (pid < 0) {
		perror("clone");
		return 1;
	}
	put("children", "%ld\n", pid);
	reap(pid);
	{
		char *nargv[] = { "diag-nope", "--flag", "two words", NULL };

		execv("/nonexistent/diag-lifecycle", nargv);
	}

	put("tids", "%ld\n", (long)syscall(SYS_gettid));
	for (i = 0; i < nthread; i++)
		put("tids", "%ld\n", thread_tids[i]);
	{
		char *nargv[] = { "lifecycle", (char *)dir, "stage2", NULL };

		execv("/proc/self/exe", nargv);
	}
	perror("exec stage2");
	return 1;
}
