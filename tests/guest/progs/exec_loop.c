// SPDX-License-Identifier: GPL-2.0
/*
 * exec_loop N PROG: fork N children that each exec PROG, one after the
 * other, so that exec balancing (sched_exec) and fork placement happen
 * under the caller's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, n;

	if (argc < 3) {
		fprintf(stderr, "usage: exec_loop N PROG\n");
		return 2;
	}
	n = atoi(argv[1]);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execl(argv[2], argv[2], (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) < 0) {
			perror("exec_loop");
			return 1;
		}
	}
	return 0;
}
