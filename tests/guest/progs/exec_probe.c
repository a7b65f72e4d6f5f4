// SPDX-License-Identifier: GPL-2.0
/*
 * exec_probe OUT CPU_BEFORE NR_BEFORE: the image cause_work's exec children
 * exec.  Appends "PID CPU_BEFORE CPU_AFTER NR_BEFORE NR_AFTER" to OUT: the
 * CPU and se.nr_migrations before the execve() (from the arguments) and
 * right after it.  Linked statically and run from a tmpfs, so that nothing
 * between the exec and these readings sleeps (no dynamic loader reading
 * libraries over 9p) and no wakeup can move the task in between.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int cpu = sched_getcpu(), fd, n;
	long long nr = -1;
	char line[256];
	FILE *f;

	if (argc < 4)
		return 2;
	f = fopen("/proc/self/sched", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "se.nr_migrations : %lld", &nr) == 1)
				break;
		fclose(f);
	}
	n = snprintf(line, sizeof(line), "%d %s %d %s %lld\n", getpid(), argv[2], cpu,
		     argv[3], nr);
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write(fd, line, n) != n)
		return 1;
	return 0;
}
