# SPDX-License-Identifier: GPL-2.0-or-later
# Test framework for the guest cases: sourced by run-all.sh.
#
# A case file registers its tests with `register_test NAME`; each test is a
# shell function that calls the check helpers below.  A test passes when no
# check failed, it returned 0, and the kernel log gained no warning while
# it ran.  A test that cannot run here calls `skip REASON` and returns: it
# is counted as skipped, never as passed.

REPO=${REPO:-$(pwd)}
DT=${DT:-$REPO/build/diagnose-tools}
PROGS=${PROGS:-$REPO/build/tests}
# the module and the test module built for the kernel the guest runs
# (test.sh builds one tree per kernel of the matrix)
MODULE=${DIAG_MODULE:-$REPO/module/diagnose.ko}
MT_API_KO=${DIAG_MT_API_KO:-$REPO/tests/kmod/mt_api_test.ko}
RING_TEST_KO=$(dirname "$MT_API_KO")/ring_test.ko
WORK=${WORK:-/tmp/diag-tests}
# How long a wait for something that must happen may take before the test
# fails: 1 on the production kernels; test.sh sets more for the sanitizer
# kernel, which runs everything many times slower.  It stretches only the
# deadlines of waits, never what a test measures.
WAIT_SCALE=${DIAG_WAIT_SCALE:-1}
mkdir -p "$WORK"

TESTS=()
PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
CHECK_FAILS=0
SKIP_REASON=""

# What must never appear in the kernel log (../shared/vm-notes.md); one
# list, also read by test.sh for its last look at the whole log.
KERNEL_BAD=$(<"$REPO/tests/kernel-bad.re")

register_test() { TESTS+=("$1"); }

# Tests that change the machine for good (kernel lockdown cannot be undone):
# they run last, after every other check that needs the machine as it was.
FINAL_TESTS=()
register_final_test() { TESTS+=("$1"); FINAL_TESTS+=("$1"); }

is_final_test() {
	local f
	for f in "${FINAL_TESTS[@]+"${FINAL_TESTS[@]}"}"; do
		[[ $f == "$1" ]] && return 0
	done
	return 1
}

# skip REASON: this test cannot run here (then return from the test)
skip() {
	SKIP_REASON=$*
}

# require_bpf_backend FUNCTION: skips the case (and says why) when this
# kernel cannot run FUNCTION on the BPF backend.
require_bpf_backend() {
	# a missing CLI is this run's fault, not the kernel's
	[[ -x $DT ]] || { fail "no diagnose-tools at $DT"; return 1; }
	"$DT" "$1" --backend bpf --settings >/dev/null 2>"$WORK/bpf.err" && return 0
	skip "no BPF backend for $1 here: $(head -1 "$WORK/bpf.err")"
	return 1
}

# reap PID: wait for a child that may not have been started; a bare `wait`
# on an empty variable would wait for every child
reap() {
	[[ -n ${1:-} ]] && wait "$1" 2>/dev/null
	return 0
}

fail() {
	echo "  FAILED: $*"
	CHECK_FAILS=$((CHECK_FAILS + 1))
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	if [[ "$1" == "$2" ]]; then
		echo "  ok: $3 = $1"
	else
		fail "$3: expected '$2', got '$1'"
	fi
}

# bpf_programs_gone REGEX: no loaded BPF program's line in bpftool prog
# show matches the extended REGEX
bpf_programs_gone() { ! bpftool prog show 2>/dev/null | grep -qE "$1"; }

