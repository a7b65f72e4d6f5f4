// SPDX-License-Identifier: GPL-2.0
/*
 * fn_storm: the life cycle of a diagnosis function, over and over, and
 * clients racing each other; straight ioctls, so that thousands of cycles
 * take seconds, not the minutes of as many CLI runs.
 *
 *   fn_storm cycles N FN KEY=VAL...
 *       N times: activate FN with the settings (the CLI's names: pid=,
 *       tgid=, comm=, buf-kib=, probe=, oncpu=, stack=, interval=, ...),
 *       report once, deactivate.  Every call must succeed.  Prints the
 *       time per cycle and per verb, and the records and losses reported.
 *   fn_storm race SECONDS FN KEY=VAL...
 *       three processes for SECONDS: one activates and deactivates, one
 *       deactivates and activates, one reports (into buffers of every
 *       size) and reads the settings.  Every answer must be one that
 *       docs/abi.md gives for the race (EBUSY, ENODATA, ENOSPC); prints
 *       the answers per verb.
 *   fn_storm on FN KEY=VAL...    activate FN
 *   fn_storm off FN              report until nothing is left (every
 *       record well-formed), then deactivate; prints the records and losses
 * Exits 0 when every check held.
 */
#include "abuse.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define REPORT_BUF	(4 << 20)

static const struct fn_info *fn;
static union diag_any_settings settings;

/* Records and lost records in a report. */
static void count(const char *buf, unsigned int len, long *records, long *lost)
{
	const struct diag_record_header *h;
	unsigned int pos;

	for (pos = 0; pos + sizeof(*h) <= len; pos += h->size) {
		h = (const void *)(buf + pos);
		if (h->size < sizeof(*h) || h->size % 8)
			dief("report: record of %u bytes at %u", h->size, pos);
		if (h->type == DIAG_REC_LOST)
			*lost += ((const struct diag_lost_record *)h)->count;
		else
			(*records)++;
	}
}

static int cycles(long n)
{
	double t_act = 0, t_rep = 0, t_deact = 0, worst = 0;
	long i, records = 0, lost = 0;
	char *buf = malloc(REPORT_BUF), msg[DIAG_MSG_LEN];
	struct diag_report rep;
	uint64_t t0 = now_ns();
	int fd = diag_open(), err;

	for (i = 0; i < n; i++) {
		uint64_t a = now_ns(), b, c, d;

		err = diag_call(fd, fn->id, DIAG_VERB_ACTIVATE, &settings, fn->settings_size, msg);
		if (err)
			dief("cycle %ld: activate %s: %s: %s", i, fn->name, errno_name(err), msg);
		b = now_ns();
		err = diag_report(fd, fn->id, buf, REPORT_BUF, &rep);
		if (err)
			dief("cycle %ld: report %s: %s", i, fn->name, errno_name(err));
		count(buf, rep.bytes, &records, &lost);
		c = now_ns();
		err = diag_call(fd, fn->id, DIAG_VERB_DEACTIVATE, NULL, 0, msg);
		if (err)
			dief("cycle %ld: deactivate %s: %s: %s", i, fn->name, errno_name(err), msg);
		d = now_ns();
		t_act += (b - a) / 1e6;
		t_rep += (c - b) / 1e6;
		t_deact += (d - c) / 1e6;
		if ((d - a) / 1e6 > worst)
			worst = (d - a) / 1e6;
	}
	printf("cycles %s: %ld in %.2f s: %.2f ms per cycle (activate %.2f, report %.2f, "
	       "deactivate %.2f, slowest cycle %.1f ms); %ld records reported, %ld lost\n",
	       fn->name, n, secs_since(t0), secs_since(t0) * 1e3 / n, t_act / n, t_rep / n,
	       t_deact / n, worst, records, lost);
	return 0;
}

/* ---- race ---- */

struct tally {
	long n[DIAG_NR_VERBS][4];	/* per verb: 0, and the three race errnos */
};

static const int race_errnos[4] = { 0, EBUSY, ENODATA, ENOSPC };

/* Count @err for @verb; die on an answer the race cannot explain. */
static void tally(struct tally *t, unsigned int verb, int err, const char *msg)
{
	int ok, i;

	switch (verb) {
	case DIAG_VERB_ACTIVATE:
		ok = !err || err == EBUSY;
		break;
	case DIAG_VERB_DEACTIVATE:
		ok = !err || err == ENODATA;
		break;
	case DIAG_VERB_SETTINGS:
		ok = !err;
		break;
	default:
		ok = !err || err == ENODATA || err == ENOSPC;
		break;
	}
	if (!ok) {
		printf("FAIL: race: %s %s -> %s: %s\n", fn->name, verb_name(verb), errno_name(err),
		       msg ? msg : "");
		exit(1);
	}
	for (i = 0; i < 4; i++)
		if (race_errnos[i] == err)
			t->n[verb][i]++;
}

