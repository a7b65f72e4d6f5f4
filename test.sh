#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test suite: unit and fuzz tests of the user-space parts, the host
# tests, the BPF backend on this machine's own kernel, then the guest suite in QEMU guests on every kernel of the matrix
# (scripts/guest/kernels.sh: Debian's 6.1, 6.12 and 6.12 PREEMPT_RT, and a
# 6.12 built with KASAN, UBSAN, lockdep and kmemleak, which runs a part of
# it, below), with diagnose.ko and the test module built against each
# kernel's own headers.  Ends with
# "N passed, N failed, N skipped" over all of them; exits non-zero on any
# failure.  A failure names its kernel; a guest that dies or times out
# counts every case it did not get to as failed.
#
#   ./test.sh                      everything
#   ./test.sh --unit               unit and fuzz tests only
#   ./test.sh --kernel 6.12-rt     the guest suite on these kernels only
#                                  (repeat it, or a comma list): no unit,
#                                  fuzz or host tests
#   DIAG_TESTS=regex ./test.sh     only the guest and host cases whose names
#                                  match (a regex that matches none fails)
#
# The sanitizer kernel ("debug") runs the suite 15 to 30 times slower than
# the production kernels (KASAN, lockdep, kmemleak and debug objects, under
# emulation): the whole suite there takes hours.  By default it runs the
# cases of DIAG_DEBUG_TESTS (below: the ring; migrate-image's, kprobe's and
# resource-image's counts and stacks; unloading with kprobes, kretprobes
# and the migration trace active; refused and random ioctls; a life-cycle
# storm of every function at reduced counts), and test.sh says so;
# DIAG_DEBUG_TESTS=. DIAG_GUEST_TIMEOUT=40000 runs all of them (the
# guest's limit is otherwise 4800 s there, 2400 s elsewhere).
set -uo pipefail
cd "$(dirname "$0")"
REPO=$(pwd)
BUILD=${BUILD:-$REPO/build}

usage() {
	sed -n '/^#   \.\/test.sh/,/^#  *match/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

unit=1
host=1
kernels=()
while (($#)); do
	case "$1" in
	--unit) host=0; kernels=(none) ;;
	--kernel)
		[[ -n ${2:-} ]] || usage
		IFS=, read -ra k <<<"$2"
		kernels+=("${k[@]}")
		unit=0
		host=0
		shift
		;;
	-h | --help) usage ;;
	*) echo "test.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
