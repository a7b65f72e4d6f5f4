// SPDX-License-Identifier: GPL-2.0
/*
 * read_lines: read the first LINES lines of FILE with read(2) calls of
 * BUFSIZE bytes (default 1 MiB), and nothing more than the call that
 * completes them; for the trace-reading benchmark, where the reader must
 * cost the same whatever file it reads.
 *
 *   read_lines FILE LINES [BUFSIZE]
 *
 * Prints "lines N bytes B reads R" (B up to the end of line LINES).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long want, lines = 0, reads = 0;
	size_t bufsize = 1 << 20;
	long long bytes = 0;
	char *buf;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: read_lines FILE LINES [BUFSIZE]\n");
		return 2;
	}
	want = atol(argv[2]);
	if (argc > 3)
		bufsize = strtoul(argv[3], NULL, 0);
	buf = malloc(bufsize);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || !buf) {
		perror(argv[1]);
		return 1;
	}
	while (lines < want) {
		ssize_t n = read(fd, buf, bufsize);
		char *p = buf, *end;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("read");
			return 1;
		}
		if (n == 0)
			break;
		reads++;
		end = buf + n;
		while (lines < want && (p = memchr(p, '\n', end - p))) {
			lines++;
			p++;
		}
		bytes += (lines < want ? end : p) - buf;
	}
	printf("lines %ld bytes %lld reads %ld\n", lines, bytes, reads);
	return lines == want ? 0 : 1;
}
