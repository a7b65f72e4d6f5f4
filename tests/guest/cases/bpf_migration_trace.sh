# SPDX-License-Identifier: GPL-2.0-or-later
# The migration trace on the BPF backend (diagnose-tools migration-trace),
# against the kernel's own counters: the sched_migrate_task events of a
# tracefs instance over the same window, task by task, and se.nr_migrations
# (/proc/PID/task/TID/sched).  The module's rules (refusals, the full
# buffer stopping everything, marks) as the module's cases check them in
# migration_trace.sh.  These run in every guest of the matrix, next to the
# module, and on the build machine's own kernel (run-all.sh --host).

BMT=(migration-trace)
BMT_INSTANCE=diag-bpf-mt

bmt() { "$DT" "${BMT[@]}" "$@"; }

# require_bpf_mtrace: skips the case, saying why, only when this kernel
# cannot run the trace's programs (no BPF backend, no BTF, not root);
# a missing CLI fails.
require_bpf_mtrace() {
	[[ -x $DT ]] || { fail "no diagnose-tools at $DT"; return 1; }
	bmt reset >/dev/null 2>"$WORK/bmt.err"
	case $? in
	0) return 0 ;;
	3) skip "no BPF migration trace here: $(head -1 "$WORK/bmt.err")"; return 1 ;;
	*) fail "migration-trace reset: $(head -1 "$WORK/bmt.err")"; return 1 ;;
	esac
}

# no program of the trace is loaded (bpftool prog show)
bmt_programs_gone() { bpf_programs_gone 'mt_(migrate_task|process_exit|process_exec|wakeup_new|process_fork|task_rename|control_op|task_list|tasks)'; }

bmt_state() { bmt status 2>/dev/null | awk '$1 == "state" {print $2}'; }
bmt_is_full() { [[ $(bmt_state) == full ]]; }

# A tracefs instance of our own recording every task's sched_migrate_task
# and sched_wakeup_new on the trace's clock; prints its directory.
bmt_ftrace_on() {
	local t inst
	t=$(tracefs_dir) || return 1
	inst=$t/instances/$BMT_INSTANCE
	[[ -d $inst ]] && rmdir "$inst"
	mkdir "$inst" || return 1
	echo mono >"$inst/trace_clock"
	echo 16384 >"$inst/buffer_size_kb"
	echo 1 >"$inst/events/sched/sched_migrate_task/enable"
	echo 1 >"$inst/events/sched/sched_wakeup_new/enable"	# fork placements
	echo "$inst"
}

# bmt_ftrace_off INSTANCE FILE: its trace into FILE, the instance removed
bmt_ftrace_off() {
	echo 0 >"$1/events/sched/sched_migrate_task/enable"
	echo 0 >"$1/events/sched/sched_wakeup_new/enable"
	cp "$1/trace" "$2"
	rmdir "$1"
}

bmt_abort() {
	bmt reset >/dev/null 2>&1
	[[ -n ${BMT_FT:-} && -d $BMT_FT ]] && bmt_ftrace_off "$BMT_FT" /dev/null
	stop_migrator
}

# migrations of PID (a task of the migrator) in a trace between two timestamps
bmt_moves_of() {
	awk -v p="$2" '!/^#/ && $3 != "." && $6 < 32 && $5 == p' "$1" | wc -l
}

