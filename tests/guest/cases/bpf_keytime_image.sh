# SPDX-License-Identifier: GPL-2.0-or-later
# keytime-image on the BPF backend (--backend bpf): the module's cases of
# keytime_image.sh, run as they are with the backend forced, against the
# same oracles (tracefs sched_process_fork/exec/exit and sched_switch, the
# scheduler's voluntary/involuntary switch counts, /proc/PID/stack).  These
# run in every guest of the matrix and on the build machine's own kernel
# (run-all.sh --host).

test_bpf_kt_tgid_matches_tracefs() {
	require_bpf_backend keytime-image || return 0
	local KT=(keytime-image --backend bpf)
	test_kt_tgid_matches_tracefs
}
register_test test_bpf_kt_tgid_matches_tracefs

test_bpf_kt_pid_filter_and_stacks() {
	require_bpf_backend keytime-image || return 0
	local KT=(keytime-image --backend bpf)
	test_kt_pid_filter_and_stacks
}
register_test test_bpf_kt_pid_filter_and_stacks

test_bpf_kt_refusals() {
	require_bpf_backend keytime-image || return 0
	local KT=(keytime-image --backend bpf)
	test_kt_refusals
}
register_test test_bpf_kt_refusals

# Which probes hold the creation and exec calls: fentry/fexit where the
# kernel has BPF trampolines (no cost to other system calls), else the
# system calls' tracepoints.  The oracle for "has trampolines" is whether
# bpftrace can attach a kfunc probe to kernel_clone.
test_bpf_kt_call_probes() {
	require_bpf_backend keytime-image || return 0
	command -v bpftrace >/dev/null || { skip "no bpftrace to tell whether trampolines work"; return 0; }
	expect_rc "activate" 0 "$DT" keytime-image --backend bpf --activate="pid=1"
	local pins ours peer
	pins=$(ls /sys/fs/bpf/diagnose/keytime-image/ 2>/dev/null)
	expect_rc "deactivate" 0 "$DT" keytime-image --backend bpf --deactivate
	if grep -qx link_on_kernel_clone <<<"$pins"; then
		ours=trampolines
		expect_eq "$(grep -c '^link_on_enter_' <<<"$pins")" 0 "no system call tracepoints with trampolines"
	else
		ours=tracepoints
		expect_grep "system call tracepoints" '^link_on_enter_clone3$' "$pins"
	fi
	# bpftrace's answer: it attached (trampolines), or it said that kfunc
	# probes are not available here (no trampolines); a timeout or any other
	# failure tells nothing about the kernel, and the comparison is skipped
	# with its reason
	local limit=$((150 * WAIT_SCALE)) rc=0 t0=$SECONDS
	(ulimit -l unlimited 2>/dev/null; timeout "$limit" bpftrace -e 'kfunc:kernel_clone { } BEGIN { exit(); }') \
		>"$WORK/bt-kfunc.log" 2>&1 || rc=$?
	if ((rc == 0)); then
		peer=trampolines
	elif ((rc == 124)); then
		skip "bpftrace's kfunc check did not finish in $limit s (ours: $ours)"
		return 0
	elif grep -qE 'kfunc/kretfunc not available|not available for your kernel' "$WORK/bt-kfunc.log"; then
		peer=tracepoints
	else
		skip "bpftrace failed without saying kfunc probes are unavailable (ours: $ours): $(grep -m1 ERROR "$WORK/bt-kfunc.log" || tail -1 "$WORK/bt-kfunc.log")"
		return 0
	fi
	echo "  bpftrace's kfunc check: rc $rc in $((SECONDS - t0)) s"
	echo "  creation and exec calls probed with: $ours (bpftrace's kfunc on kernel_clone: $peer)"
	expect_eq "$ours" "$peer" "trampolines used exactly where the kernel has them"
}
register_test test_bpf_kt_call_probes
