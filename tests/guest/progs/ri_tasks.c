// SPDX-License-Identifier: GPL-2.0
/*
 * ri_tasks: tasks that come, go, change name and change pid, for the
 * resource-image cases that check a task's samples never mix with another
 * task's.  Every mode writes DIR/ready, waits for SIGUSR1, does its work,
 * writes DIR/done (empty files: no write(), so the marker adds no I/O),
 * waits for SIGUSR1 again and exits 0.
 *
 *   ri_tasks DIR churn N PAR ROUNDS
 *       N children, PAR alive at a time.  Each does ROUNDS times: read
 *       64 KiB from /dev/zero, write 32 KiB to /dev/null, sleep 12 ms;
 *       then the odd ones rename themselves (prctl PR_SET_NAME "ri_gone")
 *       and sleep 12 ms more under the new name.  All exit with _exit().
 *       DIR/children: "PID FORK_NS REAP_NS RENAMED" a child, FORK_NS
 *       read (CLOCK_MONOTONIC) before fork(), REAP_NS after waitpid().
 *   ri_tasks DIR exec-thread
 *       The main thread writes 20 MiB to /dev/null before ready; then
 *       writes 3 MiB, starts a thread and sleeps; the thread writes 1 MiB
 *       and execs this program ("after" mode), which takes over the main
 *       thread's pid (de_thread) and writes 2 MiB more.
 *   ri_tasks DIR rename-threads K
 *       K threads each write 64 KiB to /dev/null and sleep; the main
 *       thread renames them ("ri_renamed", through
 *       /proc/self/task/TID/comm, so not by themselves) and writes
 *       DIR/renamed; on the next SIGUSR1, K new threads write 64 KiB each
 *       and wait until all K are alive before exiting; then DIR/done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "prog_util.h"

static const char *dir;

static void nap_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000l };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* an empty marker file: open() only, so it adds nothing to wchar */
static void mark(const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
}

static void block_usr1(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			die("write");
		buf += n;
		len -= n;
	}
}

/* KIB KiB to /dev/null: exactly that much wchar */
static void write_null(size_t kib)
{
	static char buf[64 * 1024];
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		die("/dev/null");
	while (kib) {
		size_t n = kib < 64 ? kib : 64;

		write_all(fd, buf, n * 1024);
		kib -= n;
	}
	close(fd);
}

/* ---- churn ---- */

static void churn_child(int rounds, int rename)
{
	static char buf[64 * 1024];
	int zero = open("/dev/zero", O_RDONLY);
	int null = open("/dev/null", O_WRONLY);
	int r;

	if (zero < 0 || null < 0)
		_exit(1);
	for (r = 0; r < rounds; r++) {
		size_t got = 0;

		while (got < sizeof(buf)) {
			ssize_t n = read(zero, buf + got, sizeof(buf) - got);

			if (n <= 0)
				_exit(1);
			got += n;
		}
		write_all(null, buf, 32 * 1024);
		nap_ms(12);
	}
	if (rename) {
		prctl(PR_SET_NAME, "ri_gone", 0, 0, 0);
		nap_ms(12);
	}
	_exit(0);
}

struct child {
	pid_t pid;
	uint64_t fork_ns, reap_ns;
	int renamed;
};

