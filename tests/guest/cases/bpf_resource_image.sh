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

test_bpf_ri_matches_proc_accounting() { bpf_ri_case matches_proc_accounting; }
register_test test_bpf_ri_matches_proc_accounting

test_bpf_ri_busy_task_sampled_without_switches() { bpf_ri_case busy_task_sampled_without_switches; }
register_test test_bpf_ri_busy_task_sampled_without_switches

test_bpf_ri_sleeper_sampled_by_report() { bpf_ri_case sleeper_sampled_by_report; }
register_test test_bpf_ri_sleeper_sampled_by_report

test_bpf_ri_text_and_follow() { bpf_ri_case text_and_follow; }
register_test test_bpf_ri_text_and_follow

test_bpf_ri_table_full_is_reported() { bpf_ri_case table_full_is_reported; }
register_test test_bpf_ri_table_full_is_reported

# the CLI's refusals; the module's raw-ioctl half has no BPF counterpart
test_bpf_ri_refusals() {
	require_bpf_backend resource-image || return 0
	local RI=(resource-image --backend bpf)
	ri_cli_refusals
}
register_test test_bpf_ri_refusals

test_bpf_ri_pid_reuse_starts_clean() { bpf_ri_case pid_reuse_starts_clean; }
register_test test_bpf_ri_pid_reuse_starts_clean

test_bpf_ri_exec_frees_slot() { bpf_ri_case exec_frees_slot; }
register_test test_bpf_ri_exec_frees_slot

test_bpf_ri_thread_exec_keeps_tasks_apart() { bpf_ri_case thread_exec_keeps_tasks_apart; }
register_test test_bpf_ri_thread_exec_keeps_tasks_apart

test_bpf_ri_renamed_threads_freed_by_report() { bpf_ri_case renamed_threads_freed_by_report; }
register_test test_bpf_ri_renamed_threads_freed_by_report
