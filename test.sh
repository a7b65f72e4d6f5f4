#!/usr/bin/env bash
# The test suite: unit tests of the user-space parts, then every guest case
# in one QEMU guest booted from the Debian kernel whose headers the module
# is built against.  Ends with "N passed, N failed"; exits non-zero on any
# failure.
#
#   ./test.sh              everything
#   ./test.sh --unit       unit tests only
#   DIAG_TESTS=regex ./test.sh   only the guest and host cases whose names match
set -uo pipefail
cd "$(dirname "$0")"
REPO=$(pwd)
BUILD=${BUILD:-$REPO/build}

unit_only=0
[[ ${1:-} == --unit ]] && unit_only=1

# installs what is missing (as root); one line naming the step otherwise
scripts/deps.sh >/dev/null || exit 1

KVER=$(scripts/guest/guest-kernel.sh) || exit 1
mkdir -p "$BUILD"
log=$BUILD/build.log
echo "== build (module for the guest kernel $KVER, CLI, test programs)"
make -s cli BUILD="$BUILD" >"$log" 2>&1 || { cat "$log"; echo "0 passed, 1 failed"; exit 1; }
make -s module KDIR="/lib/modules/$KVER/build" >>"$log" 2>&1 ||
	{ cat "$log"; echo "0 passed, 1 failed"; exit 1; }
make -s -C tests/kmod KDIR="/lib/modules/$KVER/build" >>"$log" 2>&1 ||
	{ cat "$log"; echo "0 passed, 1 failed"; exit 1; }
make -s -C tests/guest/progs OUT="$BUILD/tests" >>"$log" 2>&1 ||
	{ cat "$log"; echo "0 passed, 1 failed"; exit 1; }

echo "== unit tests"
ctest --test-dir "$BUILD/cli" --output-on-failure -j"$(nproc)" >"$BUILD/unit.log" 2>&1
unit_rc=$?
grep -E "tests passed|tests failed|\*\*\*Failed|Failed  " "$BUILD/unit.log"
unit_total=$(sed -nE 's/.* tests? failed out of ([0-9]+).*/\1/p' "$BUILD/unit.log")
unit_failed=$(sed -nE 's/.*, ([0-9]+) tests? failed out of.*/\1/p' "$BUILD/unit.log")
unit_total=${unit_total:-0}
unit_failed=${unit_failed:-1}
[[ $unit_rc != 0 && $unit_failed == 0 ]] && unit_failed=1
passed=$((unit_total - unit_failed))
failed=$unit_failed

# add_summary LOG MESSAGE: adds LOG's closing "N passed, N failed" line to
# the totals, or prints MESSAGE and counts a failure when there is none
add_summary() {
	local summary
	summary=$(tail -n 1 "$1" 2>/dev/null)
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "$2"
		failed=$((failed + 1))
	fi
}

if ((unit_only == 0)); then
	# host-side tests (no kernel needed): the flame graph in headless Chromium
	echo "== host tests (headless Chromium)"
	BUILD=$BUILD tests/host/run-all.sh >"$BUILD/host.log" 2>&1
	grep -E '^(=== |PASS |FAIL |  FAILED)' "$BUILD/host.log"
	add_summary "$BUILD/host.log" "host tests did not finish; see $BUILD/host.log"
fi

if ((unit_only == 0)); then
	echo "== guest tests (QEMU, software emulation)"
	out=$BUILD/guest
	scripts/guest/run.sh --smp 2 --timeout 1800 "$out" tests/guest/run-all.sh
	guest_rc=$?
	grep -E '^(=== |PASS |FAIL |  FAILED)' "$out/job.log"
	add_summary "$out/job.log" "guest run did not finish (exit $guest_rc); see $out/console.log"
	# the guest scans its log after every case; scan the whole log once more
	kernel_bad=$(<tests/kernel-bad.re)
	if [[ -s $out/dmesg.txt ]] && grep -qE "$kernel_bad" "$out/dmesg.txt"; then
		echo "FAIL guest kernel log has warnings:"
		grep -E -A5 "$kernel_bad" "$out/dmesg.txt" | head -40
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
