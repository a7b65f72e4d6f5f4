# SPDX-License-Identifier: GPL-2.0-or-later
# resource-image guest cases: the module's samples against the kernel's own
# accounting of the same task: /proc/PID/stat utime+stime (read by the
# program itself at the edges of its work), /proc/PID/io rchar/wchar,
# /proc/PID/status VmRSS, CLOCK_THREAD_CPUTIME_ID.  The workload is
# tests/guest/progs/resburn.c.

RI=(resource-image)

# start_resburn DIR INTERVAL_MS PHASE...: sets RB_PID
start_resburn() {
	start_prog resburn "$@" || return 1
	RB_PID=$PROG_PID
	wait_sigwait "$RB_PID"
}

# "RCHAR WCHAR" of a process (live threads and dead ones)
proc_io() { awk '$1 == "rchar:" {r = $2} $1 == "wchar:" {w = $2} END {print r, w}' "/proc/$1/io"; }

vmrss_bytes() { awk '$1 == "VmRSS:" {print $2 * 1024}' "/proc/$1/status"; }

# ri_abort [PID]: a round that failed leaves nothing active for the next
# case: the function deactivated, its workload (resburn by default)
# killed, with where it was for the log.
ri_abort() {
	local p=${1:-$RB_PID}
	echo "  workload $p: wchan $(cat "/proc/$p/wchan" 2>/dev/null)," \
		"state $(awk '$1 == "State:" {print $2}' "/proc/$p/status" 2>/dev/null)"
	"$DT" "${RI[@]}" --deactivate >/dev/null 2>&1
	kill -KILL "$p"
	wait "$p" 2>/dev/null
}

