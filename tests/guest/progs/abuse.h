/* SPDX-License-Identifier: GPL-2.0 */
/*
 * abuse.h: what the adversarial test programs (ioctl_abuse, fn_storm,
 * ring_account, debugfs_abuse, loadgen) share: raw calls into
 * /dev/diagnose, the functions' settings, a small random number
 * generator, errno names and clocks (with prog_util.h).  Header-only: each program is one
 * file plus this.
 */
#ifndef ABUSE_H
#define ABUSE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../../../uapi/diagnose.h"
#include "prog_util.h"

static inline void dief(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline double secs_since(uint64_t t0)
{
	return (now_ns() - t0) / 1e9;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* "EINVAL", or "0" for success; never NULL. */
static inline const char *errno_name(int err)
{
	const char *n;

	if (!err)
		return "0";
	n = strerrorname_np(err);
	return n ? n : "E?";
}

/* xorshift64*: per thread, reproducible from a seed */
struct rng {
	uint64_t s;
};

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!r->s)
		r->s = 1;
}

static inline uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, n) */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

static inline int rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

static inline void rng_fill(struct rng *r, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len--)
		*p++ = (unsigned char)rng_next(r);
}

/* ---- /dev/diagnose ---- */

struct fn_info {
	unsigned int id;
	const char *name;
	unsigned int settings_size;
};

static const struct fn_info diag_fns[] = {
	{ DIAG_FN_MIGRATE_IMAGE, "migrate-image", sizeof(struct diag_migrate_image_settings) },
	{ DIAG_FN_KPROBE, "kprobe", sizeof(struct diag_kprobe_settings) },
	{ DIAG_FN_KEYTIME_IMAGE, "keytime-image", sizeof(struct diag_keytime_image_settings) },
	{ DIAG_FN_RESOURCE_IMAGE, "resource-image", sizeof(struct diag_resource_image_settings) },
};
#define NR_DIAG_FNS (sizeof(diag_fns) / sizeof(diag_fns[0]))

/* The largest settings struct: a buffer that fits any of them. */
union diag_any_settings {
	struct diag_common_settings common;
	struct diag_migrate_image_settings mi;
	struct diag_kprobe_settings kp;
	struct diag_keytime_image_settings kt;
	struct diag_resource_image_settings ri;
};

static inline const struct fn_info *fn_by_id(unsigned int id)
{
	unsigned int i;

	for (i = 0; i < NR_DIAG_FNS; i++)
		if (diag_fns[i].id == id)
			return &diag_fns[i];
	return NULL;
}

static inline const struct fn_info *fn_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_DIAG_FNS; i++)
		if (!strcmp(diag_fns[i].name, name))
			return &diag_fns[i];
	dief("unknown function %s", name);
	return NULL;
}

static inline const char *verb_name(unsigned int verb)
{
	static const char *const names[] = { "activate", "deactivate", "settings", "report" };

	return verb < DIAG_NR_VERBS ? names[verb] : "?";
}

static inline int diag_open(void)
{
	int fd = open("/dev/" DIAG_DEVICE_NAME, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/" DIAG_DEVICE_NAME);
	return fd;
}

/*
 * One function/verb call with a well-formed struct diag_ioc.  Returns 0 or
 * the errno; the module's reason goes to @msg (DIAG_MSG_LEN) if given.
 */
static inline int diag_call(int fd, unsigned int fn, unsigned int verb, void *arg,
			    unsigned int size, char *msg)
{
	struct diag_ioc ioc;
	int ret;

	memset(&ioc, 0, sizeof(ioc));
	ioc.abi_version = DIAG_ABI_VERSION;
	ioc.arg = (unsigned long)arg;
	ioc.arg_size = size;
	ret = ioctl(fd, DIAG_IOC(fn, verb), &ioc) ? errno : 0;
	if (msg)
		memcpy(msg, ioc.msg, DIAG_MSG_LEN);
	return ret;
}

/* One report into @buf; 0 or the errno.  @rep gets the module's answer. */
static inline int diag_report(int fd, unsigned int fn, void *buf, unsigned int len,
			      struct diag_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->buf = (unsigned long)buf;
	rep->buf_len = len;
	return diag_call(fd, fn, DIAG_VERB_REPORT, rep, sizeof(*rep), NULL);
}

/*
 * Fill @s from KEY=VAL words (the CLI's names: pid tgid comm buf-kib verbose
 * probe ustack-kib oncpu stack interval max-tasks cpu).  Unknown keys die.
 */
static inline void settings_from_args(const struct fn_info *fn, union diag_any_settings *s,
				      int argc, char **argv)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *key = argv[i], *val;
		unsigned long v;

		if (!eq)
			dief("expected KEY=VAL, got %s", argv[i]);
		*eq = '\0';
		val = eq + 1;
		v = strtoul(val, NULL, 0);
		if (!strcmp(key, "pid"))
			s->common.pid = (int)v;
		else if (!strcmp(key, "tgid"))
			s->common.tgid = (int)v;
		else if (!strcmp(key, "comm"))
			strncpy(s->common.comm, val, DIAG_COMM_LEN - 1);
		else if (!strcmp(key, "buf-kib"))
			s->common.buf_kib = v;
		else if (!strcmp(key, "verbose"))
			s->common.verbose = v;
		else if (!strcmp(key, "probe") && fn->id == DIAG_FN_KPROBE)
			strncpy(s->kp.probe, val, DIAG_KPROBE_SYM_LEN - 1);
		else if (!strcmp(key, "ustack-kib") && fn->id == DIAG_FN_KPROBE)
			s->kp.ustack_kib = v;
		else if (!strcmp(key, "cpu") && fn->id == DIAG_FN_KPROBE) {
			s->kp.cpus_set = 1;
			s->kp.cpus[v / 64] |= 1ull << (v % 64);
		} else if (!strcmp(key, "oncpu") && fn->id == DIAG_FN_KEYTIME_IMAGE)
			s->kt.oncpu = v;
		else if (!strcmp(key, "stack") && fn->id == DIAG_FN_KEYTIME_IMAGE)
			s->kt.stack = v;
		else if (!strcmp(key, "interval") && fn->id == DIAG_FN_RESOURCE_IMAGE)
			s->ri.interval_ms = v;
		else if (!strcmp(key, "max-tasks") && fn->id == DIAG_FN_RESOURCE_IMAGE)
			s->ri.max_tasks = v;
		else
			dief("%s takes no key %s", fn->name, key);
		*eq = '=';
	}
}

/* Write @val to a sysfs/debugfs/tracefs file; 0 or the errno. */
static inline int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) < 0)
		err = errno;
	close(fd);
	return err;
}

#endif /* ABUSE_H */