# Every task's migrations, in order, against a tracefs instance's
# sched_migrate_task events with orig_cpu != dest_cpu over one window
# between two marks; the migrator's threads against se.nr_migrations.
test_bpf_mt_matches_ftrace_per_pid() {
	local d=$WORK/bmt-ftrace window a b n lost lacking tid want got
	require_bpf_mtrace || return 0
	start_migrator "$d" 24 2 3000 || return 1
	migrations_of_process "$MIG_TGID" | sort >"$d/before"
	BMT_FT=$(bmt_ftrace_on) || { fail "no tracefs instance"; bmt_abort; return 1; }
	expect_rc "enable" 0 bmt enable
	expect_rc "mark 0xb0" 0 bmt mark 0xb0
	sleep 0.1
	kill -USR1 "$MIG_TGID"
	"$PROGS/migration_storm" 2 3000 >/dev/null
	wait_for "$d/done" 120 || { bmt_abort; return 1; }
	wait_all_asleep "$MIG_TGID"
	migrations_of_process "$MIG_TGID" | sort >"$d/after"
	sleep 0.1
	expect_rc "mark 0xe0" 0 bmt mark 0xe0
	expect_rc "stop" 0 bmt stop
	bmt_ftrace_off "$BMT_FT" "$d/ftrace.txt"
	expect_rc "trace -o" 0 bmt trace -o "$d/trace"
	cp "$d/trace" "$WORK/bmt-sample-trace"

	# the kernel may not call a program for a move (seen on the build
	# machine's 6.18, in interrupts only, with no recursion miss): such a
	# move must be counted lost, exactly (compare below)
	lost=$(awk '$2 == "lost" {print $3}' "$d/trace")
	expect_grep "a count of lost moves" "^[0-9]+$" "$lost"
	((lost <= 3)) || fail "$lost moves lost: the storm is not a full buffer"
	expect_grep "the calls the kernel skipped" "^# skipped_calls [0-9]+$" "$(cat "$d/trace")"
	expect_grep "stopped, not full" "^# state stopped$" "$(grep '^# state' "$d/trace")"
	window=$(python3 "$REPO/tests/guest/mt_check.py" window "$d/trace" "$d/ftrace.txt" 0xb0 0xe0) || {
		fail "window: $window"
		stop_migrator
		return 1
	}
	read -r a b <<<"$window"
	echo "  window [$a, $b] ns"
	python3 "$REPO/tests/guest/mt_check.py" compare "$d/trace" "$d/ftrace.txt" "$a" "$b" "$lost" ||
		fail "the BPF trace and tracefs disagree"
	n=$(python3 "$REPO/tests/guest/mt_check.py" count "$d/trace" "$a" "$b")
	((n >= 3000)) || fail "only $n migrations in the window; the storm alone makes 3000"
	# the migrator's threads slept before the start and after the stop:
	# the whole trace holds exactly the kernel's count of their moves,
	# but for moves counted lost
	join "$d/before" "$d/after" | awk '{print $1, $3 - $2}' >"$d/expected"
	lacking=0
	while read -r tid want; do
		got=$(bmt_moves_of "$d/trace" "$tid")
		if ((got < want && want - got <= lost)); then
			echo "  thread $tid: $got of se.nr_migrations' $want moves"
			lacking=$((lacking + want - got))
		else
			expect_eq "$got" "$want" "migrations of thread $tid (trace vs se.nr_migrations)"
		fi
	done <"$d/expected"
	((lacking <= lost)) || fail "the migrator's threads lack $lacking moves, $lost counted lost"
	# migrate-stats counts what tracefs saw
	"$DT" migrate-stats --stats --format json --begin_ts "$a" --end_ts "$b" "$d/trace" \
		>"$d/stats.json" || fail "migrate-stats failed"
	expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["migrations"])' "$d/stats.json")" \
		"$n" "migrate-stats count over the window"
	echo "  causes: $(awk '!/^#/ && $3 != "." && $6 < 32 {print $6}' "$d/trace" | sort -n | uniq -c | tr -s ' \n' ' ')"
	expect_rc "reset" 0 bmt reset
	stop_migrator
}
register_test test_bpf_mt_matches_ftrace_per_pid

