# SPDX-License-Identifier: GPL-2.0-or-later
# migration_trace/ and migration_stat/ guest cases: the debugfs files as a
# user drives them, against ftrace's sched_migrate_task over the same
# window; the stat against the trace; the kernel API from a test module;
# and migrate-stats / migrate-extract on traces captured here.

MT=/sys/kernel/debug/migration_trace
MS=/sys/kernel/debug/migration_stat
TRACEFS=/sys/kernel/tracing
MT_PARAMS=/sys/module/diagnose/parameters

MT_API=/sys/kernel/debug/mt_api_test/cmd

mt_check() { python3 "$REPO/tests/guest/mt_check.py" "$@"; }

# The errno name of writing VALUE to FILE, or "ok".
write_errno() {
	python3 - "$1" "$2" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    os.write(fd, sys.argv[2].encode())
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

# The errno name of reading FILE to its end, or "ok".
read_errno() {
	python3 - "$1" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    while os.read(fd, 1 << 16):
        pass
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

# expect_errno WHAT WANT GOT
expect_errno() { expect_eq "$3" "$2" "$1"; }

mt_clean() {
	echo 0 >"$MT/reset"
	echo 0 >"$MS/reset"
	echo 1000 >"$MS/period_msec"
	echo 1024 >"$MT_PARAMS/migration_trace_kib"
	echo 1 >"$MT_PARAMS/migration_stat_hours"
}

mt_stop_migrator() {
	kill "$MIG_TGID" 2>/dev/null
	wait "$MIG_TGID" 2>/dev/null
}

# ftrace's sched_migrate_task on, CLOCK_MONOTONIC timestamps like ours
ftrace_on() {
	echo 0 >"$TRACEFS/tracing_on"
	echo mono >"$TRACEFS/trace_clock"
	echo 16384 >"$TRACEFS/buffer_size_kb"
	echo >"$TRACEFS/trace"
	echo 1 >"$TRACEFS/events/sched/sched_migrate_task/enable"
	echo 1 >"$TRACEFS/tracing_on"
}

ftrace_off() {
	echo 0 >"$TRACEFS/tracing_on"
	echo 0 >"$TRACEFS/events/sched/sched_migrate_task/enable"
	cp "$TRACEFS/trace" "$1"
	echo >"$TRACEFS/trace"
	echo local >"$TRACEFS/trace_clock"
}

test_mt_files_and_defaults() {
	mt_clean
	local f
	for f in enable mark reset trace; do
		[[ -e $MT/$f ]] || fail "$MT/$f missing"
	done
	for f in enable period_msec reset stat; do
		[[ -e $MS/$f ]] || fail "$MS/$f missing"
	done
	expect_eq "$(cat "$MT/enable")" "0" "migration_trace/enable at load"
	expect_eq "$(cat "$MS/enable")" "0" "migration_stat/enable at load"
	expect_eq "$(cat "$MS/period_msec")" "1000" "default period_msec"
	expect_eq "$(cat "$MT_PARAMS/migration_trace_kib")" "1024" "default trace buffer KiB"
	expect_eq "$(cat "$MT_PARAMS/migration_stat_hours")" "1" "default stat hours"
	local h
	h=$(cat "$MT/trace")
	expect_grep "trace version" "^# version 1\.1\.0$" "$h"
	expect_grep "nr_cpus" "^# nr_cpus $(nproc)$" "$h"
	expect_grep "ts_field" "^# ts_field 1$" "$h"
	expect_grep "cause list" "^# cause 1 try_to_wake_up$" "$h"
	expect_grep "seed's pull_task" "^# cause 2 pull_task$" "$h"
	expect_grep "other event kinds" "^# loc 35 mark$" "$h"
	expect_grep "empty state" "^# state empty$" "$h"
	expect_eq "$(grep -vc '^#' <<<"$h")" "0" "events in an empty trace"
	h=$(cat "$MS/stat")
	expect_grep "stat field migrate" "^# field 18 migrate$" "$h"
	expect_grep "stat field of a cause" "^# field 3 try_to_wake_up$" "$h"
	expect_grep "stat ts_field" "^# ts_field 1$" "$h"
	# out-of-range sizes are refused and change nothing
	expect_errno "trace KiB 0" EINVAL "$(write_errno "$MT_PARAMS/migration_trace_kib" 0)"
	expect_errno "trace KiB 1048577" EINVAL "$(write_errno "$MT_PARAMS/migration_trace_kib" 1048577)"
	expect_errno "stat hours 8761" EINVAL "$(write_errno "$MT_PARAMS/migration_stat_hours" 8761)"
	expect_eq "$(cat "$MT_PARAMS/migration_trace_kib")" "1024" "trace KiB after bad writes"
}
register_test test_mt_files_and_defaults

test_mt_refusals_have_their_errno() {
	mt_clean
	# garbage
	local v
	for v in 2 abc "" -1 "1 1"; do
		expect_errno "enable '$v'" EINVAL "$(write_errno "$MT/enable" "$v")"
		expect_errno "stat enable '$v'" EINVAL "$(write_errno "$MS/enable" "$v")"
	done
	expect_errno "reset 1" EINVAL "$(write_errno "$MT/reset" 1)"
	expect_errno "stat reset x" EINVAL "$(write_errno "$MS/reset" x)"
	expect_errno "mark xyz" EINVAL "$(write_errno "$MT/mark" xyz)"
	expect_errno "period_msec 0" EINVAL "$(write_errno "$MS/period_msec" 0)"
	expect_errno "period_msec abc" EINVAL "$(write_errno "$MS/period_msec" abc)"
	expect_errno "period_msec 86400001" EINVAL "$(write_errno "$MS/period_msec" 86400001)"
	expect_errno "mark while stopped" EPIPE "$(write_errno "$MT/mark" 5)"

	# the trace
	expect_errno "start" ok "$(write_errno "$MT/enable" 1)"
	expect_eq "$(cat "$MT/enable")" "1" "enable reads 1 while tracing"
	expect_errno "start while tracing" EALREADY "$(write_errno "$MT/enable" 1)"
	expect_errno "read trace while tracing" EBUSY "$(read_errno "$MT/trace")"
	expect_errno "mark while tracing" ok "$(write_errno "$MT/mark" 0x1234)"
	expect_errno "stop" ok "$(write_errno "$MT/enable" 0)"
	expect_errno "stop again" ok "$(write_errno "$MT/enable" 0)"
	expect_eq "$(cat "$MT/enable")" "0" "enable reads 0 when stopped"
	expect_errno "restart over a trace" EEXIST "$(write_errno "$MT/enable" 1)"
	expect_errno "read stopped trace" ok "$(read_errno "$MT/trace")"
	expect_grep "the mark survived the refusals" " 35 0x00001234$" "$(cat "$MT/trace")"
	expect_errno "reset" ok "$(write_errno "$MT/reset" 0)"
	expect_grep "reset empties" "^# state empty$" "$(cat "$MT/trace")"
	expect_errno "start after reset" ok "$(write_errno "$MT/enable" 1)"
	expect_errno "reset while tracing" ok "$(write_errno "$MT/reset" "0")"
	expect_eq "$(cat "$MT/enable")" "0" "reset stops tracing"

	# the stat
	expect_errno "stat start" ok "$(write_errno "$MS/enable" 1)"
	expect_eq "$(cat "$MS/enable")" "1" "stat enable reads 1 while counting"
	expect_errno "stat start while counting" EALREADY "$(write_errno "$MS/enable" 1)"
	expect_errno "period change while counting" ENOTEMPTY "$(write_errno "$MS/period_msec" 10)"
	expect_errno "stat read while counting" ok "$(read_errno "$MS/stat")"
	expect_errno "stat stop" ok "$(write_errno "$MS/enable" 0)"
	expect_errno "period change on a stopped stat" ENOTEMPTY "$(write_errno "$MS/period_msec" 10)"
	expect_errno "stat restart over data" EEXIST "$(write_errno "$MS/enable" 1)"
	expect_errno "stat reset" ok "$(write_errno "$MS/reset" 0)"
	expect_errno "period change when empty" ok "$(write_errno "$MS/period_msec" 10)"
	expect_eq "$(cat "$MS/period_msec")" "10" "period_msec after a change"
	mt_clean
}
register_test test_mt_refusals_have_their_errno

# Every migration in our trace is one of ftrace's sched_migrate_task events
# with orig_cpu != dest_cpu, task by task, in order, and none is missing:
# ftrace runs from before our start to after our stop, both stamp
# CLOCK_MONOTONIC, and both are compared over [A, B], instants between our
# begin and end marks with no event of either within 1 ms.
test_mt_matches_ftrace_per_pid() {
	mt_clean
	local d=$WORK/mt-ftrace
	start_migrator "$d" 24 2 3000 || return 1
	ftrace_on
	echo 1 >"$MT/enable"
	echo 0xb0 >"$MT/mark"
	sleep 0.1
	kill -USR1 "$MIG_TGID"
	"$PROGS/migration_storm" 2 3000 >/dev/null
	wait_for "$d/done" 120
	wait_all_asleep "$MIG_TGID"
	sleep 0.1
	echo 0xe0 >"$MT/mark"
	echo 0 >"$MT/enable"
	ftrace_off "$d/ftrace.txt"
	cp "$MT/trace" "$d/trace"
	cp "$d/trace" "$WORK/mt-sample-trace"
	echo "$MIG_TGID $MIG_WORKER" >"$WORK/mt-sample-pids"

	local window a b
	window=$(mt_check window "$d/trace" "$d/ftrace.txt" 0xb0 0xe0) || {
		fail "window: $window"
		return 1
	}
	read -r a b <<<"$window"
	echo "  window [$a, $b] ns"
	mt_check compare "$d/trace" "$d/ftrace.txt" "$a" "$b" || fail "trace and ftrace disagree"
	local n
	n=$(mt_check count "$d/trace" "$a" "$b")
	((n >= 3000)) || fail "only $n migrations in the window; the storm alone makes 3000"
	# the workload's threads are all inside the window
	expect_eq "$(mt_check pids "$d/trace" "$a" "$b" | awk -v p="$MIG_WORKER" '$1 == p {print $2}')" \
		"$(mt_check pids "$d/trace" 0 99999999999999999 | awk -v p="$MIG_WORKER" '$1 == p {print $2}')" \
		"worker migrations inside the window = in the whole trace"

	# migrate-stats reads the same thing ftrace saw
	"$DT" migrate-stats --stats --format json --begin_ts "$a" --end_ts "$b" "$d/trace" \
		>"$d/stats.json" || fail "migrate-stats failed"
	expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["migrations"])' "$d/stats.json")" \
		"$n" "migrate-stats count over the window"
	mt_stop_migrator
}
register_test test_mt_matches_ftrace_per_pid

# Trace and stat together over one window: every period of the stat
# (every cause, fork placements and migrate) equals what the trace holds
# for that period, and so does migrate-stats --period on the trace.
test_mt_stat_equals_trace() {
	mt_clean
	local d=$WORK/mt-stat
	start_migrator "$d" 16 2 2000 || return 1
	echo 100 >"$MS/period_msec"
	echo 1 >"$MT/enable"
	sleep 0.05
	echo 1 >"$MS/enable"
	kill -USR1 "$MIG_TGID"
	"$PROGS/migration_storm" 2 1500 >/dev/null
	wait_for "$d/done" 120
	wait_all_asleep "$MIG_TGID"
	sleep 0.3
	echo 0 >"$MS/enable"
	sleep 0.05
	echo 0 >"$MT/enable"
	cp "$MS/stat" "$d/stat"
	cp "$MT/trace" "$d/trace"
	cp "$d/stat" "$WORK/mt-sample-stat"
	expect_grep "stat stopped" "^# state stopped$" "$(cat "$d/stat")"
	mt_check stat "$d/stat" "$d/trace" || fail "stat and trace disagree"

	# the CLI's periods, aligned on the stat's start, give the same rows
	local start k
	start=$(awk '$2 == "start_ts" {print $3}' "$d/stat")
	k=$(grep -vc '^#' "$d/stat")
	"$DT" migrate-stats --period 100 --period_all --begin_ts "$start" "$d/trace" >"$d/cli-stat" ||
		fail "migrate-stats --period failed"
	local col
	col=$("$DT" migrate-extract --field_num migrate "$d/stat")
	expect_eq "$(grep -v '^#' "$d/cli-stat" | head -n "$k" | awk '{print $1, $2}')" \
		"$(grep -v '^#' "$d/stat" | awk -v c="$col" '{print $1, $c}')" \
		"migrate-stats --period rows = the kernel's stat rows"
	mt_stop_migrator
	mt_clean
}
register_test test_mt_stat_equals_trace

test_mt_marks_in_order() {
	mt_clean
	insmod "$MT_API_KO" || { fail "insmod mt_api_test"; return 1; }
	echo 1 >"$MT/enable"
	local i pids=()
	for i in 1 2 3; do
		pids+=("$(python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); os.write(fd, sys.argv[2].encode()); print(os.getpid())' "$MT/mark" "$i")")
		# a running task moved from CPU 0 to CPU 1: one sure migration
		python3 -c 'import os; os.sched_setaffinity(0, {0}); os.sched_setaffinity(0, {1})'
	done
	echo "mark 4" >"$MT_API"
	echo "mark_irq 5" >"$MT_API" || fail "mark from hard interrupt context"
	echo 0x6 >"$MT/mark"
	echo 0 >"$MT/enable"
	cp "$MT/trace" "$WORK/mt-marks-trace"
	local marks
	marks=$(mt_check marks "$WORK/mt-marks-trace")
	expect_eq "$(awk '{print $2}' <<<"$marks" | tr '\n' ' ')" "0x1 0x2 0x3 0x4 0x5 0x6 " \
		"marks in order, each once"
	expect_eq "$(head -3 <<<"$marks" | awk '{print $1}' | tr '\n' ' ')" "${pids[*]} " \
		"a mark carries the pid of its writer"
	# timestamps of the mark lines increase
	expect_eq "$(grep ' 35 0x' "$MT/trace" | awk '{print $1}' | sort -c && echo sorted)" \
		"sorted" "mark timestamps"
	# begin/end mark filters cut the trace at those marks
	local rows
	rows=$("$DT" migrate-stats --migrate --begin_mark 2 --end_mark 5 "$WORK/mt-marks-trace")
	local lo hi
	lo=$(grep ' 35 0x00000002$' "$WORK/mt-marks-trace" | awk '{print $1}')
	hi=$(grep ' 35 0x00000005$' "$WORK/mt-marks-trace" | awk '{print $1}')
	expect_eq "$(awk -v lo="$lo" -v hi="$hi" '$1 < lo || $1 > hi' <<<"$rows")" "" \
		"--migrate rows between marks 2 and 5"
	expect_eq "$(grep -c ' 0 1 [0-9]* python3 __migrate_task$' <<<"$rows")" "2" \
		"the two moves made between marks 2 and 5"

	rmmod mt_api_test
	mt_clean
}
register_test test_mt_marks_in_order

test_mt_kernel_api() {
	mt_clean
	insmod "$MT_API_KO" || { fail "insmod mt_api_test"; return 1; }
	expect_errno "mt_trace_enable(1, 0)" ok "$(write_errno "$MT_API" "enable 1 0")"
	expect_eq "$(cat "$MT/enable")" "1" "enable file after mt_trace_enable(1, 0)"
	expect_errno "mt_trace_enable(1, 0) while tracing" EALREADY "$(write_errno "$MT_API" "enable 1 0")"
	expect_errno "mt_trace_enable(2, 0)" EINVAL "$(write_errno "$MT_API" "enable 2 0")"
	expect_errno "mt_trace_mark()" ok "$(write_errno "$MT_API" "mark 77")"
	expect_errno "mt_trace_enable(0, 0)" ok "$(write_errno "$MT_API" "enable 0 0")"
	expect_eq "$(cat "$MT/enable")" "0" "enable file after mt_trace_enable(0, 0)"
	expect_errno "mt_trace_enable(1, 0) over a trace" EEXIST "$(write_errno "$MT_API" "enable 1 0")"
	expect_errno "mt_trace_enable(1, 1): restart" ok "$(write_errno "$MT_API" "enable 1 1")"
	expect_errno "mt_trace_mark() after the restart" ok "$(write_errno "$MT_API" "mark 78")"
	expect_errno "mt_trace_enable(0, 0)" ok "$(write_errno "$MT_API" "enable 0 0")"
	local t
	t=$(cat "$MT/trace")
	expect_grep "two starts in the header" "^# starts 2$" "$t"
	expect_eq "$(grep -c ' start_sched_clock ' <<<"$t")" "$((2 * $(nproc)))" \
		"start_sched_clock events: one per CPU per start"
	expect_eq "$(grep ' 35 0x' <<<"$t" | awk '{print $7}' | tr '\n' ' ')" "0x0000004d 0x0000004e " \
		"marks from the API"
	expect_rc "diagnose cannot go while a user of its API is loaded" 1 rmmod diagnose
	expect_rc "rmmod mt_api_test" 0 rmmod mt_api_test
	mt_clean
}
register_test test_mt_kernel_api

# A start records the CPUs' clocks and every task, and the names follow
# the tasks as they are created and renamed.
test_mt_start_events_and_names() {
	mt_clean
	echo 1 >"$MT/enable"
	local self=$BASHPID
	bash -c 'exec -a mt-renamed sleep 0.01' &
	local child=$!
	wait "$child"
	python3 -c 'import ctypes; ctypes.CDLL(None).prctl(15, b"mt-prctl-name", 0, 0, 0)'
	echo 0 >"$MT/enable"
	local t
	t=$(cat "$MT/trace")
	local ncpu
	ncpu=$(nproc)
	expect_eq "$(grep -c ' start_sched_clock ' <<<"$t")" "$ncpu" "start_sched_clock events"
	local now
	now=$(date +%s)
	grep ' start_sched_clock ' <<<"$t" | while read -r _ _ _ _ _ _ sec _; do
		((sec > now - 60 && sec <= now)) || echo "  FAILED: start_sched_clock wall time $sec, now $now"
	done | grep -q FAILED && fail "wall-clock time of a start event"
	# the task list: every thread alive at the start, init among them
	expect_grep "task_list has init" "^0x[0-9a-f]{16} [0-9]+ \. \. 1 34 : " "$t"
	expect_grep "task_list has this shell" "^0x[0-9a-f]{16} [0-9]+ \. \. $self 34 : " "$t"
	local threads
	threads=$(grep -c ' 34 : ' <<<"$t")
	((threads >= $(ls -d /proc/[0-9]*/task/[0-9]* | wc -l) - 20)) ||
		fail "task_list has $threads tasks, /proc far more"
	expect_grep "copy_process of the child" "^0x[0-9a-f]{16} [0-9]+ \. \. $child 32 : " "$t"
	expect_grep "set_task_comm at exec" "^0x[0-9a-f]{16} [0-9]+ \. \. $child 33 : sleep$" "$t"
	expect_grep "set_task_comm by prctl" " 33 : mt-prctl-name$" "$t"
	# every line has one of the documented shapes
	expect_eq "$(grep -vE '^#|^0x[0-9a-f]{16} [0-9]+ ([0-9]+ [0-9]+ [0-9]+ [0-9]+|\. \. [0-9]+ (32|33|34) : .*|\. \. [0-9]+ 35 0x[0-9a-f]{8,16}|\. \. \. start_sched_clock [0-9]+ [0-9]+)$' <<<"$t")" \
		"" "lines of an unknown shape"
	# timestamps never go back, so `sort` changes nothing
	expect_eq "$(grep -v '^#' <<<"$t" | awk '{print $1}' | sort -c && echo sorted)" "sorted" \
		"event timestamps never go back"
	mt_clean
}
register_test test_mt_start_events_and_names

# A per-CPU buffer that fills stops the trace everywhere, by itself.
test_mt_full_buffer_stops_tracing() {
	mt_clean
	insmod "$MT_API_KO" || { fail "insmod mt_api_test"; return 1; }
	echo 64 >"$MT_PARAMS/migration_trace_kib"
	echo 1 >"$MT/enable"
	# 5000 marks of 32 bytes cannot fit in 64 KiB
	taskset -c 0 sh -c "echo 'marks 5000 4096' >$MT_API"
	local deadline=$((SECONDS + 10 * WAIT_SCALE))
	while [[ $(cat "$MT/enable") != 0 ]] && ((SECONDS < deadline)); do sleep 0.05; done
	expect_eq "$(cat "$MT/enable")" "0" "enable after the buffer filled"
	expect_errno "mark after the stop" EPIPE "$(write_errno "$MT/mark" 1)"
	expect_errno "start over a full trace" EEXIST "$(write_errno "$MT/enable" 1)"
	expect_errno "restart of a full trace by the API" ENOSPC "$(write_errno "$MT_API" "enable 1 1")"
	local t
	t=$(cat "$MT/trace")
	expect_grep "state full" "^# state full$" "$t"
	expect_grep "which CPU" "^# full_cpu 0$" "$t"
	expect_grep "says it stopped itself" "^# tracing stopped itself: the buffer of CPU 0 filled \(64 KiB per CPU\)" "$t"
	expect_grep "buffer size" "^# buffer_kib 64$" "$t"
	local bytes
	bytes=$(grep -v '^#' <<<"$t" | awk '$2 == 0 {n += ($6 == 32 || $6 == 33 || $6 == 34) ? 40 : 32} END {print n}')
	((bytes > 60 * 1024 && bytes <= 64 * 1024)) || fail "CPU 0 holds $bytes bytes of events, not a full 64 KiB"
	local marks
	marks=$(grep -c ' 35 0x' <<<"$t")
	((marks > 1000 && marks < 5000)) || fail "$marks marks recorded"
	expect_grep "lost count" "^# lost [1-9]" "$t"
	printf '%s\n' "$t" >"$WORK/mt-full"
	expect_rc "migrate-stats on a full trace" 0 "$DT" migrate-stats "$WORK/mt-full"
	expect_grep "stats say it filled" "stopped itself when the buffer of CPU 0 filled" "$OUT"
	rmmod mt_api_test
	mt_clean
	expect_eq "$(cat "$MT/enable")" "0" "reset after full"
	expect_errno "start after reset" ok "$(write_errno "$MT/enable" 1)"
	expect_errno "stop" ok "$(write_errno "$MT/enable" 0)"
	expect_grep "new buffers take the new size" "^# buffer_kib 1024$" "$(cat "$MT/trace")"
	mt_clean
}
register_test test_mt_full_buffer_stops_tracing

# The stat stops by itself when its time runs out: 1 hour of 1 s periods
# is 3600 periods, 3.6 s at 1 ms.
test_mt_stat_stops_when_full() {
	mt_clean
	echo 1 >"$MS/period_msec"
	echo 1 >"$MS/enable"
	sleep 4
	expect_eq "$(cat "$MS/enable")" "0" "stat enable after 3600 periods of 1 ms"
	local s
	s=$(cat "$MS/stat")
	expect_grep "state full" "^# state full$" "$s"
	expect_eq "$(grep -vc '^#' <<<"$s")" "3600" "periods in a full stat"
	expect_grep "last period" "^3\.599 " "$s"
	expect_errno "start over a full stat" EEXIST "$(write_errno "$MS/enable" 1)"
	mt_clean
}
register_test test_mt_stat_stops_when_full

test_mt_analysis_commands() {
	local tr=$WORK/mt-sample-trace st=$WORK/mt-sample-stat d=$WORK/mt-cli
	[[ -s $tr && -s $st ]] || { fail "run with test_mt_matches_ftrace_per_pid and test_mt_stat_equals_trace"; return 1; }
	mkdir -p "$d"
	local tgid worker
	read -r tgid worker <"$WORK/mt-sample-pids"
	local total
	total=$(mt_check count "$tr")
	expect_rc "default stats" 0 "$DT" migrate-stats "$tr"
	echo "$OUT" | head -12 | sed 's/^/  | /'
	expect_grep "migration count" "^migrations: $total " "$OUT"
	expect_grep "cause table" "^CAUSE +NUMBER +COUNT +PERCENT$" "$OUT"
	expect_grep "matrix" "^FROM\\\\TO +0 +1 +TOTAL$" "$OUT"
	expect_rc "json stats" 0 "$DT" migrate-stats --stats --format json "$tr"
	printf '%s\n' "$OUT" >"$d/stats.json"
	python3 - "$total" "$d/stats.json" <<'PY' || fail "json stats do not add up"
import json, sys
j = json.load(open(sys.argv[2]))
s = j["stats"]
total = int(sys.argv[1])
assert s["migrations"] == total, (s["migrations"], total)
assert sum(c["count"] for c in s["by_cause"]) == total
assert sum(map(sum, s["from_to"])) == total
assert sum(t["migrations"] for t in s["tasks"]) == total
assert j["trace"]["nr_cpus"] >= 2
PY
	# --migrate rows: one per migration, the worker named
	expect_rc "--migrate --ts_rel" 0 "$DT" migrate-stats --migrate --ts_rel "$tr"
	expect_eq "$(grep -c . <<<"$OUT")" "$total" "--migrate rows"
	expect_grep "row shape" "^[0-9]+\.[0-9]{6} [0-9]+ [0-9]+ [0-9]+ $worker mig-worker __migrate_task$" "$OUT"
	expect_rc "--migrate --ts_abs" 0 "$DT" migrate-stats --migrate --ts_abs "$tr"
	expect_grep "wall-clock rows" "^1[0-9]{9}\.[0-9]{6} " "$OUT"
	# the worker alone, by pid and by name
	local wcount
	wcount=$(mt_check pids "$tr" 0 99999999999999999 | awk -v p="$worker" '$1 == p {print $2}')
	expect_rc "--pid" 0 "$DT" migrate-stats --migrate --pid "$worker" "$tr"
	expect_eq "$(grep -c . <<<"$OUT")" "$wcount" "--pid rows = the worker's migrations"
	expect_rc "--comm" 0 "$DT" migrate-stats --migrate --comm mig-worker "$tr"
	expect_eq "$(grep -c . <<<"$OUT")" "$wcount" "--comm rows = the worker's migrations"
	expect_rc "--exclude_pid" 0 "$DT" migrate-stats --migrate --exclude_pid "$worker" "$tr"
	expect_eq "$(grep -c . <<<"$OUT")" "$((total - wcount))" "--exclude_pid rows"
	expect_rc "--cause" 0 "$DT" migrate-stats --migrate --cause __migrate_task --cpu 0-1 "$tr"
	expect_eq "$(awk '$7 != "__migrate_task"' <<<"$OUT")" "" "--cause keeps only that cause"
	# sorted input and stdin give the same answer
	expect_eq "$(sort "$tr" | "$DT" migrate-stats --stats - | md5sum)" \
		"$("$DT" migrate-stats --stats "$tr" | md5sum)" "sort trace | migrate-stats -"
	# --period files and migrate-extract
	expect_rc "--period" 0 "$DT" migrate-stats --period 200 --period_all --period_cause \
		--period_cpu --period_cpu_pair "$tr"
	printf '%s\n' "$OUT" >"$d/period.stat"
	expect_grep "period header" "^# period_msec 200$" "$OUT"
	local max min mig
	max=$("$DT" migrate-extract --max_field "$d/period.stat")
	min=$("$DT" migrate-extract --min_field "$d/period.stat")
	mig=$("$DT" migrate-extract --field_num migrate "$d/period.stat")
	expect_eq "$min" "2" "--min_field"
	expect_eq "$mig" "2" "--field_num migrate"
	expect_eq "$("$DT" migrate-extract --field_name "$max" "$d/period.stat")" \
		"$(awk -v m="$max" '$2 == "field" && $3 == m {print $4}' "$d/period.stat")" "--field_name of --max_field"
	# the per-second values, back to counts, add up to the periods' migrations
	local extracted counted
	extracted=$("$DT" migrate-extract --extract "$mig" "$d/period.stat" | awk '{s += $2 * 0.2} END {printf "%d", s + 0.5}')
	counted=$(grep -v '^#' "$d/period.stat" | awk '{s += $2} END {print s}')
	expect_eq "$extracted" "$counted" "--extract per second x period = counts"
	expect_eq "$("$DT" migrate-extract --extract migrate "$d/period.stat")" \
		"$("$DT" migrate-extract --extract "$mig" "$d/period.stat")" "--extract by name = by number"
	expect_rc "--extract json" 0 "$DT" migrate-extract --extract "$mig" --format json "$d/period.stat"
	expect_grep "json rows" '"per_sec"' "$OUT"
	# the kernel's stat file too
	expect_eq "$("$DT" migrate-extract --field_num migrate "$st")" "18" "kernel stat: field of migrate"
	expect_rc "kernel stat extract" 0 "$DT" migrate-extract --extract 18 "$st"
	# charts
	expect_rc "migrate-stats --plot" 0 "$DT" migrate-stats --plot "$d/trace.svg" --period 100 \
		--period_all --period_cause "$tr"
	expect_rc "migrate-extract --plot" 0 "$DT" migrate-extract --plot "$d/stat.svg" "$st"
	local svg
	for svg in "$d/trace.svg" "$d/stat.svg"; do
		python3 - "$svg" <<'PY' || fail "$svg is not a readable chart"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
texts = [t.text or "" for t in root.iter(ns + "text")]
assert any("per second" in t for t in texts), "y axis label"
assert any("(s)" in t for t in texts), "x axis label with its unit"
assert "migrate" in texts, "legend entry"
assert len(list(root.iter(ns + "polyline"))) >= 1, "a line"
PY
	done
	[[ -n ${DIAG_OUT:-} ]] && cp "$d/trace.svg" "$DIAG_OUT/migrate-stats.svg" 2>/dev/null
	# refusals: one line, the right exit code
	expect_rc "unknown cause" 2 "$DT" migrate-stats --cause nosuch "$tr"
	expect_one_line_error "unknown cause"
	expect_rc "missing mark" 2 "$DT" migrate-stats --begin_mark 0x999999 "$tr"
	expect_one_line_error "missing mark"
	expect_rc "not a trace" 4 "$DT" migrate-stats "$st"
	expect_one_line_error "not a trace"
	expect_rc "missing file" 2 "$DT" migrate-stats /nonexistent
	expect_one_line_error "missing file"
	expect_rc "--period_cause without --period" 2 "$DT" migrate-stats --period_cause "$tr"
	expect_one_line_error "--period_cause without --period"
	expect_rc "no such field" 2 "$DT" migrate-extract --extract 99 "$st"
	expect_one_line_error "no such field"
	expect_rc "extract nothing" 2 "$DT" migrate-extract "$st"
	expect_one_line_error "extract nothing"
	expect_rc "--help_format" 0 "$DT" migrate-stats --help_format
	expect_grep "help_format explains migration lines" "0x<ts> CPU OLD NEW PID CAUSE#" "$OUT"
	# the live files
	mt_clean
	echo 1 >"$MT/enable"
	expect_rc "live trace while tracing" 1 "$DT" migrate-stats
	expect_one_line_error "live trace while tracing"
	expect_grep "says stop first" "tracing is running" "$ERR"
	taskset -c 0 true
	echo 0 >"$MT/enable"
	expect_rc "live trace" 0 "$DT" migrate-stats --stats
	expect_grep "live stats" "^migrations: [0-9]+" "$OUT"
	expect_rc "non-root" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$DT" migrate-stats
	expect_one_line_error "non-root"
	mt_clean
}
register_test test_mt_analysis_commands

# Unloading while both run under load leaves nothing behind.
test_mt_rmmod_while_tracing() {
	mt_clean
	echo 1 >"$MT/enable"
	echo 1 >"$MS/enable"
	"$PROGS/migration_storm" 2 1000000 >/dev/null &
	local storm=$!
	sleep 1
	expect_rc "rmmod while tracing under load" 0 rmmod diagnose
	[[ ! -e $MT ]] || fail "$MT still there after rmmod"
	kill "$storm"
	wait "$storm" 2>/dev/null
	expect_rc "insmod again" 0 insmod "$MODULE"
	expect_eq "$(cat "$MT/enable") $(cat "$MS/enable")" "0 0" "a fresh module is stopped"
}
register_test test_mt_rmmod_while_tracing