# expect_cmd WHAT EXPECTED_RC CMD... : runs CMD, keeps its output in $OUT/$ERR
expect_rc() {
	local what=$1 want=$2
	shift 2
	OUT=$("$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	if [[ $RC == "$want" ]]; then
		echo "  ok: $what (exit $RC)"
	else
		fail "$what: exit $RC, expected $want; stderr: $ERR"
	fi
}

# expect_grep WHAT PATTERN TEXT
expect_grep() {
	if grep -qE -- "$2" <<<"$3"; then
		echo "  ok: $1"
	else
		fail "$1: /$2/ not in: $3"
	fi
}

# An error must be one line on stderr.
expect_one_line_error() {
	local n
	n=$(printf '%s' "$ERR" | grep -c '')
	if [[ $n == 1 ]]; then
		echo "  ok: $1: one line: $ERR"
	else
		fail "$1: expected one line on stderr, got $n: $ERR"
	fi
}

# tracefs's directory, mounted at /sys/kernel/tracing when it is not
# (a fresh machine may not have it mounted)
tracefs_dir() {
	local t
	for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[[ -e $t/instances ]] && { echo "$t"; return 0; }
	done
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null && echo /sys/kernel/tracing
}

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds
# (status 0) or SECONDS x WAIT_SCALE have passed (status 1); the caller
# says what a timeout means
poll_until() {
	local deadline=$((SECONDS + $1 * WAIT_SCALE))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

# wait_for FILE [SECONDS]
wait_for() {
	poll_until "${2:-60}" test -e "$1" || { fail "timed out waiting for $1"; return 1; }
}

# Thread's se.nr_migrations, the kernel's own count.
nr_migrations() {
	awk '/^se.nr_migrations/ {print $3}' "/proc/$1/task/$2/sched"
}

# Wait until every thread of TGID is asleep: a sleeping task cannot migrate,
# so the kernel's counters are final.
wait_all_asleep() {
	local tgid=$1 deadline=$((SECONDS + 30 * WAIT_SCALE)) t state busy
	while :; do
		busy=0
		for t in /proc/"$tgid"/task/*; do
			state=$(awk '{print $3}' "$t/stat" 2>/dev/null)
			[[ $state == S || $state == D ]] || busy=1
		done
		((busy == 0)) && return 0
		((SECONDS < deadline)) || { fail "threads of $tgid did not go to sleep"; return 1; }
		sleep 0.05
	done
}

# start_migrator DIR MOVES HOGS WAKEUPS [COMM]: sets MIG_TGID, MIG_WORKER, MIG_HOGS
start_migrator() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	"$PROGS/migrator" "$@" >"$dir/log" 2>&1 &
	wait_for "$dir/ready" || return 1
	MIG_TGID=$(awk '$1 == "tgid" {print $2}' "$dir/pids")
	MIG_WORKER=$(awk '$1 == "worker" {print $2}' "$dir/pids")
	MIG_HOGS=$(awk '$1 == "hog" {print $2}' "$dir/pids" | tr '\n' ' ')
	# every thread waits for SIGUSR1 asleep from here: none can migrate
	# until the caller has read the kernel's counters
	wait_all_asleep "$MIG_TGID"
}

# Per-thread se.nr_migrations of a process: "TID COUNT" lines.
migrations_of_process() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "$(basename "$t") $(nr_migrations "$1" "$(basename "$t")")"
	done
}

# A migrate-image report (DIR/report.json) against the kernel's deltas
# (DIR/expected, "TID COUNT") for TID.
expect_thread_count() {
	local dir=$1 tid=$2 want got
	want=$(awk -v t="$tid" '$1 == t {print $2}' "$dir/expected")
	got=$(report_query counts "$dir/report.json" | awk -v t="$tid" '$1 == t {print $2}')
	expect_eq "${got:-0}" "$want" "migrations of thread $tid (report vs se.nr_migrations)"
}

report_query() { python3 "$REPO/tests/guest/report_query.py" "$@"; }

kernel_log_lines() { dmesg | wc -l; }

# kmemleak_check: with our modules unloaded, the objects kmemleak (the debug
# kernel has it) finds that nothing points to any more.  One that one of our
# modules allocated is a leak of ours: prints a FAIL line and returns 1.
# The others are listed but not counted.  An object is "ours" when a frame
# of its allocation backtrace is in diagnose or mt_api_test, or is a bare
# address: a module unloaded since, which in the guest is always one of
# ours (the kernel's own modules, the 9p stack, are never unloaded).
kmemleak_check() {
	local f=/sys/kernel/debug/kmemleak i out
	[[ -e $f ]] || return 0
	# kmemleak reports an object older than 5 s that a scan found
	# unreferenced and that stayed so until the next: scan twice, apart
	for i in 1 2; do
		sleep 6
		if ! echo scan >"$f"; then
			echo "FAIL kmemleak: cannot scan (has it switched itself off? see the kernel log)"
			return 1
		fi
	done
	out=$(awk '
		function flush() {
			if (block == "")
				return
			if (mine) {
				ours++
				o = o block
			} else {
				others++
				x = x block
			}
		}
		/^unreferenced object/ { flush(); block = ""; mine = 0; bt = 0 }
		/^  backtrace/ { bt = 1 }
		bt && (/diagnose|mt_api_test/ || /^ +0x[0-9a-f]+$/) { mine = 1 }
		{ block = block "    " $0 "\n" }
		END {
			flush()
			if (ours)
				printf "FAIL kmemleak: %d unreferenced objects allocated by our modules\n%s", ours, o
			if (others)
				printf "kmemleak: %d unreferenced objects not allocated by our modules (not counted)\n%s", others, x
			if (!ours && !others)
				print "kmemleak: no unreferenced objects"
		}' "$f")
	echo "$out"
	[[ $out != FAIL* ]]
}

# The registered tests that DIAG_TESTS selects, one a line.  test.sh narrows
# them further for one guest: DIAG_KERNEL_TESTS keeps the tests it matches,
# DIAG_KERNEL_SKIP leaves out those it matches (they run in another guest).
selected_tests() {
	local t
	for t in "${TESTS[@]}"; do
		[[ -n ${DIAG_TESTS:-} && ! $t =~ $DIAG_TESTS ]] && continue
		[[ -n ${DIAG_KERNEL_TESTS:-} && ! $t =~ $DIAG_KERNEL_TESTS ]] && continue
		[[ -n ${DIAG_KERNEL_SKIP:-} && $t =~ $DIAG_KERNEL_SKIP ]] && continue
		echo "$t"
	done
}

# run_tests [final]: the selected tests, or with "final" only the final ones
run_tests() {
	local t before bad rc t0
	for t in $(selected_tests); do
		if [[ ${1:-} == final ]]; then
			is_final_test "$t" || continue
		else
			is_final_test "$t" && continue
		fi
		echo "=== $t"
		CHECK_FAILS=0
		SKIP_REASON=""
		before=$(kernel_log_lines)
		t0=$(date +%s%N)
		"$t"
		rc=$?
		# the guest's memory after each case: a case that leaves files in
		# the tmpfs $WORK or memory pinned shrinks what the next ones have
		echo "  wall time: $(( ($(date +%s%N) - t0) / 1000000 )) ms," \
			"MemAvailable $(awk '$1 == "MemAvailable:" {print $2}' /proc/meminfo) kB," \
			"$WORK $(du -sk "$WORK" 2>/dev/null | cut -f1) kB"
		bad=$(dmesg | tail -n +"$((before + 1))" | grep -E "$KERNEL_BAD")
		if [[ -n $bad ]]; then
			fail "kernel log: $bad"
		fi
		if ((rc == 0 && CHECK_FAILS == 0)) && [[ -n $SKIP_REASON ]]; then
			echo "SKIP $t: $SKIP_REASON"
			SKIPPED=$((SKIPPED + 1))
		elif ((rc == 0 && CHECK_FAILS == 0)); then
			echo "PASS $t"
			PASSED=$((PASSED + 1))
		else
			echo "FAIL $t"
			FAILED=$((FAILED + 1))
			FAILED_NAMES+=("$t")
		fi
	done
}
