#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A job for run.sh: checks that the guest runs the debug kernel with its
# sanitizers working, and that what the suite relies on is there.
#
#   scripts/guest/run.sh --kernel debug OUTDIR scripts/guest/debug-kernel-check.sh
#
# Ends with "N ok, N failed"; exits non-zero on a failure.
set -u
REPO=$(pwd)
ok=0
failed=0
check() {
	# a subshell: a check may end with exit
	if (eval "$2") >/dev/null 2>&1; then
		echo "ok: $1"
		ok=$((ok + 1))
	else
		echo "FAILED: $1"
		failed=$((failed + 1))
	fi
}

echo "uptime at job start: $(cut -d' ' -f1 /proc/uptime) s"
echo "kernel: $(uname -r), $(nproc) CPUs, $(ls -d /sys/devices/system/node/node* | wc -l) NUMA nodes"
check "the debug kernel" '[[ $(uname -r) == *-diag-debug ]]'

# the sanitizers, each by what it leaves in the running kernel
check "KASAN initialized" 'dmesg | grep -q "kasan: KernelAddressSanitizer initialized"'
check "KASAN instrumentation (__asan_load8 in kallsyms)" 'grep -q " __asan_load8$" /proc/kallsyms'
check "UBSAN handlers in kallsyms" 'grep -q " __ubsan_handle_out_of_bounds$" /proc/kallsyms'
check "lockdep on (debug_locks 1)" 'grep -qE "^ *debug_locks: +1$" /proc/lockdep_stats'
check "lock chains recorded" 'grep -qE "dependency chains: +[1-9]" /proc/lockdep_stats'
check "PROVE_RCU (rcu_read_lock_held in kallsyms)" 'grep -q " rcu_read_lock_held$" /proc/kallsyms'
check "DEBUG_ATOMIC_SLEEP (__might_resched in kallsyms)" 'grep -q " __might_resched$" /proc/kallsyms'
check "DEBUG_OBJECTS tracking objects, no warnings" \
	'S=/sys/kernel/debug/debug_objects/stats;
	 grep -qE "^pool_used +:[1-9]" $S && grep -qE "^warnings +:0$" $S'
check "KFENCE enabled" 'grep -q "^enabled: 1" /sys/kernel/debug/kfence/stats'
check "kmemleak on (a scan is accepted)" 'echo scan >/sys/kernel/debug/kmemleak'

# what the suite uses
check "9p root, tmpfs /tmp, debugfs, tracefs, cgroup2 mounted" \
	'awk "{print \$2, \$3}" /proc/mounts | grep -qx "/ 9p" &&
	 awk "{print \$2, \$3}" /proc/mounts | grep -qx "/tmp tmpfs" &&
	 awk "{print \$2, \$3}" /proc/mounts | grep -qx "/sys/kernel/debug debugfs" &&
	 awk "{print \$2, \$3}" /proc/mounts | grep -qx "/sys/kernel/tracing tracefs" &&
	 awk "{print \$2, \$3}" /proc/mounts | grep -qx "/sys/fs/cgroup cgroup2"'
check "cgroup controllers cpu and memory" \
	'grep -qw cpu /sys/fs/cgroup/cgroup.controllers && grep -qw memory /sys/fs/cgroup/cgroup.controllers'
check "a child cgroup takes a process" \
	'mkdir /sys/fs/cgroup/dkcheck && sh -c "echo \$\$ >/sys/fs/cgroup/dkcheck/cgroup.procs && grep -qx 0::/dkcheck /proc/self/cgroup"; r=$?; rmdir /sys/fs/cgroup/dkcheck; exit $r'
check "python3 runs" '[[ $(python3 -c "import os, multiprocessing; print(os.cpu_count())") == $(nproc) ]]'
check "perf counts task-clock" 'perf stat -e task-clock -x, -- true 2>&1 | grep -q task-clock'
check "perf records cpu-clock with call graphs" \
	'perf record -q -g -e cpu-clock -o /tmp/dk.data -- python3 -c "sum(range(300000))" &&
	 perf script -i /tmp/dk.data | grep -q python3'
check "kprobe event on vfs_read fires" \
	'T=/sys/kernel/tracing; echo "p:dkcheck vfs_read" >>$T/kprobe_events &&
	 echo 1 >$T/events/kprobes/dkcheck/enable && cat /proc/self/stat >/dev/null &&
	 echo 0 >$T/events/kprobes/dkcheck/enable &&
	 grep -q dkcheck $T/trace; r=$?; echo "-:dkcheck" >>$T/kprobe_events; echo >$T/trace; exit $r'
check "sched tracepoints" '[[ -d /sys/kernel/tracing/events/sched/sched_migrate_task ]]'
check "function profiler" '[[ -e /sys/kernel/tracing/function_profile_enabled ]]'
check "/proc/PID/io, /proc/PID/stack, /proc/PID/sched" \
	'grep -q "^rchar:" /proc/self/io && [[ -r /proc/1/stack ]] && grep -q nr_migrations /proc/self/sched'
check "CPU 1 goes offline and back" \
	'echo 0 >/sys/devices/system/cpu/cpu1/online && echo 1 >/sys/devices/system/cpu/cpu1/online'
# the kernel turns NUMA balancing on only on a machine with several nodes
if (($(ls -d /sys/devices/system/node/node* | wc -l) > 1)); then
	check "NUMA balancing on" '[[ $(cat /proc/sys/kernel/numa_balancing) != 0 ]]'
else
	check "NUMA balancing built in" '[[ -e /proc/sys/kernel/numa_balancing ]]'
fi

# and nothing in the kernel log that the suite would fail on
bad=$(dmesg | grep -E "$(<"$REPO/tests/kernel-bad.re")")
check "kernel log clean" '[[ -z $bad ]]'
[[ -n $bad ]] && echo "$bad" | head -40
echo "$ok ok, $failed failed"
((failed == 0))
