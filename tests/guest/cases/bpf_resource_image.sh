# SPDX-License-Identifier: GPL-2.0-or-later
# resource-image on the BPF backend (--backend bpf): the module's cases of
# resource_image.sh, run as they are with the backend forced, against the
# same oracles (/proc/PID/stat, /proc/PID/io, VmRSS,
# CLOCK_THREAD_CPUTIME_ID).  These run in every guest of the matrix and on
# the build machine's own kernel (run-all.sh --host).

# How far a sample's RSS may be from VmRSS on the BPF backend, in bytes.
# VmRSS sums the mm's per-CPU counters (6.2 on); the program does too,
# through the kernel's per-CPU variables, which the verifier resolves by
# /proc/kallsyms: a kernel that lists no data symbols there
# (CONFIG_KALLSYMS_ALL off) leaves it the shared counts, each of which
# lags by less than percpu_counter_batch (max(32, 2 * CPUs) pages) per CPU.
bpf_ri_rss_slack() {
	local v cpus
	v=$(uname -r)
	cpus=$(nproc)
	if grep -qw runqueues /proc/kallsyms ||
		! awk -v v="$v" 'BEGIN {split(v, a, "[.-]"); exit !(a[1] > 6 || (a[1] == 6 && a[2] >= 2))}'; then
		echo 4096
	else
		echo $((3 * cpus * (cpus * 2 > 32 ? cpus * 2 : 32) * 4096))
	fi
}

# bpf_ri_case NAME: the module's case test_ri_NAME on the BPF backend
bpf_ri_case() {
	require_bpf_backend resource-image || return 0
	local RI=(resource-image --backend bpf) RI_RSS_SLACK
	RI_RSS_SLACK=$(bpf_ri_rss_slack)
	"test_ri_$1"
}

# the module's cases, each as test_bpf_ri_NAME
for ri_case in matches_proc_accounting busy_task_sampled_without_switches \
	sleeper_sampled_by_report text_and_follow table_full_is_reported \
	pid_reuse_starts_clean exec_frees_slot thread_exec_keeps_tasks_apart \
	renamed_threads_freed_by_report; do
	eval "test_bpf_ri_$ri_case() { bpf_ri_case $ri_case; }"
	register_test "test_bpf_ri_$ri_case"
done
unset ri_case

# the CLI's refusals; the module's raw-ioctl half has no BPF counterpart
test_bpf_ri_refusals() {
	require_bpf_backend resource-image || return 0
	local RI=(resource-image --backend bpf)
	ri_cli_refusals
}
register_test test_bpf_ri_refusals
