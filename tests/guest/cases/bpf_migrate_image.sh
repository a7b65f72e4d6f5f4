# SPDX-License-Identifier: GPL-2.0-or-later
# migrate-image on the BPF backend (--backend bpf), against the kernel's own
# counters: se.nr_migrations (/proc/PID/task/TID/sched) and the
# sched_migrate_task events of a tracefs instance.  These cases run in every
# guest of the matrix, next to the module, and on the build machine's own
# kernel with no guest at all (run-all.sh --host, from ./test.sh).

BMI=(migrate-image --backend bpf)
BPF_TRACE_INSTANCE=diag-bpf-test

# Starts recording sched_migrate_task of the given pids in a tracefs
# instance of our own; prints the instance's directory.
trace_migrations_of() {
	local t inst filter="" pid
	t=$(tracefs_dir) || return 1
	inst=$t/instances/$BPF_TRACE_INSTANCE
	[[ -d $inst ]] && rmdir "$inst"
	mkdir "$inst" || return 1
	for pid in "$@"; do
		filter+="${filter:+ || }pid == $pid"
	done
	echo "$filter" >"$inst/events/sched/sched_migrate_task/filter"
	# the report's clock (bpf_ktime_get_ns); "local" is not synchronised
	# across CPUs, and one task's moves are seen on different CPUs
	echo mono >"$inst/trace_clock"
	echo 4096 >"$inst/buffer_size_kb"
	echo 1 >"$inst/events/sched/sched_migrate_task/enable"
	echo "$inst"
}

# "PID ORIG DEST" of the real moves (a same-CPU call is not a migration)
# the instance recorded, per task in time order; then removes it.
traced_moves() {
	local inst=$1
	echo 0 >"$inst/events/sched/sched_migrate_task/enable"
	sed -n 's/.* sched_migrate_task: .* pid=\([0-9]*\) .* orig_cpu=\([0-9]*\) dest_cpu=\([0-9]*\).*/\1 \2 \3/p' \
		"$inst/trace" | awk '$2 != $3' | sort -s -n -k1,1
	rmdir "$inst"
}

# A round that cannot go on leaves nothing behind for the next case.
bpf_round_abort() {
	"$DT" "${BMI[@]}" --deactivate >/dev/null 2>&1
	[[ -n ${BPF_TRACE:-} && -d $BPF_TRACE ]] && { echo 0 >"$BPF_TRACE/events/enable"; rmdir "$BPF_TRACE"; }
	stop_migrator
}

# A migrator round watched by the BPF backend and by tracefs.
# usage: bpf_round DIR ACTIVATE MOVES HOGS WAKEUPS
bpf_round() {
	local dir=$1 activate=$2
	shift 2
	start_migrator "$dir" "$@" || return 1
	activate=${activate//@TGID@/$MIG_TGID}
	expect_rc "activate $activate" 0 "$DT" "${BMI[@]}" --activate="$activate"
	BPF_TRACE=$(trace_migrations_of $(ls /proc/"$MIG_TGID"/task)) ||
		{ fail "no tracefs instance"; bpf_round_abort; return 1; }
	migrations_of_process "$MIG_TGID" | sort >"$dir/before"
	kill -USR1 "$MIG_TGID"
	wait_for "$dir/done" 120 || { bpf_round_abort; return 1; }
	wait_all_asleep "$MIG_TGID"
	migrations_of_process "$MIG_TGID" | sort >"$dir/after"
	traced_moves "$BPF_TRACE" >"$dir/traced"
	join "$dir/before" "$dir/after" | awk '{print $1, $3 - $2}' >"$dir/expected"
	"$DT" "${BMI[@]}" --report --format json >"$dir/report.json" 2>"$dir/report.err" ||
		fail "report failed: $(cat "$dir/report.err")"
	expect_rc "deactivate" 0 "$DT" "${BMI[@]}" --deactivate
}

test_bpf_mi_matches_proc_and_tracefs() {
	local d=$WORK/bpf-mi tid lost accounted
	require_bpf_backend migrate-image || return 0
	bpf_round "$d" "tgid=@TGID@" 16 2 2000 || return 1
	expect_grep "tracefs saw moves" "[0-9]" "$(head -3 "$d/traced")"
	lost=$(report_query lost_total "$d/report.json")
	if ((lost == 0)); then
		for tid in $(awk '{print $1}' "$d/expected"); do
			expect_thread_count "$d" "$tid"
		done
		expect_eq "$(report_query moves "$d/report.json" | md5sum)" "$(md5sum <"$d/traced")" \
			"every move (pid, from, to), in order, as tracefs recorded it"
	else
		# the kernel did not call the program for some moves: each one
		# must be counted lost, and every move reported be one tracefs saw
		echo "  $lost moves counted lost"
		accounted=$(python3 "$REPO/tests/guest/moves_check.py" "$d/report.json" "$d/traced") ||
			fail "reported moves against tracefs's: $accounted"
		expect_eq "$accounted" "$lost" "moves tracefs saw and the report lacks = moves counted lost"
	fi
	expect_eq "$(($(report_query records "$d/report.json") + lost))" \
		"$(awk '{n += $2} END {print n}' "$d/expected")" "delivered + lost (se.nr_migrations)"
	expect_eq "$(report_query tgids "$d/report.json" | awk -v g="$MIG_TGID" '$2 != g')" "" \
		"tasks of other processes in a tgid= report"
	echo "  causes: $(report_query causes "$d/report.json" | tr '\n' ' ')"
	if report_query causes "$d/report.json" | grep -q '^unknown '; then
		fail "a migration has no known cause"
	fi
	expect_eq "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backend"])' \
		"$d/report.json")" bpf "backend named in the JSON report"
	stop_migrator
}
register_test test_bpf_mi_matches_proc_and_tracefs

