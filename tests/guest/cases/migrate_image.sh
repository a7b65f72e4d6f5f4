# SPDX-License-Identifier: GPL-2.0-or-later
# migrate-image guest cases: the module's report against the kernel's own
# se.nr_migrations (/proc/PID/task/TID/sched), and the CLI's error paths.

MI=(migrate-image)

# Run the migrator's workload with migrate-image active; leaves the report
# in $1/report.json and the kernel's per-thread deltas in $1/expected.
# usage: migrate_round DIR ACTIVATE MOVES HOGS WAKEUPS [COMM]
migrate_round() {
	local dir=$1 activate=$2
	shift 2
	start_migrator "$dir" "$@" || return 1
	activate=${activate//@TGID@/$MIG_TGID}
	activate=${activate//@WORKER@/$MIG_WORKER}
	expect_rc "activate $activate" 0 "$DT" "${MI[@]}" --activate="$activate"
	migrations_of_process "$MIG_TGID" | sort >"$dir/before"
	kill -USR1 "$MIG_TGID"
	wait_for "$dir/done" 120 || return 1
	wait_all_asleep "$MIG_TGID"
	migrations_of_process "$MIG_TGID" | sort >"$dir/after"
	join "$dir/before" "$dir/after" | awk '{print $1, $3 - $2}' >"$dir/expected"
	"$DT" "${MI[@]}" --report --format json >"$dir/report.json" 2>"$dir/report.err" ||
		fail "report failed: $(cat "$dir/report.err")"
	"$DT" "${MI[@]}" --deactivate >/dev/null
}

stop_migrator() {
	kill "$MIG_TGID" 2>/dev/null
	wait "$MIG_TGID" 2>/dev/null
}


test_mi_pid_matches_nr_migrations() {
	local d=$WORK/mi-pid moves
	migrate_round "$d" "pid=@WORKER@" 16 1 3000 || return 1
	expect_thread_count "$d" "$MIG_WORKER"
	expect_eq "$(report_query counts "$d/report.json" | awk '{print $1}' | sort -u | tr '\n' ' ')" \
		"$MIG_WORKER " "threads in a pid= report"
	# the affinity phase: exactly the moves the program made, in order
	read -r t0 t1 <"$d/phase"
	moves=$(awk '{print $1, $2, "__migrate_task"}' "$d/moves")
	expect_eq "$(report_query window "$d/report.json" "$MIG_WORKER" "$t0" "$t1")" "$moves" \
		"affinity moves (from to cause)"
	expect_grep "the workload moved the worker" "[0-9]" "$moves"
	# natural migrations happened too, and each has a known cause
	echo "  causes: $(report_query causes "$d/report.json" | tr '\n' ' ')"
	if report_query causes "$d/report.json" | grep -q '^unknown '; then
		fail "a migration has no known cause"
	fi
	stop_migrator
}
register_test test_mi_pid_matches_nr_migrations

test_mi_tgid_catches_every_thread() {
	local d=$WORK/mi-tgid tid
	migrate_round "$d" "tgid=@TGID@" 8 2 2000 || return 1
	for tid in $(awk '{print $1}' "$d/expected"); do
		expect_thread_count "$d" "$tid"
	done
	local foreign
	foreign=$(report_query tgids "$d/report.json" | awk -v g="$MIG_TGID" '$2 != g')
	expect_eq "$foreign" "" "tasks of other processes in a tgid= report"
	local moved
	moved=$(awk '$2 > 0' "$d/expected" | wc -l)
	((moved >= 3)) || fail "expected worker and hogs to migrate, only $moved threads did"
	stop_migrator
}
register_test test_mi_tgid_catches_every_thread

test_mi_comm_filter() {
	local d=$WORK/mi-comm tid
	migrate_round "$d" "comm=mig-hog" 4 2 1000 || return 1
	for tid in $MIG_HOGS; do
		expect_thread_count "$d" "$tid"
	done
	expect_eq "$(report_query comms "$d/report.json" | awk '{print $2}' | sort -u)" "mig-hog" \
		"names in a comm= report"
	stop_migrator
}
register_test test_mi_comm_filter

# Any user can name a task anything (prctl PR_SET_NAME): a name that is not
# UTF-8 must not break a JSON report, whose records are drained for good
# by then.  JSON shows the bad byte as U+FFFD, text as \xNN; the counts
# still match the kernel's.
test_mi_non_utf8_comm() {
	local d=$WORK/mi-odd comm=$'mig\xff\x01odd' got
	migrate_round "$d" "pid=@WORKER@" 12 1 500 "$comm" || return 1
	expect_eq "$(cat "$d/report.err")" "" "stderr of the JSON report"
	expect_thread_count "$d" "$MIG_WORKER"
	got=$(python3 -c 'import json, sys; print(" ".join(ascii(t["comm"]) for t in json.load(open(sys.argv[1]))["tasks"]))' "$d/report.json")
	expect_eq "$got" "'mig\ufffd\x01odd'" "the name in JSON (U+FFFD for the bad byte)"
	stop_migrator

	d=$WORK/mi-odd-text
	start_migrator "$d" 4 0 10 "$comm" || return 1
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="pid=$MIG_WORKER"
	kill -USR1 "$MIG_TGID"
	wait_for "$d/done" 60
	wait_all_asleep "$MIG_TGID"
	"$DT" "${MI[@]}" --report >"$d/report.txt" 2>"$d/report.err"
	expect_eq "$?" 0 "text report exit status"
	expect_grep "the name in text (escaped)" '^PID: [0-9]+ +TGID: [0-9]+ +COMM: mig\\xff\\x01odd +Time' \
		"$(cat "$d/report.txt")"
	expect_eq "$(LC_ALL=C grep -c $'[\x01\xff]' "$d/report.txt")" 0 "raw control or invalid bytes in the text"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	stop_migrator
}
register_test test_mi_non_utf8_comm

test_mi_settings_reflect_activate() {
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="tgid=1,verbose=1,comm=systemd,buf-kib=64"
	expect_grep "activate prints the settings" "TGID: 1" "$OUT"
	expect_rc "settings" 0 "$DT" "${MI[@]}" --settings --format json
	local s
	s=$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["activated"], j["tgid"], j["pid"], j["comm"], j["verbose"], j["buf_kib"])' <<<"$OUT")
	expect_eq "$s" "True 1 0 systemd 1 64" "settings after activate"
	expect_rc "settings text" 0 "$DT" "${MI[@]}" --settings
	expect_grep "text settings" "Activated: yes" "$OUT"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	expect_grep "deactivate message" "^migrate-image is not activated$" "$OUT"
	expect_rc "settings after deactivate" 0 "$DT" "${MI[@]}" --settings
	expect_grep "inactive settings" "Activated: no" "$OUT"
}
register_test test_mi_settings_reflect_activate

test_mi_refusals_are_one_line() {
	expect_rc "report before activate" 1 "$DT" "${MI[@]}" --report
	expect_one_line_error "report before activate"
	expect_grep "says not active" "not active" "$ERR"
	expect_rc "deactivate when inactive" 1 "$DT" "${MI[@]}" --deactivate
	expect_one_line_error "deactivate when inactive"
	expect_grep "seed wording" "^deactivate migrate-image fail, ret is -" "$ERR"

	# keep a recording going through every refusal below, then check it
	local d=$WORK/mi-keep
	start_migrator "$d" 6 0 10 || return 1
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="pid=$MIG_WORKER"
	local before after
	before=$(nr_migrations "$MIG_TGID" "$MIG_WORKER")
	kill -USR1 "$MIG_TGID"
	wait_for "$d/done" 60
	wait_all_asleep "$MIG_TGID"
	after=$(nr_migrations "$MIG_TGID" "$MIG_WORKER")

	expect_rc "activate twice" 1 "$DT" "${MI[@]}" --activate="pid=$MIG_WORKER"
	expect_one_line_error "activate twice"
	expect_grep "says already active" "already active" "$ERR"
	expect_rc "unknown key" 2 "$DT" "${MI[@]}" --activate="pid=1,colour=red"
	expect_one_line_error "unknown key"
	expect_grep "names the key" "unknown key 'colour'" "$ERR"
	expect_rc "non-numeric pid" 2 "$DT" "${MI[@]}" --activate="pid=abc"
	expect_one_line_error "non-numeric pid"
	expect_rc "pid out of range" 2 "$DT" "${MI[@]}" --activate="pid=99999999"
	expect_one_line_error "pid out of range"
	expect_rc "over-long comm" 2 "$DT" "${MI[@]}" --activate="comm=abcdefghijklmnopqrstuvwxyz"
	expect_one_line_error "over-long comm"
	expect_grep "says too long" "longer than 15" "$ERR"
	expect_rc "missing process" 2 "$DT" "${MI[@]}" --activate="tgid=4000000"
	expect_one_line_error "missing process"
	expect_rc "buffer too big" 2 "$DT" "${MI[@]}" --activate="buf-kib=999999999"
	expect_one_line_error "buffer too big"
	expect_rc "two verbs" 2 "$DT" "${MI[@]}" --report --settings
	expect_one_line_error "two verbs"
	expect_rc "bad format" 2 "$DT" "${MI[@]}" --report --format xml
	expect_one_line_error "bad format"
	expect_rc "non-root user" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DT" "${MI[@]}" --settings
	expect_one_line_error "non-root user"
	expect_grep "says root" "root" "$ERR"

	# nothing was lost to the refusals
	"$DT" "${MI[@]}" --report --format json >"$d/report.json"
	expect_eq "$(report_query counts "$d/report.json" | awk '{print $2}')" "$((after - before))" \
		"migrations kept through the refusals"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	stop_migrator
}
register_test test_mi_refusals_are_one_line

test_mi_nothing_recorded_after_deactivate() {
	local d=$WORK/mi-off t_react
	start_migrator "$d" 8 1 500 || return 1
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="tgid=$MIG_TGID"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	kill -USR1 "$MIG_TGID"
	wait_for "$d/done" 60
	wait_all_asleep "$MIG_TGID"
	expect_rc "report after deactivate" 1 "$DT" "${MI[@]}" --report
	# a new activation starts empty: the migrations above were not kept
	expect_rc "activate again" 0 "$DT" "${MI[@]}" --activate="tgid=$MIG_TGID"
	"$DT" "${MI[@]}" --report --format json >"$d/report.json"
	expect_eq "$(report_query records "$d/report.json")" "0" "records from the deactivated window"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	stop_migrator
}
register_test test_mi_nothing_recorded_after_deactivate

test_mi_tiny_buffer_counts_lost() {
	local round d got lost want
	expect_rc "activate tiny" 0 "$DT" "${MI[@]}" --activate="comm=mig-tiny,buf-kib=1"
	for round in 1 2; do
		d=$WORK/mi-tiny-$round
		start_migrator "$d" 400 1 4000 mig-tiny || return 1
		# the new worker may have moved after it took its name and
		# before it went to sleep: that is not this round's
		"$DT" "${MI[@]}" --report >/dev/null
		local before after
		before=$(nr_migrations "$MIG_TGID" "$MIG_WORKER")
		kill -USR1 "$MIG_TGID"
		wait_for "$d/done" 120
		wait_all_asleep "$MIG_TGID"
		after=$(nr_migrations "$MIG_TGID" "$MIG_WORKER")
		"$DT" "${MI[@]}" --report --format json >"$d/report.json" ||
			fail "report round $round"
		got=$(report_query records "$d/report.json")
		lost=$(report_query lost "$d/report.json")
		want=$((after - before))
		echo "  round $round: kernel $want, reported $got, lost $lost"
		expect_eq "$((got + lost))" "$want" "reported + lost = se.nr_migrations (round $round)"
		((lost > 0)) || fail "a 1 KiB buffer under this load should lose records"
		((got > 0)) || fail "records still get through"
		# the exiting threads wake up and may move: drain that before
		# the next round
		stop_migrator
		"$DT" "${MI[@]}" --report >/dev/null
	done
	expect_rc "text report shows LOST" 0 "$DT" "${MI[@]}" --report
	expect_grep "LOST TOTAL line" "^LOST TOTAL: [1-9]" "$OUT"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
}
register_test test_mi_tiny_buffer_counts_lost

test_mi_text_report_layout() {
	local d=$WORK/mi-text
	start_migrator "$d" 4 0 10 || return 1
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="pid=$MIG_WORKER,verbose=1"
	kill -USR1 "$MIG_TGID"
	wait_for "$d/done" 60
	wait_all_asleep "$MIG_TGID"
	expect_rc "report" 0 "$DT" "${MI[@]}" --report
	echo "$OUT" | sed 's/^/  | /'
	expect_grep "banner" "^-----------------MIGRATE_IMAGE---------------------$" "$OUT"
	expect_grep "thread header" "^PID: $MIG_WORKER   TGID: $MIG_TGID   COMM: mig-worker   Time :\[[0-9]+:[0-9]+\]$" "$OUT"
	expect_grep "columns" "^Time_Stamp +ocpu +dcpu +PLoad_AVG +Putil_AVG +RSS_KB +READ +WRITE +CAUSE +PRIO +CALLER$" "$OUT"
	expect_grep "caller symbolised" "__migrate_task +120 +migration_cpu_stop\+0x" "$OUT"
	expect_rc "deactivate" 0 "$DT" "${MI[@]}" --deactivate
	stop_migrator
}
register_test test_mi_text_report_layout

test_mi_rmmod_under_load() {
	local d=$WORK/mi-rmmod
	start_migrator "$d" 100000 2 1000000 || return 1
	expect_rc "activate on every task" 0 "$DT" "${MI[@]}" --activate="buf-kib=256"
	kill -USR1 "$MIG_TGID"
	sleep 2
	expect_rc "rmmod while active under load" 0 rmmod diagnose
	[[ ! -e /dev/diagnose ]] || fail "/dev/diagnose still there after rmmod"
	expect_rc "insmod again" 0 insmod "$MODULE"
	expect_rc "activate after reload" 0 "$DT" "${MI[@]}" --activate="buf-kib=64"
	sleep 1
	expect_rc "deactivate under load" 0 "$DT" "${MI[@]}" --deactivate
	kill -9 "$MIG_TGID"
	wait "$MIG_TGID" 2>/dev/null
	return 0
}
register_test test_mi_rmmod_under_load

test_mi_bad_ioctls_are_refused() {
	expect_rc "malformed ioctls refused with their errno" 0 "$PROGS/ioctl_abuse"
	echo "$OUT" | sed 's/^/  | /'
	expect_rc "module still serves after abuse" 0 "$DT" "${MI[@]}" --settings
}
register_test test_mi_bad_ioctls_are_refused

# CPU hotplug under migrate-image and the migration trace: a busy task
# pinned to the CPU that goes down is pushed off it by the scheduler's
# hotplug path (cause balance_push in both), the report still counts
# exactly se.nr_migrations, and the CPU, back online, takes the task again.
# No kernel warning either (every test checks the log).
test_mi_cpu_hotplug() {
	local online=/sys/devices/system/cpu/cpu1/online mt=/sys/kernel/debug/migration_trace
	local pid before after d=$WORK/mi-hotplug
	if [[ ! -w $online ]]; then
		skip "CPU 1 cannot be taken offline here"
		return 0
	fi
	mkdir -p "$d"
	sh -c 'while :; do :; done' &
	pid=$!
	taskset -p -c 1 "$pid" >/dev/null
	echo 0 >"$mt/reset"
	# the kernel's own stack of each move of the task: which path pushed
	# it off the CPU going down (balance_push, or on 6.12 at times the
	# cpuset's hotplug update of its affinity, which moves it first)
	local inst
	inst=$(tracefs_dir)/instances/diag-hotplug
	[[ -d $inst ]] && rmdir "$inst"
	if ! mkdir "$inst"; then
		fail "cannot make tracefs instance $inst"
		kill -KILL "$pid"
		reap "$pid"
		return 1
	fi
	echo "pid == $pid" >"$inst/events/sched/sched_migrate_task/filter"
	# a trigger is not gated by the event's filter: it has its own
	echo "stacktrace if pid == $pid" >"$inst/events/sched/sched_migrate_task/trigger"
	echo 1 >"$inst/events/sched/sched_migrate_task/enable"
	expect_rc "activate" 0 "$DT" "${MI[@]}" --activate="pid=$pid"
	echo 1 >"$mt/enable" || fail "migration_trace would not start"
	before=$(nr_migrations "$pid" "$pid")
	echo 0 >"$online" || fail "CPU 1 would not go offline"
	sleep 0.3
	echo 1 >"$online" || fail "CPU 1 would not come back"
	taskset -p -c 1 "$pid" >/dev/null || fail "the task cannot be put back on CPU 1"
	sleep 0.3
	# stopped, it cannot migrate: the kernel's count is final
	kill -STOP "$pid"
	while [[ $(awk '{print $3}' "/proc/$pid/stat") != T ]]; do sleep 0.05; done
	after=$(nr_migrations "$pid" "$pid")
	echo 0 >"$mt/enable"
	"$DT" "${MI[@]}" --report --format json >"$d/report.json" || fail "report failed"
	"$DT" "${MI[@]}" --deactivate >/dev/null
	expect_eq "$(report_query counts "$d/report.json" | awk '{print $2}')" "$((after - before))" \
		"migrations across the hotplug (report vs se.nr_migrations)"
	echo 0 >"$inst/events/sched/sched_migrate_task/enable"
	cat "$inst/trace" >"$d/kernel_stacks"
	echo "!stacktrace if pid == $pid" >"$inst/events/sched/sched_migrate_task/trigger"
	rmdir "$inst"
	# the frames under the first move off CPU 1, as the kernel recorded them
	local path want
	path=$(awk '!seen && /sched_migrate_task:/ && /orig_cpu=1 dest_cpu=0/ { seen = 1; next }
		seen && / => / { print $2; inside = 1; next }
		seen && inside { exit }' "$d/kernel_stacks" | tr '\n' ' ')
	echo "  kernel's stack of the push: $path"
	case " $path" in
	*" __balance_push_cpu_stop"*) want=balance_push ;;
	*" migration_cpu_stop"* | *" affine_move_task"* | *" __set_cpus_allowed_ptr"*) want=__migrate_task ;;
	*) want="(a path this case does not know: $path)" ;;
	esac
	expect_eq "$(report_query window "$d/report.json" "$pid" 0 18446744073709551615 | head -1)" \
		"1 0 $want" "pushed off the CPU going down, by the path the kernel's stack shows"
	# back by the affinity change, or by the load balancer before it
	expect_eq "$(report_query window "$d/report.json" "$pid" 0 18446744073709551615 | tail -1 |
		cut -d' ' -f1,2)" "0 1" "back on CPU 1 once it is online"
	cat "$mt/trace" >"$d/trace"
	local cause
	cause=$(awk -v w="$want" '$1 == "#" && $2 == "cause" && $4 == w {print $3}' "$d/trace")
	# only the push off CPU 1: when the push was an affinity change, the
	# move back (taskset above) has the same cause
	expect_eq "$(awk -v p="$pid" -v c="$cause" \
		'$1 !~ /^#/ && $3 == 1 && $4 == 0 && $5 == p && $6 == c' "$d/trace" | wc -l)" 1 \
		"the trace's $want migration of the task off CPU 1"
	echo 0 >"$mt/reset"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	[[ $(cat "$online") == 1 ]] || echo 1 >"$online"
}
register_test test_mi_cpu_hotplug