# Marks carry their writer's pid, come in order with the rest, and the
# begin/end mark filters of migrate-stats cut there.
test_bpf_mt_marks_in_order() {
	local d=$WORK/bmt-marks i pids=() movers=() marks lo hi rows
	require_bpf_mtrace || return 0
	mkdir -p "$d"
	expect_rc "enable" 0 bmt enable
	for i in 1 2 3; do
		"$DT" "${BMT[@]}" mark "$i" &
		pids+=("$!")
		wait "$!" || fail "mark $i"
		# a task pinned to CPU 0, then to CPU 1: at least one migration
		# (how the kernel carries it out, and so its cause, varies)
		movers+=("$(python3 -c 'import os; os.sched_setaffinity(0, {0}); os.sched_setaffinity(0, {1}); print(os.getpid())')")
	done
	expect_rc "mark 0x6" 0 bmt mark 0x6
	expect_rc "stop" 0 bmt stop
	bmt trace >"$d/trace" || fail "trace"
	marks=$(python3 "$REPO/tests/guest/mt_check.py" marks "$d/trace")
	expect_eq "$(awk '{print $2}' <<<"$marks" | tr '\n' ' ')" "0x1 0x2 0x3 0x6 " "marks in order, each once"
	expect_eq "$(head -3 <<<"$marks" | awk '{print $1}' | tr '\n' ' ')" "${pids[*]} " \
		"a mark carries the pid of its writer"
	expect_eq "$(grep -v '^#' "$d/trace" | awk '{print $1}' | sort -c && echo sorted)" "sorted" \
		"event timestamps in order"
	lo=$(grep ' 35 0x00000002$' "$d/trace" | awk '{print $1}')
	hi=$(grep ' 35 0x00000003$' "$d/trace" | awk '{print $1}')
	rows=$("$DT" migrate-stats --migrate --begin_mark 2 --end_mark 3 "$d/trace")
	expect_eq "$(awk -v lo="$lo" -v hi="$hi" '$1 < lo || $1 > hi' <<<"$rows")" "" \
		"--migrate rows between marks 2 and 3"
	expect_eq "$(awk '$6 == "python3" {print $5}' <<<"$rows" | sort -u)" "${movers[1]}" \
		"python3 moving between marks 2 and 3: the second one only"
	expect_grep "its move onto CPU 1 with a known cause" \
		"^0x[0-9a-f]{16} [0-9]+ 0 1 ${movers[1]} python3 (try_to_wake_up|pull_task|pull_one_task|__migrate_task)$" "$rows"
	expect_rc "reset" 0 bmt reset
}
register_test test_bpf_mt_marks_in_order

# Every refusal of the module, with its own exit status and one line.
test_bpf_mt_refusals() {
	require_bpf_mtrace || return 0
	expect_rc "trace with no trace" 0 bmt trace
	expect_grep "an empty trace's header" "^# state empty$" "$OUT"
	expect_rc "mark with no trace (EPIPE)" 8 bmt mark 1
	expect_one_line_error "mark with no trace"
	expect_rc "stop with no trace" 0 bmt stop
	expect_rc "enable 2 (EINVAL)" 2 bmt enable 2
	expect_one_line_error "enable 2"
	expect_rc "--buffer-kib 0 (EINVAL)" 2 bmt enable --buffer-kib 0
	expect_one_line_error "--buffer-kib 0"
	expect_rc "--buffer-kib 1048577 (EINVAL)" 2 bmt enable --buffer-kib 1048577
	[[ ! -e /sys/fs/bpf/diagnose/migration-trace ]] ||
		fail "a refused start left pins: $(ls /sys/fs/bpf/diagnose/migration-trace)"
	expect_rc "enable" 0 bmt enable --buffer-kib 256
	expect_eq "$(bmt_state)" running "status while tracing"
	expect_rc "enable while tracing (EALREADY)" 6 bmt enable
	expect_one_line_error "enable while tracing"
	expect_rc "trace while tracing (EBUSY)" 7 bmt trace
	expect_one_line_error "trace while tracing"
	if [[ -e /sys/kernel/debug/migration_trace/trace ]]; then
		echo "  the module is loaded: migrate-stats without FILE reads its trace, not ours"
	else
		expect_rc "migrate-stats on the live BPF trace while tracing" 1 "$DT" migrate-stats
		expect_one_line_error "migrate-stats while tracing"
	fi
	expect_rc "mark junk (EINVAL)" 2 bmt mark 12junk
	expect_one_line_error "mark junk"
	expect_rc "mark -1 (EINVAL)" 2 bmt mark -1
	expect_rc "enable 0 stops" 0 bmt enable 0
	expect_eq "$(bmt_state)" stopped "status after enable 0"
	expect_rc "enable while a trace is held (EEXIST)" 5 bmt enable
	expect_one_line_error "enable while a trace is held"
	expect_grep "says to reset" "reset" "$ERR"
	expect_rc "mark while stopped (EPIPE)" 8 bmt mark 5
	expect_one_line_error "mark while stopped"
	expect_rc "stop again" 0 bmt stop
	expect_rc "the trace reads" 0 bmt trace
	expect_grep "buffer size in the header" "^# buffer_kib 256$" "$OUT"
	expect_rc "and again" 0 bmt trace
	expect_rc "unknown verb" 2 bmt frobnicate
	expect_one_line_error "unknown verb"
	expect_rc "a value for reset" 2 bmt reset 1
	expect_rc "non-root user" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DT" "${BMT[@]}" status
	expect_one_line_error "non-root user"
	expect_rc "enable --buffer-kib 0 over a held trace: the value first (EINVAL)" 2 \
		bmt enable --buffer-kib 0
	expect_rc "reset" 0 bmt reset
	expect_rc "reset again" 0 bmt reset
	expect_eq "$(bmt_state)" empty "status after reset"
}
register_test test_bpf_mt_refusals

