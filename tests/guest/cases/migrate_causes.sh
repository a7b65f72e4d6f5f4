# SPDX-License-Identifier: GPL-2.0-or-later
# migrate-image's cause column proven by workloads: each case runs a
# cause_work scenario (progs/cause_work.c) that moves its threads by one
# scheduler path known in advance, with migrate-image watching every task,
# and cause_check.py judges the report against what the workload saw and
# what the kernel counted itself: se.nr_migrations per thread, schedstats'
# load-balance counters over the whole system, NUMA tracepoints.  Nothing
# here repeats how the module finds a cause.  (CPU hotplug's balance_push
# is test_mi_cpu_hotplug in migrate_image.sh.)

CAUSE_KNOBS=()
CAUSE_TRACE_EVENTS=()
CAUSE_TRACE_CLOCK=local

# cause_knob FILE VALUE: set a kernel knob until cause_knobs_restore.  A
# knob that already has the value is not written: many of them are static
# keys, and each flip patches kernel text.
cause_knob() {
	local old
	old=$(cat "$1") || { fail "cannot read $1"; return 1; }
	[[ $old == "$2" ]] && return 0
	CAUSE_KNOBS+=("$1" "$old")
	echo "$2" >"$1" || { fail "cannot write $2 to $1"; return 1; }
}

# Schedstats are turned on once and left on for the rest of the guest's
# run: the switch is a static key behind the scheduler's hottest paths,
# and a software-emulated CPU once tripped over a stale int3 of that text
# patching (Oops: int3 in set_next_entity, 6.12, after a dozen flips).
cause_schedstats() {
	local f=/proc/sys/kernel/sched_schedstats
	[[ $(cat "$f") == 1 ]] || echo 1 >"$f" || { fail "cannot turn schedstats on"; return 1; }
}

# cause_feature NAME on|off: a scheduler feature (debugfs), restored by
# cause_knobs_restore
cause_feature() {
	local f=/sys/kernel/debug/sched/features old=NO_$1 want=NO_$1
	[[ -w $f ]] || { fail "no $f to set $1 with"; return 1; }
	grep -qw "$1" "$f" && old=$1
	[[ $2 == on ]] && want=$1
	[[ $old == "$want" ]] && return 0
	CAUSE_KNOBS+=("$f" "$old")
	echo "$want" >"$f" || { fail "cannot set $want"; return 1; }
}