static int churn(int n, int par, int rounds)
{
	struct child *c = calloc(n, sizeof(*c));
	int started = 0, alive = 0, i, status;
	char path[PATH_MAX];
	pid_t pid;
	FILE *f;

	if (!c)
		die("calloc");
	while (started < n || alive) {
		if (started < n && alive < par) {
			c[started].fork_ns = now_ns();
			c[started].renamed = started % 2;
			c[started].pid = fork();
			if (c[started].pid < 0)
				die("fork");
			if (!c[started].pid)
				churn_child(rounds, started % 2);
			started++;
			alive++;
			continue;
		}
		pid = wait(&status);
		if (pid < 0)
			die("wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "child %d failed\n", pid);
			return 1;
		}
		for (i = 0; i < started; i++)
			if (c[i].pid == pid && !c[i].reap_ns)
				c[i].reap_ns = now_ns();
		alive--;
	}
	snprintf(path, sizeof(path), "%s/children", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	for (i = 0; i < n; i++)
		fprintf(f, "%d %llu %llu %d\n", c[i].pid,
			(unsigned long long)c[i].fork_ns,
			(unsigned long long)c[i].reap_ns, c[i].renamed);
	fclose(f);
	return 0;
}

/* ---- exec-thread ---- */

static char self_path[PATH_MAX];

static void *exec_thread_main(void *arg)
{
	char *argv[] = { self_path, (char *)dir, "after", NULL };

	(void)arg;
	write_null(1024);
	execv(self_path, argv);
	die("execv");
	return NULL;
}

static void __attribute__((noreturn)) exec_thread(void)
{
	pthread_t t;
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (n <= 0)
		die("readlink /proc/self/exe");
	self_path[n] = '\0';
	write_null(20 * 1024);
	mark("ready");
	wait_usr1();
	write_null(3 * 1024);
	if (pthread_create(&t, NULL, exec_thread_main, NULL))
		die("pthread_create");
	/* the exec kills this thread; it never returns from here */
	for (;;)
		pause();
}

/* the image the thread exec'd: the old main thread's pid, the thread's task */
static int after_exec(void)
{
	write_null(2 * 1024);
	mark("done");
	wait_usr1();
	return 0;
}

/* ---- rename-threads ---- */

static pthread_barrier_t barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int release_sleepers;

static void *sleeper_main(void *arg)
{
	pid_t *tid = arg;

	*tid = (pid_t)syscall(SYS_gettid);
	write_null(64);
	pthread_barrier_wait(&barrier);
	pthread_mutex_lock(&lock);
	while (!release_sleepers)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *worker_main(void *arg)
{
	(void)arg;
	write_null(64);
	/* all alive at once: each needs its own slot */
	pthread_barrier_wait(&barrier);
	return NULL;
}

static int rename_threads(int k)
{
	pthread_t *t = calloc(2 * k, sizeof(*t));
	pid_t *tid = calloc(k, sizeof(*tid));
	char path[PATH_MAX];
	int i, fd;

	if (!t || !tid)
		die("calloc");
	pthread_barrier_init(&barrier, NULL, k + 1);
	for (i = 0; i < k; i++)
		if (pthread_create(&t[i], NULL, sleeper_main, &tid[i]))
			die("pthread_create");
	pthread_barrier_wait(&barrier);
	nap_ms(50);	/* each is asleep in pthread_cond_wait */
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid[i]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			die(path);
		write_all(fd, "ri_renamed", 10);
		close(fd);
	}
	mark("renamed");
	wait_usr1();
	pthread_barrier_destroy(&barrier);
	pthread_barrier_init(&barrier, NULL, k);
	for (i = 0; i < k; i++)
		if (pthread_create(&t[k + i], NULL, worker_main, NULL))
			die("pthread_create");
	for (i = 0; i < k; i++)
		pthread_join(t[k + i], NULL);
	pthread_mutex_lock(&lock);
	release_sleepers = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < k; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: ri_tasks DIR churn|exec-thread|rename-threads ...\n");
		return 2;
	}
	dir = argv[1];
	mode = argv[2];
	block_usr1();
	if (!strcmp(mode, "after"))
		return after_exec();
	if (!strcmp(mode, "exec-thread"))
		exec_thread();
	mark("ready");
	wait_usr1();
	if (!strcmp(mode, "churn") && argc == 6)
		ret = churn(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	else if (!strcmp(mode, "rename-threads") && argc == 4)
		ret = rename_threads(atoi(argv[3]));
	else {
		fprintf(stderr, "ri_tasks: bad arguments\n");
		return 2;
	}
	if (ret)
		return ret;
	mark("done");
	wait_usr1();
	return 0;
}
