#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host-side tests: what needs no kernel module (the flame graph in a real
# browser).  Each test prints its checks, then PASS/FAIL NAME; the last line
# is "N passed, N failed".  DIAG_TESTS=regex picks tests by name.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
OUT=$BUILD/host-tests
passed=0
failed=0

run_test() {
	local name=$1
	shift
	[[ -n ${DIAG_TESTS:-} && ! $name =~ $DIAG_TESTS ]] && return 0
	echo "=== $name"
	if "$@"; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

# headless Chromium drives the SVG: hover, click-zoom, Ctrl-F search, case
# toggle, reload from the URL, reset; leaves a screenshot for docs/flame.md
run_test flame_browser timeout 300 node tests/host/flame_browser.js \
	"$BUILD/diagnose-tools" "$OUT/flame_browser"

# the Debian package installed with apt in a debootstrapped root, DKMS
# building the module, used in the guest booted with that root, purged
# (scripts/package-test.sh; ~10 min on a fresh machine, ~4 min with the
# debootstrap root cached)
run_test package timeout 1800 scripts/package-test.sh "$OUT/package"

echo "$passed passed, $failed failed"
((failed == 0))