test_bpf_mi_comm_filter() {
	local d=$WORK/bpf-mi-comm tid lost
	require_bpf_backend migrate-image || return 0
	bpf_round "$d" "comm=mig-hog" 4 2 1000 || return 1
	lost=$(report_query lost_total "$d/report.json")
	if ((lost == 0)); then
		for tid in $MIG_HOGS; do
			expect_thread_count "$d" "$tid"
		done
	fi
	expect_eq "$(($(report_query records "$d/report.json") + lost))" \
		"$(for tid in $MIG_HOGS; do awk -v t="$tid" '$1 == t {print $2}' "$d/expected"; done |
			awk '{n += $1} END {print n}')" "the hogs' moves: delivered + lost (se.nr_migrations)"
	expect_eq "$(report_query comms "$d/report.json" | awk '{print $2}' | sort -u)" "mig-hog" \
		"names in a comm= report"
	stop_migrator
}
register_test test_bpf_mi_comm_filter

# A ring too small for the workload: what is not delivered is counted,
# exactly: delivered + lost = the kernel's count.
test_bpf_mi_tiny_buffer_counts_lost() {
	local d=$WORK/bpf-mi-tiny delivered lost kernel
	require_bpf_backend migrate-image || return 0
	bpf_round "$d" "tgid=@TGID@,buf-kib=1" 400 1 4000 || return 1
	delivered=$(report_query records "$d/report.json")
	lost=$(report_query lost_total "$d/report.json")
	kernel=$(awk '{n += $2} END {print n}' "$d/expected")
	echo "  kernel $kernel migrations = $delivered delivered + $lost lost"
	expect_eq "$((delivered + lost))" "$kernel" "delivered + lost (se.nr_migrations)"
	((lost > 0)) || fail "the smallest ring (1 KiB per CPU) lost nothing of $kernel migrations: the case proves nothing"
	stop_migrator
}
register_test test_bpf_mi_tiny_buffer_counts_lost

# Activate, settings, a second activate, deactivate: the programs and their
# pins come and go with the activation, and every refusal is one line.
test_bpf_mi_lifecycle() {
	local pins=/sys/fs/bpf/diagnose/migrate-image
	require_bpf_backend migrate-image || return 0
	expect_rc "activate" 0 "$DT" "${BMI[@]}" --activate="comm=nobody-here"
	expect_grep "settings name the backend" "Backend: bpf" "$("$DT" "${BMI[@]}" --settings)"
	expect_grep "auto finds the BPF activation" '"backend": "bpf"' \
		"$("$DT" migrate-image --backend auto --settings --format json)"
	expect_grep "programs loaded" "on_migrate_task" "$(bpftool prog show 2>/dev/null || echo no-bpftool)"
	expect_rc "second activate" 1 "$DT" "${BMI[@]}" --activate=""
	expect_one_line_error "second activate"
	expect_grep "says it is active" "already active" "$ERR"
	expect_rc "deactivate" 0 "$DT" "${BMI[@]}" --deactivate
	[[ ! -e $pins ]] || fail "pins left after deactivate: $(ls "$pins")"
	# a program goes when its last reference does, which can trail the
	# unpinning by an RCU grace period
	poll_until 10 bpf_programs_gone on_migrate_task ||
		fail "programs still loaded $((10 * WAIT_SCALE)) s after deactivate"
	expect_rc "report when not active" 1 "$DT" "${BMI[@]}" --report
	expect_one_line_error "report when not active"
	expect_rc "deactivate when not active" 1 "$DT" "${BMI[@]}" --deactivate
	expect_one_line_error "deactivate when not active"
	expect_rc "unknown backend" 2 "$DT" migrate-image --backend nope --settings
	expect_one_line_error "unknown backend"
	expect_rc "buffer over the limit" 2 "$DT" "${BMI[@]}" --activate="buf-kib=999999999"
	expect_one_line_error "buffer over the limit"
	expect_rc "non-root user" 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DT" "${BMI[@]}" --settings
	expect_one_line_error "non-root user"
	return 0
}
register_test test_bpf_mi_lifecycle