# A small buffer fills: tracing stops on every CPU at once, the header
# says which CPU filled and when, that CPU's buffer is full to the slot,
# what did not fit is counted lost, and the trace reads the same twice.
test_bpf_mt_full_buffer_stops() {
	local d=$WORK/bmt-full cpu slots n lost full_ts late
	require_bpf_mtrace || return 0
	mkdir -p "$d"
	expect_rc "enable with 64 KiB per CPU" 0 bmt enable --buffer-kib 64
	"$PROGS/migration_storm" 2 20000 >/dev/null &
	local storm=$!
	poll_until 60 bmt_is_full || fail "the trace did not fill: $(bmt status | tr '\n' ' ')"
	wait "$storm"
	expect_rc "mark after it filled (EPIPE)" 8 bmt mark 7
	expect_rc "trace" 0 bmt trace -o "$d/trace"
	bmt trace >"$d/trace2" || fail "second read"
	expect_eq "$(md5sum <"$d/trace2")" "$(md5sum <"$d/trace")" "the trace reads the same twice"
	expect_grep "state full" "^# state full$" "$(cat "$d/trace")"
	expect_grep "says it stopped itself" "^# tracing stopped itself: the buffer of CPU [0-9]+ filled \(64 KiB per CPU\)" "$(cat "$d/trace")"
	cpu=$(awk '$2 == "full_cpu" {print $3}' "$d/trace")
	full_ts=$(awk '$2 == "full_ts" {print $3}' "$d/trace")
	lost=$(awk '$2 == "lost" {print $3}' "$d/trace")
	slots=$((64 * 1024 / 32))
	n=$(grep -v '^#' "$d/trace" | awk -v c="$cpu" '$2 == c' | wc -l)
	expect_eq "$n" "$slots" "events of the CPU that filled (its 64 KiB of 32-byte slots)"
	((lost >= 1)) || fail "the event that found the buffer full is not counted lost ($lost)"
	expect_eq "$(awk '$2 == "stop_ts" {print $3}' "$d/trace")" "$full_ts" "stop_ts is full_ts"
	# other CPUs stop at once: at most the events in flight come after full_ts
	late=$(python3 -c 'import sys; t = int(sys.argv[2], 16); print(sum(1 for l in open(sys.argv[1]) if not l.startswith("#") and int(l.split()[0], 16) > t))' "$d/trace" "$full_ts")
	echo "  full on CPU $cpu, $lost lost, $late events after full_ts"
	((late <= 4)) || fail "$late events after the buffer filled"
	poll_until 10 bmt_programs_gone || fail "programs still loaded after the trace filled"
	# the trace goes out without the lock: a command at the other end of
	# a pipe that waits for the lock itself cannot block it (the pipe
	# holds 64 KiB, this trace more)
	(($(stat -c %s "$d/trace") > 65536)) || fail "a trace of $(stat -c %s "$d/trace") bytes proves nothing here"
	expect_eq "$(timeout 60 bash -c '"$0" migration-trace trace | "$0" migration-trace status | head -1' "$DT")" \
		"state full" "trace piped into status"
	expect_rc "enable over a full trace (EEXIST)" 5 bmt enable
	expect_rc "reset" 0 bmt reset
}
register_test test_bpf_mt_full_buffer_stops

