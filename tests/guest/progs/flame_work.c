// SPDX-License-Identifier: GPL-2.0
/*
 * flame_work: known call paths for the flame guest tests.
 *
 *   flame_work SECONDS OUTFILE
 *
 * For SECONDS, alternates two paths:
 *   main -> burn_alpha -> burn_beta          (user CPU time)
 *   main -> writer -> do_write -> write(2)   (kernel time under a user stack)
 * and writes "writes N" (the write(2) calls made) to OUTFILE at the end.
 * The writes copy 64 KiB each into a memory file, so that the kernel path
 * holds a good share of the CPU time (writes to /dev/null copy nothing
 * and took under 1% of the samples: a sampling profiler could miss them).
 * Built with frame pointers and without inlining so perf's frame-pointer
 * unwinder sees every one of these functions; do_write issues the syscall
 * itself so that no frame-pointer-less libc wrapper hides its caller.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void burn_beta(void)
{
	for (unsigned long i = 0; i < 200000; i++)
		sink += i * i;
}

__attribute__((noinline)) static void burn_alpha(void)
{
	burn_beta();
}

__attribute__((noinline)) static long do_write(int fd, const void *buf, unsigned long n)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "0"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(n)
		     : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noinline)) static unsigned long writer(int fd)
{
	static char buf[65536];
	unsigned long n = 0;

	lseek(fd, 0, SEEK_SET);
	for (int i = 0; i < 32; i++)
		n += do_write(fd, buf, sizeof(buf)) == sizeof(buf);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: flame_work SECONDS OUTFILE\n");
		return 2;
	}
	double end = now() + atof(argv[1]);
	int fd = memfd_create("flame_work", 0);
	unsigned long writes = 0;

	if (fd < 0) {
		perror("memfd_create");
		return 1;
	}
	while (now() < end) {
		burn_alpha();
		writes += writer(fd);
	}
	FILE *out = fopen(argv[2], "w");

	if (!out) {
		perror(argv[2]);
		return 1;
	}
	fprintf(out, "writes %lu\n", writes);
	fclose(out);
	return 0;
}
