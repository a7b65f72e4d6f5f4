#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest side of ./test.sh: runs inside the QEMU guest (as PID 1's job,
# root, in a chroot of the host's root file system), from the repository.
# Loads diagnose.ko, runs every registered case (DIAG_TESTS: a regex to
# pick some), and ends with an "N passed, N failed, N skipped" line.
#
#   run-all.sh --list   only print the names of the selected cases (on the
#                       host too: nothing is loaded or run)
#   run-all.sh --host   on the build machine's own kernel, no guest, no
#                       module: the cases of the BPF backend (those of them
#                       DIAG_TESTS picks)
set -u
REPO=$(pwd)
export REPO
. "$REPO/tests/guest/lib.sh"
for c in "$REPO"/tests/guest/cases/*.sh; do
	. "$c"
done

HOST_RUN=0
if [[ ${1:-} == --host ]]; then
	# only the BPF cases can run without the module, whatever DIAG_TESTS
	# picks besides
	HOST_RUN=1
	DIAG_KERNEL_TESTS=^test_bpf_
else
	# the module's cases test the module; the BPF cases ask for BPF
	export DIAGNOSE_BACKEND=module
fi
if [[ ${1:-} == --list ]]; then
	selected_tests
	exit 0
fi
if ((HOST_RUN)) && [[ -z $(selected_tests) ]]; then
	echo "host: DIAG_TESTS='${DIAG_TESTS:-}' selects no BPF case"
	echo "0 passed, 0 failed, 0 skipped"
	exit 0
fi
if [[ -z $(selected_tests) ]]; then
	echo "FAIL DIAG_TESTS='${DIAG_TESTS:-}' selects no guest case"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

if ((HOST_RUN)); then
	echo "host: $(uname -r), $(nproc) CPUs"
	mkdir -p "$WORK"
	run_tests
	run_tests final
	((FAILED)) && echo "failed: ${FAILED_NAMES[*]}"
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	((FAILED == 0))
	exit
fi
echo "guest: $(uname -r), $(nproc) CPUs"
# kmemleak's own scan walks all memory every 10 minutes, minutes of emulated
# time each; kmemleak_check scans when it needs to
[[ -w /sys/kernel/debug/kmemleak ]] && echo scan=off >/sys/kernel/debug/kmemleak
if ! insmod "$MODULE"; then
	echo "FAIL insmod $MODULE"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
run_tests
lsmod | grep -q '^mt_api_test ' && rmmod mt_api_test
lsmod | grep -q '^diagnose ' && rmmod diagnose
if ! kmemleak_check; then
	FAILED=$((FAILED + 1))
	FAILED_NAMES+=(kmemleak)
fi
run_tests final
bad=$(dmesg | grep -E "$KERNEL_BAD")
if [[ -n $bad ]]; then
	echo "FAIL kernel log: $bad"
	FAILED=$((FAILED + 1))
fi
((FAILED)) && echo "failed: ${FAILED_NAMES[*]}"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