cause_knobs_restore() {
	local i
	for ((i = ${#CAUSE_KNOBS[@]} - 2; i >= 0; i -= 2)); do
		echo "${CAUSE_KNOBS[i + 1]}" >"${CAUSE_KNOBS[i]}" ||
			fail "cannot restore ${CAUSE_KNOBS[i]}"
	done
	CAUSE_KNOBS=()
}

cause_check() { python3 "$REPO/tests/guest/cause_check.py" "$@"; }

# The kernel's own record of the workload's migrations and wakeups: which
# CPU and which task ran each sched_migrate_task (cause_check.py tells a
# push from a pull, and the stopper from the rest, by it), plus the events
# of CAUSE_TRACE_EVENTS; CLOCK_MONOTONIC timestamps, as in the report.
CAUSE_FTRACE=(sched/sched_migrate_task sched/sched_waking sched/sched_wakeup)
CAUSE_FTRACE_FILTER='comm ~ "cw-*" || comm == "cause_work" || comm == "exec_probe"'

cause_trace_start() {
	local T=/sys/kernel/tracing ev
	echo 0 >"$T/tracing_on"
	CAUSE_TRACE_CLOCK=$(sed -E 's/.*\[([a-z0-9_-]+)\].*/\1/' "$T/trace_clock")
	echo mono >"$T/trace_clock"
	echo 4096 >"$T/buffer_size_kb"
	echo >"$T/trace"
	for ev in "${CAUSE_FTRACE[@]}"; do
		echo "$CAUSE_FTRACE_FILTER" >"$T/events/$ev/filter" || fail "cannot filter $ev"
	done
	for ev in "${CAUSE_FTRACE[@]}" "${CAUSE_TRACE_EVENTS[@]}"; do
		echo 1 >"$T/events/$ev/enable" || fail "cannot enable $ev"
	done
	echo 1 >"$T/tracing_on"
}

# cause_trace_stop FILE
cause_trace_stop() {
	local T=/sys/kernel/tracing ev
	echo 0 >"$T/tracing_on"
	for ev in "${CAUSE_FTRACE[@]}" "${CAUSE_TRACE_EVENTS[@]}"; do
		echo 0 >"$T/events/$ev/enable"
	done
	for ev in "${CAUSE_FTRACE[@]}"; do
		echo 0 >"$T/events/$ev/filter"
	done
	cp "$T/trace" "$1"
	echo >"$T/trace"
	echo "$CAUSE_TRACE_CLOCK" >"$T/trace_clock"
	grep -q 'LOST [0-9]* EVENTS' "$1" && fail "the kernel's trace lost events"
}

# cause_round DIR SCENARIO N [EXEC_TARGET]: run a cause_work scenario with
# migrate-image watching every task and schedstats on; leaves the report in
# DIR/report.json, schedstat snapshots in DIR/sched0 and DIR/sched1 and the
# kernel's trace in DIR/trace.  No polling while the workload runs (the
# test waits on a FIFO): a shell that forks a sleep every 50 ms keeps the
# "idle" CPU busy in a software-emulated guest.
cause_round() {
	local dir=$1 scenario=$2 pid rc=0 fd line ev
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	cause_schedstats || return 1
	# NUMA balancing moves only what the NUMA scenarios ask it to
	if [[ -e /proc/sys/kernel/numa_balancing ]]; then
		[[ $scenario == numa-* ]] && ev=1 || ev=0
		cause_knob /proc/sys/kernel/numa_balancing $ev || return 1
	fi
	mkfifo "$dir/status" || return 1
	exec {fd}<>"$dir/status"
	"$PROGS/cause_work" "$dir" "$@" >"$dir/out" 2>&1 &
	pid=$!
	if ! read -r -t 60 -u "$fd" line || [[ $line != ready ]]; then
		fail "cause_work $scenario did not get ready"
		sed 's/^/  | /' "$dir/out"
		kill -9 "$pid" 2>/dev/null
		reap "$pid"
		exec {fd}<&-
		rm -f "$dir/status"
		return 1
	fi
	expect_rc "activate on every task" 0 "$DT" migrate-image --activate="buf-kib=4096"
	cause_trace_start
	cause_check schedstat >"$dir/sched0"
	kill -USR1 "$pid"
	if ! read -r -t 300 -u "$fd" line || [[ $line != done ]]; then
		fail "cause_work $scenario did not finish"
		rc=1
	fi
	exec {fd}<&-
	rm -f "$dir/status"
	cause_check schedstat >"$dir/sched1"
	cause_trace_stop "$dir/trace"
	"$DT" migrate-image --report --format json >"$dir/report.json" 2>"$dir/report.err" ||
		{ fail "report failed: $(cat "$dir/report.err")"; rc=1; }
	"$DT" migrate-image --deactivate >/dev/null
	kill -9 "$pid" 2>/dev/null
	reap "$pid"
	((rc == 0)) || sed 's/^/  | /' "$dir/out"
	return $rc
}

# cause_verdict SCENARIO DIR [CAUSE]
cause_verdict() {
	cause_check check "$@"
	if (($? != 0)); then
		fail "$1: the report does not give the workload's cause"
		# keep the evidence where the host can read it
		[[ -n ${DIAG_OUT:-} ]] && cp -r "$2" "$DIAG_OUT/"
	fi
}

# A spinning thread pinned to one CPU, moved to the other by
# sched_setaffinity() from another thread: every move is __migrate_task
# (the stopper's migration_cpu_stop for a running task), in order.
test_mc_affinity() {
	local d=$WORK/mc-affinity
	cause_round "$d" affinity 10
	local rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict affinity "$d"
}
register_test test_mc_affinity

# Wakeup placement: a thread asleep on CPU 0, beside a spinner there, wakes
# while CPU 1 is idle; try_to_wake_up() moves it.  The kernel's own count
# of such moves (nr_wakeups_migrate) must be the report's, as in every case.
# SIS_UTIL off: it stops the search for an idle CPU once the cache
# domain's utilisation nears 85 %, which one spinner and a little more
# reach in a two-CPU guest.  On PREEMPT_RT the idle CPU is often waking
# its ksoftirqd at that moment, and then not idle: about half the wakeups
# stay (the judge wants a quarter).
test_mc_wakeup() {
	local d=$WORK/mc-wakeup rc
	cause_feature SIS_UTIL off || { cause_knobs_restore; return 1; }
	cause_round "$d" wakeup 20
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict wakeup "$d"
}
register_test test_mc_wakeup

# exec balancing: a child beside a spinner on CPU 0 execs while CPU 1 is
# idle; sched_exec() has the stopper move it during the execve.
test_mc_exec() {
	local d=$WORK/mc-exec rc
	if ! awk '$3 == "sched_exec" {f = 1} END {exit !f}' /proc/kallsyms; then
		skip "the kernel has no sched_exec() (no exec balancing)"
		return 0
	fi
	# on the guest's tmpfs: nothing in the exec sleeps on 9p
	cp "$PROGS/exec_probe" "$WORK/exec_probe" || return 1
	cause_round "$d" exec 10 "$WORK/exec_probe"
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict exec "$d"
}
register_test test_mc_exec

# An idle CPU pulls from a busy one: spinners created while CPU 1 is
# offline (fork placement has only CPU 0), spread by the load balancer
# once CPU 1 is back online.
test_mc_load_balance() {
	local d=$WORK/mc-balance rc
	if [[ ! -w /sys/devices/system/cpu/cpu1/online ]]; then
		skip "CPU 1 cannot be taken offline here"
		return 0
	fi
	cause_round "$d" balance 2
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict balance "$d"
}
register_test test_mc_load_balance

# Active balancing: a nice-0 spinner beside a pinned nice-19 one on CPU 0,
# with CPU 1 idle.  The nice-0 one is nearly always the one running, so
# load_balance() cannot detach it; after failed attempts the balancer has
# CPU 0's stopper push it (active_load_balance_cpu_stop).
test_mc_active_balance() {
	local d=$WORK/mc-active rc
	# Measured: 0 active balancings in 10 trials on 6.12-rt, where the
	# busy CPU's tick wakes its per-CPU RT threads (rcuc/N, ktimers/N),
	# which preempt the spinner in the very tick that kicks the idle
	# CPU's balancing: the balancer always finds it queued and pulls it.
	if [[ $(cat /sys/kernel/realtime 2>/dev/null) == 1 ]]; then
		skip "PREEMPT_RT: the tick's RT threads preempt the spinner whenever the idle CPU balances (it is pulled, never pushed)"
		return 0
	fi
	cause_round "$d" active 8
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict active "$d"
}
register_test test_mc_active_balance

# RT push: a SCHED_FIFO 60 spinner is preempted by a FIFO 80 thread pinned
# to its CPU, and pushed to the other CPU, which runs nothing real-time.
test_mc_rt_push() {
	local d=$WORK/mc-rt-push rc
	cause_round "$d" rt-push 20
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict rt-push "$d" push_rt_task
}
register_test test_mc_rt_push

# RT pull: the FIFO 60 thread wakes queued behind a FIFO 80 spinner, and
# the other CPU pulls it when its own FIFO 80 thread sleeps.  With the
# RT_PUSH_IPI feature (the default on PREEMPT_RT) that CPU instead has the
# overloaded one push it, from an IPI: then the cause is push_rt_task.
test_mc_rt_pull() {
	local d=$WORK/mc-rt-pull rc
	cause_feature RT_PUSH_IPI off || { cause_knobs_restore; return 1; }
	cause_round "$d" rt-pull 12
	rc=$?
	cause_knobs_restore
	if ((rc == 0)); then
		echo "  -- NO_RT_PUSH_IPI: the idle CPU pulls"
		cause_verdict rt-pull "$d" pull_rt_task
	fi
	d=$WORK/mc-rt-pull-ipi
	cause_feature RT_PUSH_IPI on || { cause_knobs_restore; return 1; }
	cause_round "$d" rt-pull 12
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	echo "  -- RT_PUSH_IPI: the overloaded CPU pushes, asked by IPI"
	cause_verdict rt-pull "$d" push_rt_task
}
register_test test_mc_rt_pull

# SCHED_DEADLINE push and pull, the same two dances with deadlines instead
# of priorities.  Deadline tasks must be allowed on every CPU of their root
# domain, and the dances use two.
cause_dl() {
	local scenario=$1 cause=$2 d=$WORK/mc-$1 rc
	if [[ $(nproc) != 2 ]]; then
		skip "the deadline dances need exactly two CPUs (a deadline task may not be pinned)"
		return 0
	fi
	cause_round "$d" "$scenario" 12
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict "$scenario" "$d" "$cause"
}

test_mc_dl_push() { cause_dl dl-push push_dl_task; }
register_test test_mc_dl_push

test_mc_dl_pull() { cause_dl dl-pull pull_dl_task; }
register_test test_mc_dl_pull

# NUMA balancing needs a kernel built with it and a guest with CPU 0 and
# CPU 1 on two nodes (scripts/guest/run.sh --numa).
cause_numa_ready() {
	local sysctl=0 fault=0
	[[ -e /proc/sys/kernel/numa_balancing ]] && sysctl=1
	awk '$3 == "task_numa_fault" {f = 1} END {exit !f}' /proc/kallsyms && fault=1
	if ((!sysctl && !fault)); then
		skip "the kernel has no NUMA balancing (no task_numa_fault, no numa_balancing sysctl)"
		return 1
	fi
	((sysctl && fault)) || { fail "numa_balancing sysctl $sysctl but task_numa_fault $fault"; return 1; }
	if [[ ! -e /sys/devices/system/node/node1 ]]; then
		skip "one NUMA node (boot with scripts/guest/run.sh --numa)"
		return 1
	fi
	if [[ ! -e /sys/devices/system/cpu/cpu0/node0 || ! -e /sys/devices/system/cpu/cpu1/node1 ]]; then
		skip "CPU 0 and CPU 1 are not on nodes 0 and 1"
		return 1
	fi
	return 0
}

# scan often, from the start: the workload's trials take seconds, not
# minutes
cause_numa_round() {
	local dir=$1 n
	shift
	for n in scan_delay_ms:100 scan_period_min_ms:100 scan_period_max_ms:800; do
		cause_knob "/sys/kernel/debug/sched/numa_balancing/${n%%:*}" "${n#*:}" || return 1
	done
	CAUSE_TRACE_EVENTS=(sched/sched_move_numa sched/sched_swap_numa sched/sched_stick_numa)
	cause_round "$dir" "$@"
	n=$?
	CAUSE_TRACE_EVENTS=()
	return $n
}

# A thread whose memory is bound to node 1 runs on CPU 0 (node 0), with
# CPU 1 idle: NUMA balancing moves it to its memory (migrate_task_to).
test_mc_numa_move() {
	local d=$WORK/mc-numa-move rc
	cause_numa_ready || return 0
	cause_numa_round "$d" numa-move 3
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict numa-move "$d"
}
register_test test_mc_numa_move

# Two busy threads, each on the node away from its memory: NUMA balancing
# swaps them (migrate_swap).
test_mc_numa_swap() {
	local d=$WORK/mc-numa-swap rc
	cause_numa_ready || return 0
	cause_numa_round "$d" numa-swap 3
	rc=$?
	cause_knobs_restore
	((rc == 0)) || return 1
	cause_verdict numa-swap "$d"
}
register_test test_mc_numa_swap