# The programs come with enable and go with stop (the module drops its
# probes there too); the maps stay until reset.
test_bpf_mt_reset_frees_programs() {
	local pins=/sys/fs/bpf/diagnose/migration-trace
	require_bpf_mtrace || return 0
	expect_rc "enable" 0 bmt enable
	expect_grep "programs loaded" "mt_migrate_task" "$(bpftool prog show 2>/dev/null || echo no-bpftool)"
	expect_rc "stop" 0 bmt stop
	# a program goes when its last reference does, an RCU grace period later
	poll_until 10 bmt_programs_gone || fail "programs still loaded $((10 * WAIT_SCALE)) s after stop"
	[[ -e $pins/mt_events ]] || fail "the trace is gone after stop"
	expect_rc "trace after stop" 0 bmt trace
	expect_grep "a task_list event per task alive" " 34 : " "$OUT"
	expect_grep "a start_sched_clock per CPU" "start_sched_clock [0-9]+ [0-9]+$" "$OUT"
	expect_eq "$(grep -c start_sched_clock <<<"$OUT")" "$(grep -c '^processor' /proc/cpuinfo)" \
		"start_sched_clock events (one per online CPU)"
	expect_rc "reset" 0 bmt reset
	[[ ! -e $pins ]] || fail "pins left after reset: $(ls "$pins")"
	poll_until 10 bmt_programs_gone || fail "programs loaded after reset"
	expect_rc "enable then reset while tracing" 0 bmt enable
	expect_rc "reset while tracing" 0 bmt reset
	poll_until 10 bmt_programs_gone || fail "programs still loaded $((10 * WAIT_SCALE)) s after reset"
	[[ ! -e $pins ]] || fail "pins left after reset: $(ls "$pins")"
}
register_test test_bpf_mt_reset_frees_programs

# Names follow fork, exec and prctl; a new task placed away from its
# parent is a fork_placement, never a migration.
test_bpf_mt_names() {
	local d=$WORK/bmt-names pid
	require_bpf_mtrace || return 0
	mkdir -p "$d"
	expect_rc "enable" 0 bmt enable
	pid=$(bash -c 'exec python3 -c "import ctypes, os; ctypes.CDLL(None).prctl(15, b\"bmt-renamed\", 0, 0, 0); print(os.getpid())"')
	expect_rc "stop" 0 bmt stop
	bmt trace >"$d/trace" || fail "trace"
	expect_grep "copy_process of the new task" "^0x[0-9a-f]{16} [0-9]+ \. \. $pid 32 : " "$(cat "$d/trace")"
	expect_grep "set_task_comm at exec" "^0x[0-9a-f]{16} [0-9]+ \. \. $pid 33 : python3$" "$(cat "$d/trace")"
	expect_grep "set_task_comm at prctl" "^0x[0-9a-f]{16} [0-9]+ \. \. $pid 33 : bmt-renamed$" "$(cat "$d/trace")"
	expect_grep "task_list holds init" "^0x[0-9a-f]{16} [0-9]+ \. \. 1 34 : " "$(cat "$d/trace")"
	expect_eq "$(grep -v '^#' "$d/trace" | awk '$3 != "." && $3 == $4' | wc -l)" 0 \
		"moves with the same source and destination"
	expect_rc "reset" 0 bmt reset
}
register_test test_bpf_mt_names