# The memory each move records against the kernel's own VmRSS: a process
# that touches 64 MiB, reads its VmRSS, moves itself between CPUs 40 times
# and reads VmRSS and VmHWM again.  Every move after the touch must lie
# within the part of the mm counters not yet folded in (3 counters, up to
# 64 pages each per CPU or thread) of the lower VmRSS reading, and not above
# VmHWM by more.  Two readings, because the kernel may change the RSS
# behind the process's back meanwhile (reclaim of its file pages, a
# khugepaged collapse filling a huge page's holes).
test_bpf_mi_rss_matches_vmrss() {
	local d=$WORK/bpf-mi-rss pid rss0 rss hwm slack bad
	require_bpf_backend migrate-image || return 0
	rm -rf "$d" && mkdir -p "$d"
	python3 -c '
import os, sys, time
def vm():
    st = open("/proc/self/status").read().split("\n")
    return {l.split(":")[0]: int(l.split()[1]) * 1024 for l in st if l.startswith(("Vm", "Rss"))}
while not os.path.exists(sys.argv[1] + "/go"):
    time.sleep(0.01)
x = bytearray(64 << 20)
for i in range(0, len(x), 4096):
    x[i] = 1
open(sys.argv[1] + "/touched", "w").write("%d\n" % time.monotonic_ns())
before = vm()
cpus = sorted(os.sched_getaffinity(0))
for k in range(40):
    os.sched_setaffinity(0, {cpus[k % len(cpus)]})
    time.sleep(0.01)
after = vm()
open(sys.argv[1] + "/vm", "w").write("%d %d %d\n" % (before["VmRSS"], after["VmRSS"], after["VmHWM"]))
open(sys.argv[1] + "/vm.txt", "w").write("before %s\nafter %s\n" % (before, after))
' "$d" &
	pid=$!
	expect_rc "activate" 0 "$DT" "${BMI[@]}" --activate="pid=$pid"
	touch "$d/go"	# the touch and the moves only once the programs are on
	wait "$pid"
	"$DT" "${BMI[@]}" --report --format json >"$d/report.json" || fail "report failed"
	expect_rc "deactivate" 0 "$DT" "${BMI[@]}" --deactivate
	read -r rss0 rss hwm <"$d/vm"
	((rss0 < rss)) && rss=$rss0
	slack=$((3 * $(nproc) * 64 * 4096))
	bad=$(python3 -c '
import json, sys
touched, lo, hi = int(open(sys.argv[2]).read()), int(sys.argv[3]), int(sys.argv[4])
moves = [m for t in json.load(open(sys.argv[1]))["tasks"] for m in t["events"]
         if m["ts_ns"] > touched]
print(len(moves), " ".join(str(m["rss_bytes"]) for m in moves if not lo <= m["rss_bytes"] <= hi))' \
		"$d/report.json" "$d/touched" "$((rss - slack))" "$((hwm + slack))")
	echo "  VmRSS $rss0 before the moves, $(cut -d' ' -f2 "$d/vm") after, VmHWM $hwm;" \
		"moves after the touch, and those outside the range: $bad"
	expect_grep "moves after the touch" "^[1-9][0-9]*" "$bad"
	expect_eq "${bad#* }" "" "RSS of every move within VmRSS - $slack .. VmHWM + $slack"
	[[ -z ${bad#* } ]] || sed 's/^/  | /' "$d/vm.txt"
}
register_test test_bpf_mi_rss_matches_vmrss