# kernels named with --kernel must run cases; a whole run's may have none
explicit_kernels=$((${#kernels[@]} > 0))
((${#kernels[@]})) || mapfile -t kernels < <(scripts/guest/kernels.sh names)
[[ ${kernels[0]} == none ]] && kernels=()
# each kernel once, in the order given
mapfile -t kernels < <(printf '%s\n' "${kernels[@]}" | awk 'NF && !seen[$0]++')
matrix=" $(scripts/guest/kernels.sh names | tr '\n' ' ')"
for k in "${kernels[@]}"; do
	[[ $matrix == *" $k "* ]] ||
		{ echo "test.sh: unknown kernel '$k' (one of:$matrix)" >&2; exit 2; }
done

# installs what is missing (as root); one line naming the step otherwise
scripts/deps.sh >/dev/null || exit 1

# The sanitizer kernel takes the longest to prepare (a kernel build, about
# 20 minutes on 2 cores, once per machine): on a whole run it starts now,
# beside the builds and the unit and host tests, which leave a CPU idle now
# and then; its turn in the loop below waits for it (debug-kernel.sh holds
# a lock).
mkdir -p "$BUILD/kernels/debug"
if [[ " ${kernels[*]} " == *" debug "* && -z ${DIAG_TESTS:-} && -z ${DIAG_DEBUG_TESTS:-} ]]; then
	# a process group of its own, stopped with test.sh however it ends
	setsid scripts/guest/kernels.sh prepare debug >/dev/null 2>"$BUILD/kernels/debug/early.log" &
	early_debug=$!
	trap 'kill -- -"$early_debug" 2>/dev/null' EXIT
fi

passed=0
failed=0
skipped=0
failures=()

# fail_build WHAT LOG: a build step failed; nothing else can run
fail_build() {
	cat "$2"
	echo "FAIL $1"
	echo "$passed passed, $((failed + 1)) failed, $skipped skipped"
	exit 1
}

mkdir -p "$BUILD"
log=$BUILD/build.log
echo "== build (CLI, test programs)"
# the BPF backend is under test: a build without it fails, not skips -
# unless this machine's kernel has no BTF to build it from, which is said
bpf_build=ON
if [[ ! -r /sys/kernel/btf/vmlinux ]]; then
	bpf_build=AUTO
	echo "this machine's kernel has no BTF (/sys/kernel/btf/vmlinux): the BPF backend is not built and its cases skip"
fi
make -s cli BUILD="$BUILD" CLI_TESTS=ON BPF=$bpf_build >"$log" 2>&1 || fail_build "build of the CLI" "$log"
make -s -C tests/guest/progs OUT="$BUILD/tests" >>"$log" 2>&1 ||
	fail_build "build of the test programs" "$log"

if ((unit)); then
	echo "== unit tests"
	ctest --test-dir "$BUILD/cli" --output-on-failure -j"$(nproc)" >"$BUILD/unit.log" 2>&1
	unit_rc=$?
	grep -E "tests passed|tests failed|\*\*\*Failed|Failed  " "$BUILD/unit.log"
	unit_total=$(sed -nE 's/.* tests? failed out of ([0-9]+).*/\1/p' "$BUILD/unit.log")
	unit_failed=$(sed -nE 's/.*, ([0-9]+) tests? failed out of.*/\1/p' "$BUILD/unit.log")
	unit_total=${unit_total:-0}
	unit_failed=${unit_failed:-1}
	[[ $unit_rc != 0 && $unit_failed == 0 ]] && unit_failed=1
	passed=$((passed + unit_total - unit_failed))
	failed=$((failed + unit_failed))
	((unit_failed)) && failures+=("unit tests")
	# libFuzzer targets with ASan and UBSan, a fixed number of runs each:
	# one test per target; a run that does not finish fails as a whole
	echo "== fuzz (libFuzzer, ASan, UBSan)"
	BUILD=$BUILD tests/fuzz/run.sh >"$BUILD/fuzz.log" 2>&1
	fuzz_rc=$?
	grep -E '^(PASS |FAIL |fuzz: )' "$BUILD/fuzz.log"
	fuzz_pass=$(grep -c '^PASS ' "$BUILD/fuzz.log")
	mapfile -t fuzz_fail < <(sed -nE 's/^FAIL (fuzz_[a-z_]+|fuzz:).*/\1/p' "$BUILD/fuzz.log")
	((fuzz_rc != 0 && ${#fuzz_fail[@]} == 0)) && fuzz_fail=("fuzz:")
	passed=$((passed + fuzz_pass))
	failed=$((failed + ${#fuzz_fail[@]}))
	for f in "${fuzz_fail[@]}"; do failures+=("${f%:} (see $BUILD/fuzz.log)"); done
fi

if ((host)); then
	# host-side tests (no kernel needed): the flame graph in headless Chromium
	echo "== host tests (headless Chromium)"
	BUILD=$BUILD tests/host/run-all.sh >"$BUILD/host.log" 2>&1
	grep -E '^(=== |PASS |FAIL |SKIP |  FAILED)' "$BUILD/host.log"
	summary=$(tail -n 1 "$BUILD/host.log")
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		((BASH_REMATCH[2])) && failures+=("host tests")
	else
		echo "FAIL host tests did not finish; see $BUILD/host.log"
		failed=$((failed + 1))
		failures+=("host tests")
	fi
fi

if ((host)); then
	# the BPF backend on this machine's own kernel, no guest: the cases of
	# tests/guest/cases/bpf_*.sh against its /proc and tracefs (a kernel
	# that cannot run them makes them skip, saying why)
	echo "== BPF backend on this machine's kernel ($(uname -r))"
	DT=$BUILD/diagnose-tools PROGS=$BUILD/tests WORK=$BUILD/bpf-host \
		timeout 900 tests/guest/run-all.sh --host >"$BUILD/bpf-host.log" 2>&1
	grep -E '^(=== |PASS |FAIL |SKIP |  FAILED)' "$BUILD/bpf-host.log" | sed 's/^\(PASS\|FAIL\|SKIP\) /\1 [host] /'
	summary=$(tail -n 1 "$BUILD/bpf-host.log")
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + BASH_REMATCH[3]))
		while read -r name; do
			failures+=("host: $name")
		done < <(sed -n 's/^FAIL \(test_[a-z0-9_]*\)$/\1/p' "$BUILD/bpf-host.log")
	else
		echo "FAIL BPF host tests did not finish; see $BUILD/bpf-host.log"
		failed=$((failed + 1))
		failures+=("BPF host tests")
	fi
fi

# The guest cases DIAG_TESTS selects, listed on the host: a case that the
# guest did not report (it died, or timed out) is counted as failed.
mapfile -t cases < <(tests/guest/run-all.sh --list)
if ((${#kernels[@]})) && ((${#cases[@]} == 0)); then
	echo "FAIL DIAG_TESTS='${DIAG_TESTS:-}' selects no guest case"
	failed=$((failed + 1))
	kernels=()
fi

# the sanitizer kernel's part of the suite, and the counts of its storms
debug_tests=${DIAG_DEBUG_TESTS:-'^test_(ring_every_record_delivered_or_counted|abuse_(refused_report_consumes_nothing|random_ioctls|lifecycle_storm)|mi_(pid_matches_nr_migrations|bad_ioctls_are_refused)|kp_(counts_and_stacks_with_frame_pointers|stacks_without_unexported_calls|rmmod_while_active_under_load)|kt_(refusals|unload_with_calls_in_flight)|ri_thread_exec_keeps_tasks_apart|mt_(kernel_api|rmmod_while_tracing)|lockdown_refuses_kprobes)$'}
debug_env=(DIAG_KERNEL_TESTS="$debug_tests"
	DIAG_ABUSE_CALLS="${DIAG_DEBUG_ABUSE_CALLS:-${DIAG_ABUSE_CALLS:-10000}}"
	DIAG_ABUSE_CYCLES="${DIAG_DEBUG_ABUSE_CYCLES:-${DIAG_ABUSE_CYCLES:-20}}"
	DIAG_WAIT_SCALE=5)
# NUMA balancing needs two nodes; the other cases run on one (two nodes of
# one CPU each change how the scheduler balances and places wakeups)
numa_tests='^test_mc_numa_'
# On PREEMPT_RT the BPF backend's cases whose paths preemption can change
# (attach, counts, the tick and the preempt count, hot functions, full
# buffers, renames and exec, the task table, program teardown); those of
# its CLI, filters and formats run on 6.1 and 6.12 only, for the time CI
# has
rt_bpf_skip='^test_bpf_(kp_(report_clears|lines_point|cpu_filter|comm_filter|bad_input|notrace|exited_process)|mt_(marks|refusals|reset|migrate_stats)|ms_refusals|ri_(sleeper|text_and_follow|refusals))'
# The RT guest runs last and alone, on CI's critical path: its lifecycle
# storm (about 4 min at 1000 cycles a function) runs 300 cycles a function
rt_abuse_cycles=300

# guests_of NAME: the guests that run kernel NAME's cases: the sanitizer
# kernel's part in one; the other kernels' cases in one guest with one NUMA
# node and the NUMA-balancing cases in one with two (NAME-numa)
guests_of() { if [[ $1 == debug ]]; then echo debug; else echo "$1" "$1-numa"; fi; }

# guest_env GUEST: the settings of one guest, one a line
guest_env() {
	case $1 in
	debug) printf '%s\n' "${debug_env[@]}" ;;
	*-numa) echo "DIAG_KERNEL_TESTS=$numa_tests" ;;
	*-rt) printf '%s\n' "DIAG_KERNEL_SKIP=$numa_tests|$rt_bpf_skip" \
		"DIAG_ABUSE_CYCLES=${DIAG_ABUSE_CYCLES:-$rt_abuse_cycles}" ;;
	*) echo "DIAG_KERNEL_SKIP=$numa_tests" ;;
	esac
}

# guest_cases GUEST: the cases one guest runs
guest_cases() {
	local -a e
	mapfile -t e < <(guest_env "$1")
	env "${e[@]}" tests/guest/run-all.sh --list 2>/dev/null
}

# cases_of NAME: the cases kernel NAME runs, over all of its guests
cases_of() {
	local g
	for g in $(guests_of "$1"); do guest_cases "$g"; done
}

kernel_bad=$(<tests/kernel-bad.re)

# build_for_kernel NAME KDIR: diagnose.ko and the test module for one kernel,
# from a copy of the sources (kbuild builds external modules in place)
build_for_kernel() {
	local tree=$BUILD/kernels/$1/tree
	mkdir -p "$tree"
	# sources only: the tree keeps its own objects for incremental builds
	tar -c --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod*' --exclude='Module.symvers' --exclude='modules.order' \
		module uapi tests/kmod | tar -x -C "$tree" &&
		make -s -C "$tree/module" KDIR="$2" &&
		make -s -C "$tree/tests/kmod" KDIR="$2"
}

# Prepare every kernel and build the modules for it, then run the guests:
# single-threaded TCG (run.sh) keeps a guest on one host CPU, and a guest
# waits (timers, reports every 300 ms, sleeps between steps) part of the
# time, so one guest more than there are CPUs runs at once
# (DIAG_GUEST_JOBS), the slowest first.  The cases hold under far more
# load than that: the suite passed on 2 CPUs shared by 3 to 4 guests and
# compilers (load average 6 to 10).
ready=()
declare -A kver_of=()
for k in "${kernels[@]}"; do
	mapfile -t kcases < <(cases_of "$k")
	if ((${#kcases[@]} == 0)); then
		if ((explicit_kernels)); then
			echo "FAIL [$k] none of the selected cases runs on it (DIAG_TESTS, and DIAG_DEBUG_TESTS on debug)"
			failed=$((failed + 1))
			failures+=("$k: no case selected")
		else
			echo "== $k: none of the selected cases runs on it (DIAG_TESTS, and DIAG_DEBUG_TESTS on debug)"
		fi
		continue
	fi
	echo "== prepare $k (kernel, diagnose.ko and test modules)"
	klog=$BUILD/kernels/$k/build.log
	mkdir -p "$BUILD/kernels/$k"
	start=$SECONDS
	# a build that failed early is not tried a second time
	early_rc=0
	if [[ $k == debug && -n ${early_debug:-} ]]; then
		wait "$early_debug" || early_rc=$?
		# reaped: its process group id may be reused from now on
		trap - EXIT
	fi
	if ((early_rc)); then
		kprep() { cat "$BUILD/kernels/debug/early.log" >&2; return 1; }
	else
		kprep() { scripts/guest/kernels.sh prepare "$1"; }
	fi
	if ! kvars=$(kprep "$k" 2>"$klog"); then
		tail -n 30 "$klog"
		echo "FAIL [$k] cannot prepare the kernel; ${#kcases[@]} cases not run"
		failed=$((failed + ${#kcases[@]}))
		failures+=("$k: kernel not prepared, ${#kcases[@]} cases not run")
		continue
	fi
	eval "$kvars"
	if ! build_for_kernel "$k" "$KDIR" >>"$klog" 2>&1; then
		tail -n 30 "$klog"
		echo "FAIL [$k] cannot build the modules against $KVER; ${#kcases[@]} cases not run"
		failed=$((failed + ${#kcases[@]}))
		failures+=("$k: module build, ${#kcases[@]} cases not run")
		continue
	fi
	echo "   $KVER ready in $((SECONDS - start)) s"
	kver_of[$k]=$KVER
	ready+=("$k")
done

# run_guest GUEST: one guest's cases; its exit code in $BUILD/guest-GUEST/run.rc
run_guest() {
	local g=$1 k=${1%-numa} out=$BUILD/guest-$1 rc
	local -a env flags=(--smp 2 --timeout "${DIAG_GUEST_TIMEOUT:-2400}")
	[[ $g == debug ]] && flags=(--smp 2 --timeout "${DIAG_GUEST_TIMEOUT:-4800}")
	mapfile -t env < <(guest_env "$g")
	[[ $g == *-numa ]] && flags+=(--numa)
	mkdir -p "$out"
	rm -f "$out/run.rc" "$out/job.log" "$out/dmesg.txt"
	env "${env[@]}" DIAG_MODULE="$BUILD/kernels/$k/tree/module/diagnose.ko" \
		DIAG_MT_API_KO="$BUILD/kernels/$k/tree/tests/kmod/mt_api_test.ko" \
		scripts/guest/run.sh --kernel "$k" "${flags[@]}" \
		"$out" tests/guest/run-all.sh >"$out/run.log" 2>&1
	rc=$?
	echo "$rc" >"$out/run.rc"
}

# The guests that have cases to run, the slowest first: the sanitizer
# kernel's, then the others' one-node guests, then the short NUMA ones.
jobs_max=${DIAG_GUEST_JOBS:-$(($(nproc) + 1))}
order=()
for pass in debug main numa; do
	for k in "${ready[@]}"; do
		for g in $(guests_of "$k"); do
			case $pass:$g in
			debug:debug | numa:*-numa) ;;
			main:debug | main:*-numa) continue ;;
			main:*) ;;
			*) continue ;;
			esac
			[[ -n $(guest_cases "$g") ]] && order+=("$g")
		done
	done
done
if ((${#order[@]})); then
	echo "== guest tests: ${order[*]} (QEMU, $jobs_max at a time)"
	[[ " ${ready[*]} " == *" debug "* ]] &&
		echo "   debug runs $(guest_cases debug | wc -l) of the ${#cases[@]} cases (DIAG_DEBUG_TESTS), its storms at ${DIAG_DEBUG_ABUSE_CALLS:-10000} random ioctls and ${DIAG_DEBUG_ABUSE_CYCLES:-20} life cycles per function"
fi
guests_start=$SECONDS
for g in "${order[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs_max)); do
		wait -n
	done
	run_guest "$g" &
done
wait
((${#order[@]})) && echo "   guests took $((SECONDS - guests_start)) s"

for k in "${ready[@]}"; do
	echo "== guest tests on $k (${kver_of[$k]})"
	kp=0 kf=0 ks=0
	declare -A reported=()
	for g in $(guests_of "$k"); do
		out=$BUILD/guest-$g
		[[ " ${order[*]} " == *" $g "* ]] || continue
		grep -E '^(=== |PASS |FAIL |SKIP |  FAILED)' "$out/job.log" 2>/dev/null |
			sed -E "s/^(PASS|FAIL|SKIP) /\1 [$g] /"
		while read -r verdict name _; do
			name=${name%:}
			case "$verdict" in
			PASS) kp=$((kp + 1)) ;;
			SKIP) ks=$((ks + 1)) ;;
			FAIL) kf=$((kf + 1)); failures+=("$g: $name") ;;
			esac
			reported[$name]=1
		done < <(grep -E '^(PASS|FAIL|SKIP) ' "$out/job.log" 2>/dev/null)
		guest_rc=$(cat "$out/run.rc" 2>/dev/null || echo "?")
		# run.sh exits 125 when the guest died or timed out
		if [[ $guest_rc != 0 && $guest_rc != 1 ]]; then
			echo "FAIL [$g] the guest did not finish (exit $guest_rc); see $out/console.log"
			tail -n 5 "$out/run.log" 2>/dev/null
			grep -E "$kernel_bad|Kernel panic" "$out/console.log" | head -20
			kf=$((kf + 1))
			failures+=("$g: the guest did not finish (exit $guest_rc)")
		fi
		# the guest scans its log after every case; scan the whole log once more
		if [[ -s $out/dmesg.txt ]] && grep -qE "$kernel_bad" "$out/dmesg.txt"; then
			echo "FAIL [$g] guest kernel log has warnings:"
			grep -E -A5 "$kernel_bad" "$out/dmesg.txt" | head -40
			kf=$((kf + 1))
			failures+=("$g: kernel log")
		fi
	done
	missing=0
	while read -r c; do
		[[ -n ${reported[$c]:-} ]] && continue
		missing=$((missing + 1))
	done < <(cases_of "$k")
	unset reported
	if ((missing)); then
		echo "FAIL [$k] $missing cases did not run"
		kf=$((kf + missing))
		failures+=("$k: $missing cases not run")
	fi
	echo "kernel $k (${kver_of[$k]}): $kp passed, $kf failed, $ks skipped"
	passed=$((passed + kp))
	failed=$((failed + kf))
	skipped=$((skipped + ks))
done

((${#failures[@]})) && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