# migrate-stats reads the BPF trace: from a file, from stdin, and live
# (no FILE) when debugfs has no module trace; all three say the same.
test_bpf_mt_migrate_stats() {
	local d=$WORK/bmt-stats
	require_bpf_mtrace || return 0
	start_migrator "$d" 16 1 500 || return 1
	expect_rc "enable" 0 bmt enable
	kill -USR1 "$MIG_TGID"
	wait_for "$d/done" 120 || { bmt_abort; return 1; }
	expect_rc "stop" 0 bmt stop
	bmt trace -o "$d/trace" || fail "trace"
	"$DT" migrate-stats --format json "$d/trace" >"$d/file.json" || fail "migrate-stats FILE"
	bmt trace | "$DT" migrate-stats --format json - >"$d/stdin.json" || fail "migrate-stats -"
	expect_eq "$(md5sum <"$d/stdin.json")" "$(md5sum <"$d/file.json")" "migrate-stats - = FILE"
	expect_grep "the worker's moves counted" "\"pid\": $MIG_WORKER" "$(cat "$d/file.json")"
	if [[ -e /sys/kernel/debug/migration_trace/trace ]]; then
		echo "  the module is loaded: migrate-stats without FILE reads its trace, not ours"
	else
		"$DT" migrate-stats --format json >"$d/live.json" || fail "migrate-stats (live BPF trace)"
		expect_eq "$(md5sum <"$d/live.json")" "$(md5sum <"$d/file.json")" "migrate-stats live = FILE"
	fi
	"$DT" migrate-stats --period 100 --period_all "$d/trace" >"$d/periods" || fail "migrate-stats --period"
	expect_grep "a stat file migrate-extract reads" "^migrate$" \
		"$("$DT" migrate-extract --field_name 2 "$d/periods")"
	expect_rc "reset" 0 bmt reset
	stop_migrator
}
register_test test_bpf_mt_migrate_stats

# ---- the migration stat (migration-trace stat) ----

bms() { "$DT" "${BMT[@]}" stat "$@"; }
bms_state() { bms status 2>/dev/null | awk '$1 == "state" {print $2}'; }
bms_programs_gone() { bpf_programs_gone 'ms_(migrate_task|wakeup_new|process_exit|process_exec|tasks)'; }

# The stat over a storm, counted apart from a BPF trace and a tracefs
# instance running over the same time: every column of every period
# against the trace's events of that period, migrate against tracefs's
# sched_migrate_task (orig_cpu != dest_cpu), fork_placement against its
# sched_wakeup_new (target_cpu != the CPU it ran on); the stat takes its own
# timestamps, so only events within 2 ms of a boundary may fall on
# either side of it, and the moves the stat counted lost or the calls the
# kernel skipped (moves made without calling its program: seen on 6.18,
# where the trace missed the same move) may be missing, no more.  migrate-extract reads
# the stat, from a file and live.
test_bpf_ms_matches_ftrace_and_trace() {
	local d=$WORK/bms-ftrace lost col
	require_bpf_mtrace || return 0
	bms reset >/dev/null 2>&1
	start_migrator "$d" 16 2 2000 || return 1
	BMT_FT=$(bmt_ftrace_on) || { fail "no tracefs instance"; bmt_abort; return 1; }
	expect_rc "trace enable" 0 bmt enable
	expect_rc "stat enable, 100 ms periods" 0 bms enable --period-msec 100
	expect_eq "$(bms_state)" running "stat status while counting"
	kill -USR1 "$MIG_TGID"
	"$PROGS/migration_storm" 2 1500 >/dev/null
	wait_for "$d/done" 120 || { bmt_abort; bms reset; return 1; }
	expect_rc "the stat reads while counting" 0 bms -o "$d/stat-live"
	expect_grep "running in its header" "^# state running$" "$(cat "$d/stat-live")"
	wait_all_asleep "$MIG_TGID"
	sleep 0.3
	expect_rc "stat stop" 0 bms stop
	expect_rc "trace stop" 0 bmt stop
	bmt_ftrace_off "$BMT_FT" "$d/ftrace.txt"
	expect_rc "stat -o" 0 bms -o "$d/stat"
	expect_rc "trace -o" 0 bmt trace -o "$d/trace"
	expect_grep "stat stopped" "^# state stopped$" "$(cat "$d/stat")"
	expect_grep "the calls the kernel skipped" "^# skipped_calls [0-9]+$" "$(cat "$d/stat")"
	lost=$(awk '$2 == "lost" || $2 == "skipped_calls" {n += $3} END {print n + 0}' "$d/stat")
	((lost <= 5)) || fail "the stat lost or skipped $lost moves or calls"
	python3 "$REPO/tests/guest/mt_check.py" stat_near "$d/stat" "$d/trace" "$d/ftrace.txt" ||
		fail "the stat disagrees with the trace or tracefs"
	col=$("$DT" migrate-extract --field_num migrate "$d/stat") || fail "migrate-extract --field_num"
	expect_eq "$col" 18 "migrate-extract finds the migrate field"
	expect_rc "migrate-extract --extract migrate" 0 "$DT" migrate-extract --extract migrate "$d/stat"
	expect_eq "$(awk '{s += $2} END {print s}' <<<"$OUT")" \
		"$(grep -v '^#' "$d/stat" | awk -v c="$col" '{s += $c * 10} END {print s}')" \
		"migrate-extract's per-second values sum the migrate column x 10"
	if [[ -e /sys/kernel/debug/migration_stat/stat ]]; then
		echo "  the module is loaded: migrate-extract without FILE reads its stat, not ours"
	else
		"$DT" migrate-extract --extract migrate >"$d/live" || fail "migrate-extract (live BPF stat)"
		expect_eq "$(md5sum <"$d/live")" "$(md5sum <<<"$OUT")" "migrate-extract live = FILE"
	fi
	poll_until 10 bms_programs_gone || fail "stat programs still loaded after stop"
	expect_rc "stat reset" 0 bms reset
	expect_rc "trace reset" 0 bmt reset
	stop_migrator
}
register_test test_bpf_ms_matches_ftrace_and_trace