# ri_round DIR ACTIVATE INTERVAL PHASE...: runs resburn's phases with
# resource-image active; DIR gets io0, io1, rss, report.json.
ri_round() {
	local d=$1 activate=$2 interval=$3
	shift 3
	start_resburn "$d" "$interval" "$@" || return 1
	activate=${activate//@PID@/$RB_PID}
	expect_rc "activate $activate" 0 "$DT" "${RI[@]}" --activate="$activate,interval=$interval"
	proc_io "$RB_PID" >"$d/io0"
	kill -USR1 "$RB_PID"
	# after the nap that closes its last interval, asleep for good; a
	# round that fails leaves nothing active for the next case
	if ! wait_for "$d/done" 120 || ! wait_sigwait "$RB_PID"; then
		ri_abort
		return 1
	fi
	proc_io "$RB_PID" >"$d/io1"
	vmrss_bytes "$RB_PID" >"$d/rss"
	"$DT" "${RI[@]}" --report --format json >"$d/report.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${RI[@]}" --deactivate >/dev/null
}

stop_resburn() {
	kill -USR1 "$RB_PID" 2>/dev/null
	wait "$RB_PID" 2>/dev/null
}

# The CPU percent of every sample of PID inside the phase the program
# marked in DIR/FILE must be within 5 points of what /proc/PID/stat
# (utime + stime, read by the program every 10 ms) says over the same
# interval.  At least MIN such samples.
expect_cpu_matches_stat() {
	local d=$1 file=$2 pid=$3 min=$4 i j ours stat secs rows=()
	image_check ri-vs-stat "$d/report.json" "$pid" "$d/$file" >"$d/$file.vs"
	mapfile -t rows <"$d/$file.vs"
	for i in "${!rows[@]}"; do
		read -r ours stat _ _ _ secs _ <<<"${rows[i]}"
		if awk -v a="$ours" -v b="$stat" 'BEGIN {d = a - b; exit !(d <= 5 && d >= -5)}'; then
			echo "  ok: sample CPU $ours%, /proc/$pid/stat over its interval $stat%"
			continue
		fi
		# /proc's figure is interpolated between the program's marks, and
		# a guest stopped by its loaded host while a mark is taken puts
		# a boundary tens of ms off: then a neighbour shows the opposite
		# error, and the pair agrees (CPU time moved, none missing); a
		# neighbour is the sample whose interval touches this one's
		for j in $((i - 1)) $((i + 1)); do
			((j >= 0 && j < ${#rows[@]})) || continue
			if awk -v a="${rows[i]}" -v b="${rows[j]}" 'BEGIN {
				split(a, x, " "); split(b, y, " ")
				gap = x[7] >= y[8] ? x[7] - y[8] : y[7] - x[8]
				if (gap < 0 || gap > 1000000)
					exit 1
				t = x[6] + y[6]
				d = (x[1] * x[6] + y[1] * y[6] - x[2] * x[6] - y[2] * y[6]) / t
				e = x[1] - x[2]
				exit !(d <= 2.5 && d >= -2.5 && e <= 12 && e >= -12)
			}'; then
				echo "  ok: sample CPU $ours% against /proc/$pid/stat's $stat%, and with its neighbour (${rows[j]%% *}%) within 2.5 points of /proc's: a boundary of /proc's interpolation off"
				continue 2
			fi
		done
		fail "sample CPU $ours% is not within 5 points of /proc/$pid/stat's $stat% over its interval (${secs}s), nor made up by a neighbour: $(tr '\n' ';' <"$d/$file.vs")"
	done
	((${#rows[@]} >= min)) || fail "only ${#rows[@]} samples inside the $file phase, expected at least $min"
}

test_ri_matches_proc_accounting() {
	local d=$WORK/ri-all pid
	ri_round "$d" "tgid=@PID@" 1000 cpu:4500:50 io:4096 mem:32 burst:1024:30 || return 1
	pid=$RB_PID
	image_check ri-ours "$d/report.json" >"$d/ours"
	local r0 w0 r1 w1
	read -r r0 w0 <"$d/io0"
	read -r r1 w1 <"$d/io1"
	expect_eq "$(kv rchar <"$d/ours")" "$((r1 - r0))" "bytes read (samples vs /proc/PID/io rchar)"
	expect_eq "$(kv wchar <"$d/ours")" "$((w1 - w0))" "bytes written (samples vs /proc/PID/io wchar)"
	expect_cpu_matches_stat "$d" cpu "$pid" 3
	# memory: the last sample of the main thread against VmRSS now (asleep since)
	local rss ours_rss
	rss=$(cat "$d/rss")
	ours_rss=$(kv "last_rss.$pid" <"$d/ours")
	echo "  VmRSS $rss, last sample $ours_rss"
	((rss > 32 * 1024 * 1024)) || fail "VmRSS $rss does not show the 32 MiB touched"
	local diff=$((ours_rss - rss)) slack=${RI_RSS_SLACK:-4096}
	if ((diff <= slack && diff >= -slack)); then
		echo "  ok: RSS of the last sample is VmRSS within $slack bytes"
	else
		fail "RSS of the last sample $ours_rss is not VmRSS $rss within $slack bytes"
		python3 -c '
import json, sys
for s in json.load(open(sys.argv[1]))["samples"][-6:]:
    print("   ", s["pid"], s["start_ns"], s["ts_ns"], s["rss_bytes"], s["rss_unsynced_bytes"],
          s["nvcsw"], s["nivcsw"], s["exited"], s["while_running"])' "$d/report.json"
	fi
	# the short-lived thread: sampled at its exit with exactly its I/O and CPU
	local tid cputime elapsed
	read -r tid cputime elapsed <"$d/burst"
	expect_eq "$(kv "exited.$tid" <"$d/ours")" 1 "exit sample of the short-lived thread"
	expect_eq "$(kv "wchar.$tid" <"$d/ours")" 1048576 "bytes the short-lived thread wrote"
	local total
	total=$(kv "cpu_total.$tid" <"$d/ours")
	# after its last clock read the thread can only have run for the time
	# until the join returned (a guest stop there is charged to it), plus
	# the exit path after the joiner's wakeup
	if ((total >= cputime && total < cputime + elapsed + 20000000)); then
		echo "  ok: CPU of the short-lived thread $total ns, CLOCK_THREAD_CPUTIME_ID $cputime ns" \
			"$elapsed ns before the join returned"
	else
		fail "CPU of the short-lived thread $total ns, its CLOCK_THREAD_CPUTIME_ID said $cputime" \
			"$elapsed ns before the join returned"
	fi
	expect_eq "$(kv pids <"$d/ours")" "$(printf '%s\n' "$pid" "$tid" | sort -n | paste -sd,)" \
		"tasks in the report"
	# intervals: no sample but a task's last is shorter than the interval
	local short
	short=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for s in r["samples"] if not s["exited"] and s["interval_ns"] < 1000e6))' "$d/report.json")
	expect_eq "$short" 0 "samples shorter than the interval"
	stop_resburn
}
register_test test_ri_matches_proc_accounting

# A task that never sleeps still gets a sample per interval (from the
# scheduler tick while it runs), and its CPU time is that of /proc/PID/stat.
test_ri_busy_task_sampled_without_switches() {
	local d=$WORK/ri-spin
	ri_round "$d" "pid=@PID@" 1000 spin:4500 || return 1
	expect_cpu_matches_stat "$d" spin "$RB_PID" 3
	# it never slept; samples taken while it ran (the tick) show that it
	# needs no switch of its own to be sampled
	local voluntary running
	voluntary=$(awk '{s += $3} END {print s + 0}' "$d/spin.vs")
	running=$(awk '$5 == 1' "$d/spin.vs" | wc -l)
	expect_eq "$voluntary" 0 "voluntary switches while spinning"
	echo "  $running of $(wc -l <"$d/spin.vs") samples taken while it ran"
	((running >= 1)) || fail "no sample was taken while the task ran"
	stop_resburn
}
register_test test_ri_busy_task_sampled_without_switches

# A thread that works for less than an interval and then sleeps is sampled
# by the next report (off-cpu), with exactly the I/O of /proc/PID/io and
# the CPU time of /proc/PID/stat, instead of showing nothing until it runs
# again; a later report gives it an idle sample of its own.
test_ri_sleeper_sampled_by_report() {
	local d=$WORK/ri-sleeper pid
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/go" "$d/end"
	python3 - "$d" <<'PY' &
import os, sys, time
d = sys.argv[1]
open(d + "/ready", "w").close()
open(d + "/go").read()
with open(d + "/out", "wb") as f:
    for _ in range(48):
        f.write(b"x" * 65536)
t = time.process_time()
while time.process_time() - t < 0.2:
    pass
open(d + "/done", "w").close()
open(d + "/end").read()
PY
	pid=$!
	wait_for "$d/ready" 60 || return 1
	sleep 0.5
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="pid=$pid,interval=1000"
	local r0 w0 r1 w1 t0 t1
	read -r r0 w0 <<<"$(proc_io "$pid")"
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	echo go >"$d/go"
	wait_for "$d/done" 60 || { ri_abort "$pid"; return 1; }
	sleep 1.5
	read -r r1 w1 <<<"$(proc_io "$pid")"
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	"$DT" "${RI[@]}" --report --format json >"$d/r1.json" || fail "report failed"
	sleep 1.2
	"$DT" "${RI[@]}" --report --format json >"$d/r2.json" || fail "second report failed"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	echo end >"$d/end"
	wait "$pid"
	local sums
	sums=$(python3 -c '
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["samples"] if x["pid"] == int(sys.argv[2])]
print(sum(x["wchar"] for x in s), sum(x["cpu_ns"] for x in s), sum(x["off_cpu"] for x in s), len(s))' \
		"$d/r1.json" "$pid")
	local wchar cpu_ns off n
	read -r wchar cpu_ns off n <<<"$sums"
	expect_eq "$wchar" "$((w1 - w0))" "bytes written by the sleeper (samples vs /proc/PID/io)"
	((off >= 1)) || fail "no off-cpu sample of the sleeper in the report ($n samples)"
	local hz stat_ns
	hz=$(getconf CLK_TCK)
	stat_ns=$(((t1 - t0) * 1000000000 / hz))
	if ((cpu_ns - stat_ns <= 2 * 1000000000 / hz && stat_ns - cpu_ns <= 2 * 1000000000 / hz)); then
		echo "  ok: CPU of the sleeper's samples $cpu_ns ns, /proc/PID/stat $stat_ns ns"
	else
		fail "CPU of the sleeper's samples $cpu_ns ns is not /proc/PID/stat's $stat_ns ns within 2 ticks"
	fi
	sums=$(python3 -c '
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["samples"] if x["pid"] == int(sys.argv[2])]
print(len(s), sum(x["off_cpu"] for x in s), sum(x["cpu_ns"] + x["wchar"] + x["rchar"] for x in s))' \
		"$d/r2.json" "$pid")
	expect_eq "$sums" "1 1 0" "second report: one idle off-cpu sample, nothing used"
}
register_test test_ri_sleeper_sampled_by_report

test_ri_text_and_follow() {
	local d=$WORK/ri-follow
	start_resburn "$d" 200 cpu:800:30 io:1024 || return 1
	local pid=$RB_PID
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="pid=$pid,interval=200"
	expect_grep "settings show the interval" "Interval \(ms\): 200" "$OUT"
	"$DT" "${RI[@]}" --report --follow --format json >"$d/follow.jsonl" 2>"$d/err" &
	local f=$!
	kill -USR1 "$pid"
	if ! wait_for "$d/done" 60 || ! wait_sigwait "$pid"; then
		kill -TERM "$f"
		wait "$f"
		ri_abort
		return 1
	fi
	sleep 0.3
	kill -TERM "$f"
	wait "$f"
	expect_eq "$?" 0 "--follow exit status after SIGTERM"
	local summary
	summary=$(python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = [l for l in lines if l["type"] == "sample"]
print(len(s), sorted({l["pid"] for l in s}), sum(l["wchar"] for l in s) >= 1048576)' "$d/follow.jsonl")
	echo "  follow: $summary"
	expect_grep "samples of the one task, with its writes" "^[0-9]+ \[$pid\] True$" "$summary"
	# text: the columns, and a fresh run for rows
	expect_rc "text report" 0 "$DT" "${RI[@]}" --report
	expect_rc "settings" 0 "$DT" "${RI[@]}" --settings --format json
	expect_grep "JSON settings" '"interval_ms": 200' "$OUT"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	stop_resburn

	start_resburn "$d" 200 cpu:600:40 || return 1
	pid=$RB_PID
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="pid=$pid,interval=200"
	kill -USR1 "$pid"
	if ! wait_for "$d/done" 60 || ! wait_sigwait "$pid"; then
		ri_abort
		return 1
	fi
	expect_rc "text report" 0 "$DT" "${RI[@]}" --report
	expect_grep "columns" "^TIME +TGID +PID +COMM +INTERVAL +CPU% +CPU +RSS_KB +MEM% +READ_B +WRITE_B +READ/s +WRITE/s +NOTE$" "$OUT"
	expect_grep "a sample row" "^[0-9:.]+ +$pid +$pid +resburn +[0-9.]+ms +[0-9.]+ +[0-9,-]+ +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9.]+[KMG]?i?B/s +[0-9.]+[KMG]?i?B/s" "$OUT"
	expect_grep "totals" "^TGID +PID +COMM +SAMPLES +SPAN +CPU_TIME +CPU% +MAX_RSS_KB" "$OUT"
	expect_grep "no losses" "^LOST TOTAL: 0$" "$OUT"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	stop_resburn
}
register_test test_ri_text_and_follow

test_ri_table_full_is_reported() {
	local d=$WORK/ri-full
	# two threads, room for one
	ri_round "$d" "tgid=@PID@,max-tasks=1" 100 cpu:300:50 burst:64:20 || return 1
	local full
	full=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["table_full"])' "$d/report.json")
	expect_eq "$full" True "report says the task table was full"
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="tgid=$RB_PID,max-tasks=1"
	expect_rc "text report" 0 "$DT" "${RI[@]}" --report
	"$DT" "${RI[@]}" --deactivate >/dev/null
	stop_resburn
}
register_test test_ri_table_full_is_reported

# The refusals the CLI's user sees, on either backend.
ri_cli_refusals() {
	expect_rc "no task to watch" 2 "$DT" "${RI[@]}" --activate="interval=100"
	expect_one_line_error "no task to watch"
	expect_rc "interval too short" 2 "$DT" "${RI[@]}" --activate="pid=1,interval=5"
	expect_one_line_error "interval too short"
	expect_rc "interval not a number" 2 "$DT" "${RI[@]}" --activate="pid=1,interval=fast"
	expect_one_line_error "interval not a number"
	expect_rc "max-tasks too big" 2 "$DT" "${RI[@]}" --activate="pid=1,max-tasks=99999999"
	expect_one_line_error "max-tasks too big"
	expect_rc "report while inactive" 1 "$DT" "${RI[@]}" --report
	expect_one_line_error "report while inactive"
}

test_ri_refusals() {
	ri_cli_refusals
	# raw ioctls bypass the CLI: the module checks again
	expect_rc "the module refuses bad settings of both functions" 0 "$PROGS/image_abuse"
	echo "$OUT" | sed 's/^/    /'
}
register_test test_ri_refusals

# "N" of a "KEY N" line of FILE, for expect_eq
kvf() { kv "$1" <"$2"; }

# the test programs print nothing unless something went wrong
stop_prog_check() { [[ -s $1/log ]] && fail "program output: $(head -c 300 "$1/log")"; return 0; }

# Children that are watched (comm=), rename themselves half of the time and
# exit, while pids wrap (pid_max 400): a child that gets the pid of one
# that had a sample must start from its own baseline, never from what the
# module kept for the other.  Every child's samples must add up to its
# own counters (*_total: the kernel's rchar, wchar and sum_exec_runtime of
# the task), which are what the child did; none may start before the
# child was forked.
test_ri_pid_reuse_starts_clean() {
	local d=$WORK/ri-churn pid old_max rc
	start_prog ri_tasks "$d" churn 400 4 3 || return 1
	pid=$PROG_PID
	wait_sigwait "$pid" || return 1
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="comm=ri_tasks,interval=10"
	old_max=$(cat /proc/sys/kernel/pid_max)
	echo 400 >/proc/sys/kernel/pid_max
	kill -USR1 "$pid"
	wait_for "$d/done" 600
	rc=$?
	echo "$old_max" >/proc/sys/kernel/pid_max
	((rc == 0)) && wait_sigwait "$pid" || { ri_abort "$pid"; return 1; }
	"$DT" "${RI[@]}" --report --format json >"$d/report.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	kill -USR1 "$pid"
	wait "$pid"
	image_check ri-churn "$d/report.json" "$d/children" 3 "$pid" >"$d/check"
	sed 's/^/    /' "$d/check"
	local reused
	reused=$(kvf reused_after_rename "$d/check")
	((reused >= 50)) || fail "only $reused children got the pid of a renamed one: pids did not wrap enough"
	expect_eq "$(kvf tracked "$d/check")" 400 "children with samples"
	expect_eq "$(kvf wrapped "$d/check")" 0 "samples with more use than the task's whole life"
	expect_eq "$(kvf before_birth "$d/check")" 0 "samples starting before their task was forked"
	expect_eq "$(kvf orphans "$d/check")" 0 "samples of no child alive at their time"
	expect_eq "$(kvf not_adding_up "$d/check")" 0 "children whose samples do not add up to their counters"
	expect_eq "$(kvf no_exit_sample "$d/check")" 0 "watched children without one exit sample"
	expect_eq "$(kvf exit_after_rename "$d/check")" 0 "exit samples of children no longer watched"
	expect_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["table_full"])' "$d/report.json")" \
		False "task table full"
	stop_prog_check "$d"
}
register_test test_ri_pid_reuse_starts_clean

# Under comm=, children that exec another program stop being watched: after
# many more of them than max-tasks, the table must not be full, and a
# process started afterwards must still be sampled.
test_ri_exec_frees_slot() {
	local d=$WORK/ri-execloop loop late
	rm -rf "$d"
	mkdir -p "$d"
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="comm=exec_loop,max-tasks=16,interval=10"
	"$PROGS/exec_loop" 100 /bin/true &
	loop=$!
	wait "$loop"
	expect_eq "$?" 0 "exec_loop of 100 children"
	"$PROGS/exec_loop" 0 /bin/true &
	late=$!
	wait "$late"
	sleep 0.1
	"$DT" "${RI[@]}" --report --format json >"$d/report.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	python3 - "$d/report.json" "$loop" "$late" >"$d/check" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
loop, late = int(sys.argv[2]), int(sys.argv[3])
s = r["samples"]
print("table_full", r["table_full"])
print("loop_exited", sum(x["exited"] for x in s if x["pid"] == loop))
print("late_exited", sum(x["exited"] for x in s if x["pid"] == late))
print("children_sampled", len({x["pid"] for x in s if x["pid"] not in (loop, late) and x["comm"] == "exec_loop"}))
other = [x for x in s if x["comm"] != "exec_loop"]
print("other_comm", len(other))
for x in other[:5]:
    print("example", x["pid"], x["comm"], x["exited"], x["off_cpu"], x["while_running"], x["rchar"], x["rchar_total"])
PY
	sed 's/^/    /' "$d/check"
	expect_eq "$(kvf table_full "$d/check")" False "task table full"
	expect_eq "$(kvf loop_exited "$d/check")" 1 "exit sample of exec_loop"
	expect_eq "$(kvf late_exited "$d/check")" 1 "exit sample of a process started after 100 execs"
	# each child's last sample is taken at its exec, under its old name
	expect_eq "$(kvf children_sampled "$d/check")" 100 "children with a sample"
	expect_eq "$(kvf other_comm "$d/check")" 0 "samples under a name the filter does not match"
	image_check ri-wrapped "$d/report.json" >"$d/wrapped"
	expect_eq "$(kvf wrapped "$d/wrapped")" 0 "samples with more use than the task's whole life"
}
register_test test_ri_exec_frees_slot

# A thread that is not the main thread execs: the kernel gives it the main
# thread's pid (de_thread) and the main thread dies with the thread's.  The
# main thread had written 20 MiB before the activation, the thread nothing:
# so each sample's wchar_total says whose counters it read, and each
# task's samples must add up to what that task wrote after the activation
# (3 MiB each), together to what /proc/PID/io counted.
test_ri_thread_exec_keeps_tasks_apart() {
	local d=$WORK/ri-dethread pid r0 w0 r1 w1
	start_prog ri_tasks "$d" exec-thread || return 1
	pid=$PROG_PID
	wait_sigwait "$pid" || return 1
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="tgid=$pid,interval=1000"
	read -r r0 w0 <<<"$(proc_io "$pid")"
	kill -USR1 "$pid"
	wait_for "$d/done" 60 && wait_sigwait "$pid" || { ri_abort "$pid"; return 1; }
	sleep 1.2
	read -r r1 w1 <<<"$(proc_io "$pid")"
	"$DT" "${RI[@]}" --report --format json >"$d/report.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	kill -USR1 "$pid"
	wait "$pid"
	expect_eq "$?" 0 "exit status of the exec'd program"
	image_check ri-exec-thread "$d/report.json" "$pid" >"$d/check"
	sed 's/^/    /' "$d/check"
	expect_eq "$(kvf wchar "$d/check")" "$((w1 - w0))" "bytes written (samples vs /proc/PID/io wchar)"
	expect_eq "$(kvf leader_wchar "$d/check")" $((3 << 20)) "bytes written by the old main thread, from its samples"
	expect_eq "$(kvf leader_exited "$d/check")" 1 "exit samples of the old main thread"
	expect_eq "$(kvf thread_wchar "$d/check")" $((3 << 20)) "bytes written by the exec'ing thread, before and after"
	expect_eq "$(kvf thread_last_pid "$d/check")" "$pid" "pid of the exec'd program's samples"
	expect_eq "$(kvf thread_last_total "$d/check")" $((3 << 20)) "wchar_total of its last sample"
	expect_eq "$(kvf wrapped "$d/check")" 0 "samples with more use than the task's whole life"
	stop_prog_check "$d"
}
register_test test_ri_thread_exec_keeps_tasks_apart

# Threads renamed by another thread (through /proc/self/task/TID/comm: the
# module cannot see it from their own context) while asleep are no longer
# watched: a report gives each its last sample and frees its slot, so that
# as many new threads fit in max-tasks.  Everything written is in the
# samples, as /proc/PID/io counted it.
test_ri_renamed_threads_freed_by_report() {
	local d=$WORK/ri-rename pid r0 w0 r1 w1
	start_prog ri_tasks "$d" rename-threads 6 || return 1
	pid=$PROG_PID
	wait_sigwait "$pid" || return 1
	expect_rc "activate" 0 "$DT" "${RI[@]}" --activate="comm=ri_tasks,max-tasks=7,interval=100"
	read -r r0 w0 <<<"$(proc_io "$pid")"
	kill -USR1 "$pid"
	wait_for "$d/renamed" 60 && wait_sigwait "$pid" || { ri_abort "$pid"; return 1; }
	"$DT" "${RI[@]}" --report --format json >"$d/r1.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	kill -USR1 "$pid"
	wait_for "$d/done" 60 && wait_sigwait "$pid" || { ri_abort "$pid"; return 1; }
	sleep 0.3
	read -r r1 w1 <<<"$(proc_io "$pid")"
	"$DT" "${RI[@]}" --report --format json >"$d/r2.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${RI[@]}" --deactivate >/dev/null
	kill -USR1 "$pid"
	wait "$pid"
	python3 - "$d/r1.json" "$d/r2.json" "$pid" >"$d/check" <<'PY'
import json, sys
r1, r2 = (json.load(open(p)) for p in sys.argv[1:3])
pid = int(sys.argv[3])
print("table_full", r1["table_full"] or r2["table_full"])
print("wchar", sum(x["wchar"] for r in (r1, r2) for x in r["samples"]))
renamed = [x for x in r1["samples"] if x["comm"] == "ri_renamed"]
print("renamed_sampled", len({x["pid"] for x in renamed}))
print("renamed_wchar", sum(x["wchar"] for x in renamed))
print("renamed_later", sum(x["comm"] == "ri_renamed" for x in r2["samples"]))
workers = [x for x in r2["samples"] if x["exited"] and x["pid"] != pid]
print("workers_exited", len(workers))
print("workers_wchar", sum(x["wchar"] for x in workers))
PY
	sed 's/^/    /' "$d/check"
	expect_eq "$(kvf table_full "$d/check")" False "task table full"
	expect_eq "$(kvf wchar "$d/check")" "$((w1 - w0))" "bytes written (samples vs /proc/PID/io wchar)"
	expect_eq "$(kvf renamed_sampled "$d/check")" 6 "renamed threads given a last sample by the first report"
	expect_eq "$(kvf renamed_wchar "$d/check")" $((6 * 65536)) "bytes written by the renamed threads"
	expect_eq "$(kvf renamed_later "$d/check")" 0 "samples of renamed threads after their last"
	expect_eq "$(kvf workers_exited "$d/check")" 6 "exit samples of the new threads"
	expect_eq "$(kvf workers_wchar "$d/check")" $((6 * 65536)) "bytes written by the new threads"
	image_check ri-wrapped "$d/r1.json" "$d/r2.json" >"$d/wrapped"
	expect_eq "$(kvf wrapped "$d/wrapped")" 0 "samples with more use than the task's whole life"
	stop_prog_check "$d"
}
register_test test_ri_renamed_threads_freed_by_report