static void racer(int role, double seconds, struct tally *out)
{
	static const unsigned int lens[] = { 8, 64, 512, 4096, 65536, REPORT_BUF };
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	char *buf = malloc(REPORT_BUF), msg[DIAG_MSG_LEN];
	union diag_any_settings s;
	struct diag_report rep;
	int fd = diag_open(), err;
	struct rng r;

	rng_seed(&r, role + 1);
	memset(out, 0, sizeof(*out));
	while (now_ns() < end) {
		switch (role) {
		case 0:	/* activate, then deactivate */
		case 1:	/* deactivate, then activate */
			err = diag_call(fd, fn->id, role ? DIAG_VERB_DEACTIVATE : DIAG_VERB_ACTIVATE,
					role ? NULL : &settings, role ? 0 : fn->settings_size, msg);
			tally(out, role ? DIAG_VERB_DEACTIVATE : DIAG_VERB_ACTIVATE, err, msg);
			if (rng_pct(&r, 50))
				usleep(rng_below(&r, 2000));
			err = diag_call(fd, fn->id, role ? DIAG_VERB_ACTIVATE : DIAG_VERB_DEACTIVATE,
					role ? &settings : NULL, role ? fn->settings_size : 0, msg);
			tally(out, role ? DIAG_VERB_ACTIVATE : DIAG_VERB_DEACTIVATE, err, msg);
			break;
		default:	/* report and read the settings */
			err = diag_report(fd, fn->id, buf, lens[rng_below(&r, 6)], &rep);
			tally(out, DIAG_VERB_REPORT, err, NULL);
			err = diag_call(fd, fn->id, DIAG_VERB_SETTINGS, &s, fn->settings_size, msg);
			tally(out, DIAG_VERB_SETTINGS, err, msg);
			break;
		}
	}
}

static int race(double seconds)
{
	struct tally *t = mmap(NULL, 3 * sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int role, status, failed = 0, fd;
	pid_t pids[3];
	unsigned int v, i;

	if (t == MAP_FAILED)
		die("mmap");
	for (role = 0; role < 3; role++) {
		pids[role] = fork();
		if (pids[role] == 0) {
			racer(role, seconds, &t[role]);
			_exit(0);
		}
	}
	for (role = 0; role < 3; role++) {
		waitpid(pids[role], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	/* whoever came last may have left it active */
	fd = diag_open();
	diag_call(fd, fn->id, DIAG_VERB_DEACTIVATE, NULL, 0, NULL);
	for (v = 0; v < DIAG_NR_VERBS; v++) {
		printf("race %s %-10s:", fn->name, verb_name(v));
		for (i = 0; i < 4; i++)
			printf(" %s %ld", errno_name(race_errnos[i]),
			       t[0].n[v][i] + t[1].n[v][i] + t[2].n[v][i]);
		printf("\n");
	}
	return failed;
}

/* Activate FN with the settings. */
static int on(void)
{
	char msg[DIAG_MSG_LEN];
	int err = diag_call(diag_open(), fn->id, DIAG_VERB_ACTIVATE, &settings, fn->settings_size,
			    msg);

	if (err)
		dief("activate %s: %s: %s", fn->name, errno_name(err), msg);
	return 0;
}

/* Drain FN (every record must be well-formed), then deactivate it. */
static int off(void)
{
	char *buf = malloc(REPORT_BUF), msg[DIAG_MSG_LEN];
	long records = 0, lost = 0, reports = 0;
	struct diag_report rep;
	int fd = diag_open(), err;

	do {
		err = diag_report(fd, fn->id, buf, REPORT_BUF, &rep);
		if (err)
			dief("report %s: %s", fn->name, errno_name(err));
		count(buf, rep.bytes, &records, &lost);
	} while (rep.more && ++reports < 1000);
	err = diag_call(fd, fn->id, DIAG_VERB_DEACTIVATE, NULL, 0, msg);
	if (err)
		dief("deactivate %s: %s: %s", fn->name, errno_name(err), msg);
	printf("%s: %ld records, %ld lost since the last report, %llu lost in all\n", fn->name,
	       records, lost, (unsigned long long)rep.lost);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		fn = fn_by_name(argv[2]);
		settings_from_args(fn, &settings, argc - 3, argv + 3);
		return !strcmp(argv[1], "on") ? on() : off();
	}
	if (argc < 4)
		dief("usage: fn_storm cycles N FN KEY=VAL... | race SECONDS FN KEY=VAL... |"
		     " on FN KEY=VAL... | off FN");
	fn = fn_by_name(argv[3]);
	settings_from_args(fn, &settings, argc - 4, argv + 4);
	if (!strcmp(argv[1], "cycles"))
		return cycles(atol(argv[2]));
	if (!strcmp(argv[1], "race"))
		return race(atof(argv[2]));
	dief("unknown mode %s", argv[1]);
	return 2;
}