# The module's refusals with their exit statuses, and the stat stopping
# by itself when its time runs out: 1 hour of periods is 3600 periods,
# 3.6 s at 1 ms.
test_bpf_ms_refusals_and_full() {
	local pins=/sys/fs/bpf/diagnose/migration-stat s
	require_bpf_mtrace || return 0
	expect_rc "stat reset with none" 0 bms reset
	expect_rc "stat with none" 0 bms
	expect_grep "an empty stat's header" "^# state empty$" "$OUT"
	expect_grep "its capacity" "^# capacity_periods 3600$" "$OUT"
	expect_rc "--period-msec 0 (EINVAL)" 2 bms enable --period-msec 0
	expect_one_line_error "--period-msec 0"
	expect_rc "--period-msec 86400001 (EINVAL)" 2 bms enable --period-msec 86400001
	expect_rc "--hours 0 (EINVAL)" 2 bms enable --hours 0
	expect_rc "--hours 8761 (EINVAL)" 2 bms enable --hours 8761
	expect_rc "--hours without enable" 2 bms status --hours 2
	expect_one_line_error "--hours without enable"
	expect_rc "stat frobnicate" 2 bms frobnicate
	expect_one_line_error "stat frobnicate"
	[[ ! -e $pins ]] || fail "a refused start left pins: $(ls "$pins")"
	expect_rc "stat enable" 0 bms enable
	expect_rc "enable while counting (EALREADY)" 6 bms enable
	expect_one_line_error "enable while counting"
	expect_eq "$(bms status --format json | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["backend"], j["state"], j["period_msec"], j["capacity_periods"])')" \
		"bpf running 1000 3600" "stat status --format json"
	expect_eq "$("$DT" status --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["bpf"]["migration_stat"])')" \
		running "diagnose-tools status shows the stat"
	expect_rc "--format json for the stat itself" 2 bms --format json
	expect_one_line_error "--format json for the stat itself"
	expect_rc "non-root user" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DT" "${BMT[@]}" stat status
	expect_one_line_error "non-root user"
	expect_rc "stat reset" 0 bms reset
	# 3600 periods of 1 ms: over in 3.6 s, with no migration needed
	expect_rc "stat enable, 1 ms periods" 0 bms enable --period-msec 1
	sleep 4
	expect_eq "$(bms_state)" full "state after 3600 periods of 1 ms"
	s=$(bms) || fail "stat"
	expect_grep "state full" "^# state full$" "$s"
	expect_grep "says it stopped itself" "^# counting stopped itself" "$s"
	expect_eq "$(grep -vc '^#' <<<"$s")" 3600 "periods in a full stat"
	expect_grep "last period" "^3\.599 " "$s"
	poll_until 10 bms_programs_gone || fail "stat programs still loaded after it filled"
	expect_rc "enable over a full stat (EEXIST)" 5 bms enable
	expect_one_line_error "enable over a full stat"
	expect_grep "says to reset" "reset" "$ERR"
	expect_rc "stat reset" 0 bms reset
	[[ ! -e $pins ]] || fail "pins left after reset: $(ls "$pins")"
	expect_eq "$(bms_state)" empty "state after reset"
	expect_rc "enable then reset while counting" 0 bms enable
	expect_rc "reset while counting" 0 bms reset
	poll_until 10 bms_programs_gone || fail "stat programs still loaded after reset"
}
register_test test_bpf_ms_refusals_and_full

