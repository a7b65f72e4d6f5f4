#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test suite: unit tests of the user-space parts, the host tests, then
# the whole guest suite in a QEMU guest on every kernel of the matrix
# (scripts/guest/kernels.sh: Debian's 6.1, 6.12 and 6.12 PREEMPT_RT, and a
# 6.12 built with KASAN, UBSAN, lockdep and kmemleak), with diagnose.ko and
# the test module built against each kernel's own headers.  Ends with
# "N passed, N failed, N skipped" over all of them; exits non-zero on any
# failure.  A failure names its kernel; a guest that dies or times out
# counts every case it did not get to as failed.
#
#   ./test.sh                      everything
#   ./test.sh --unit               unit tests only
#   ./test.sh --kernel 6.12-rt     the guest suite on these kernels only
#                                  (repeat it, or a comma list), no host tests
#   DIAG_TESTS=regex ./test.sh     only the guest and host cases whose names
#                                  match (a regex that matches none fails)
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
		host=0
		shift
		;;
	-h | --help) usage ;;
	*) echo "test.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
((${#kernels[@]})) || mapfile -t kernels < <(scripts/guest/kernels.sh names)
[[ ${kernels[0]} == none ]] && kernels=()
matrix=" $(scripts/guest/kernels.sh names | tr '\n' ' ')"
for k in "${kernels[@]}"; do
	[[ $matrix == *" $k "* ]] ||
		{ echo "test.sh: unknown kernel '$k' (one of:$matrix)" >&2; exit 2; }
done

# installs what is missing (as root); one line naming the step otherwise
scripts/deps.sh >/dev/null || exit 1

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
make -s cli BUILD="$BUILD" CLI_TESTS=ON >"$log" 2>&1 || fail_build "build of the CLI" "$log"
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

# The guest cases DIAG_TESTS selects, listed on the host: a case that the
# guest did not report (it died, or timed out) is counted as failed.
mapfile -t cases < <(tests/guest/run-all.sh --list)
if ((${#kernels[@]})) && ((${#cases[@]} == 0)); then
	echo "FAIL DIAG_TESTS='${DIAG_TESTS:-}' selects no guest case"
	failed=$((failed + 1))
	kernels=()
fi

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
# single-threaded TCG (run.sh) keeps a guest on one host CPU, so as many
# guests as CPUs run at once (DIAG_GUEST_JOBS), the slowest kernel first.
ready=()
declare -A kver_of=()
for k in "${kernels[@]}"; do
	echo "== prepare $k (kernel, diagnose.ko and test modules)"
	klog=$BUILD/kernels/$k/build.log
	mkdir -p "$BUILD/kernels/$k"
	start=$SECONDS
	if ! kvars=$(scripts/guest/kernels.sh prepare "$k" 2>"$klog"); then
		tail -n 30 "$klog"
		echo "FAIL [$k] cannot prepare the kernel; ${#cases[@]} cases not run"
		failed=$((failed + ${#cases[@]}))
		failures+=("$k: kernel not prepared, ${#cases[@]} cases not run")
		continue
	fi
	eval "$kvars"
	if ! build_for_kernel "$k" "$KDIR" >>"$klog" 2>&1; then
		tail -n 30 "$klog"
		echo "FAIL [$k] cannot build the modules against $KVER; ${#cases[@]} cases not run"
		failed=$((failed + ${#cases[@]}))
		failures+=("$k: module build, ${#cases[@]} cases not run")
		continue
	fi
	echo "   $KVER ready in $((SECONDS - start)) s"
	kver_of[$k]=$KVER
	ready+=("$k")
done

# run_guest NAME: the whole guest suite on one kernel; its exit code in
# $BUILD/guest-NAME/run.rc
run_guest() {
	local k=$1 out=$BUILD/guest-$1 timeout=2400 rc
	[[ $k == debug ]] && timeout=4800
	mkdir -p "$out"
	rm -f "$out/run.rc"
	DIAG_MODULE=$BUILD/kernels/$k/tree/module/diagnose.ko \
		DIAG_MT_API_KO=$BUILD/kernels/$k/tree/tests/kmod/mt_api_test.ko \
		scripts/guest/run.sh --kernel "$k" --smp 2 --timeout "$timeout" \
		"$out" tests/guest/run-all.sh >"$out/run.log" 2>&1
	rc=$?
	echo "$rc" >"$out/run.rc"
}

jobs_max=${DIAG_GUEST_JOBS:-$(nproc)}
order=()
for k in "${ready[@]}"; do [[ $k == debug ]] && order+=("$k"); done
for k in "${ready[@]}"; do [[ $k != debug ]] && order+=("$k"); done
if ((${#order[@]})); then
	echo "== guest tests on ${order[*]} (QEMU, $jobs_max at a time)"
fi
guests_start=$SECONDS
for k in "${order[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs_max)); do
		wait -n
	done
	run_guest "$k" &
done
wait
((${#order[@]})) && echo "   guests took $((SECONDS - guests_start)) s"

for k in "${order[@]}"; do
	out=$BUILD/guest-$k
	guest_rc=$(cat "$out/run.rc" 2>/dev/null || echo "?")
	echo "== guest tests on $k (${kver_of[$k]})"
	grep -E '^(=== |PASS |FAIL |SKIP |  FAILED)' "$out/job.log" 2>/dev/null |
		sed -E "s/^(PASS|FAIL|SKIP) /\1 [$k] /"
	kp=0 kf=0 ks=0
	declare -A reported=()
	while read -r verdict name _; do
		name=${name%:}
		case "$verdict" in
		PASS) kp=$((kp + 1)) ;;
		SKIP) ks=$((ks + 1)) ;;
		FAIL) kf=$((kf + 1)); failures+=("$k: $name") ;;
		esac
		reported[$name]=1
	done < <(grep -E '^(PASS|FAIL|SKIP) ' "$out/job.log" 2>/dev/null)
	missing=0
	for c in "${cases[@]}"; do
		[[ -n ${reported[$c]:-} ]] && continue
		missing=$((missing + 1))
	done
	unset reported
	if ((missing)); then
		echo "FAIL [$k] $missing cases did not run: the guest did not finish (exit $guest_rc); see $out/console.log"
		cat "$out/run.log" 2>/dev/null | tail -n 5
		grep -E "$kernel_bad|Kernel panic" "$out/console.log" | head -20
		kf=$((kf + missing))
		failures+=("$k: $missing cases not run")
	fi
	# the guest scans its log after every case; scan the whole log once more
	if [[ -s $out/dmesg.txt ]] && grep -qE "$kernel_bad" "$out/dmesg.txt"; then
		echo "FAIL [$k] guest kernel log has warnings:"
		grep -E -A5 "$kernel_bad" "$out/dmesg.txt" | head -40
		kf=$((kf + 1))
		failures+=("$k: kernel log")
	fi
	echo "kernel $k (${kver_of[$k]}): $kp passed, $kf failed, $ks skipped"
	passed=$((passed + kp))
	failed=$((failed + kf))
	skipped=$((skipped + ks))
done

((${#failures[@]})) && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
