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