# bpf_move_gap_has DIR PID TAG: "yes" when the pinned move_gap map
# (bpf/move_gap.bpf.h) of /sys/fs/bpf/diagnose/DIR holds an entry for PID
bpf_move_gap_has() {
	local f=$WORK/bmt-texec/$1-$3.json
	bpftool -j map dump pinned "/sys/fs/bpf/diagnose/$1/expected" >"$f" ||
		{ fail "bpftool map dump of $1/expected"; return; }
	python3 - "$f" "$2" <<'PY'
import json, struct, sys
keys = []
for e in json.load(open(sys.argv[1])):
    k = e["formatted"]["key"] if "formatted" in e else e["key"]
    if isinstance(k, list):
        k = struct.unpack("<i", bytes(int(b, 16) for b in k))[0]
    keys.append(int(k))
print("yes" if int(sys.argv[2]) in keys else "no")
PY
}

# bpf_move_gap_is DIR PID TAG yes|no
bpf_move_gap_is() { [[ $(bpf_move_gap_has "$1" "$2" "$3") == "$4" ]]; }

# A thread that execs takes its leader's pid (de_thread): the entry the
# trace and the stat kept for its old pid, to count moves no program saw,
# moves with it and goes at its exit, or on a long run the table fills
# and checks stop.  The
# entry is checked present before the exec, so that the case can fail.
test_bpf_mt_thread_exec_forgets_old_pid() {
	local d=$WORK/bmt-texec tid pid dir
	require_bpf_mtrace || return 0
	rm -rf "$d" && mkdir -p "$d"
	expect_rc "enable" 0 bmt enable
	expect_rc "stat enable" 0 bms enable
	# a second thread moves from CPU 0 to CPU 1 (the programs keep an
	# entry for its pid: checked while it waits), then execs
	python3 - "$d" <<'PY' &
import os, sys, threading, time
def run():
    os.sched_setaffinity(0, {0})
    os.sched_setaffinity(0, {1})
    with open(sys.argv[1] + "/tid.tmp", "w") as f:
        f.write(str(threading.get_native_id()))
    os.rename(sys.argv[1] + "/tid.tmp", sys.argv[1] + "/tid")
    while not os.path.exists(sys.argv[1] + "/go"):
        time.sleep(0.01)
    os.execv("/bin/sleep", ["sleep", "3"])
threading.Thread(target=run).start()
threading.Event().wait(30)
PY
	pid=$!
	poll_until 20 test -e "$d/tid" || fail "the thread did not move"
	tid=$(cat "$d/tid")
	for dir in migration-trace migration-stat; do
		expect_eq "$(bpf_move_gap_has "$dir" "$tid" before)" yes \
			"$dir: an entry for the moved thread $tid"
	done
	touch "$d/go"
	# the new name comes before sched_process_exec, at which the entry
	# follows the thread to its leader's pid: wait for that
	for dir in migration-trace migration-stat; do
		poll_until 20 bpf_move_gap_is "$dir" "$pid" execd yes ||
			fail "$dir: no entry for pid $pid, the thread after its exec"
		expect_eq "$(bpf_move_gap_has "$dir" "$tid" after)" no \
			"$dir: the old pid $tid's entry after the thread exec"
	done
	wait "$pid" || fail "the exec'ing thread"
	for dir in migration-trace migration-stat; do
		expect_eq "$(bpf_move_gap_has "$dir" "$pid" exited)" no \
			"$dir: pid $pid's entry after the exec'd program exited"
	done
	expect_rc "stop" 0 bmt stop
	expect_rc "reset" 0 bmt reset
	expect_rc "stat reset" 0 bms reset
}
register_test test_bpf_mt_thread_exec_forgets_old_pid
