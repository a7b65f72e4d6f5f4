# SPDX-License-Identifier: GPL-2.0-or-later
# kprobe guest cases: hit counts against ftrace's own kprobe event on the
# same function, pid and window; kernel stacks against ftrace's stack
# traces; user stacks against perf's DWARF call graphs of the same hits and
# against the test program's known call chain; cgroup against
# /proc/PID/cgroup; filters; bad input; hot functions; unload under load.

KP=(kprobe)
# What the BPF variants of these cases (bpf_kprobe.sh) override: the
# mappings a live process's stacks are symbolized from ("snapshot": the
# module's; the BPF backend reads /proc/PID/maps at report time, "proc"),
# and how the compared program ends ("exit" before the report, or "wait":
# it lives until the report is taken, for /proc to show its mappings).
KP_MAPS=snapshot
KP_PROG_END=exit
KP_TRACEFS=/sys/kernel/tracing
KP_EVENT=diagtest/probe1	# our ftrace kprobe event (group/name)
KP_CHAIN="kp::do_read kp::level3 kp::Middle<int>::level2 kp::Outer::level1 run_workload main"

# kp_facts REPORT [PID PROG [TRACE [PERF]]]: the facts kprobe_query.py
# finds, into the associative array F
declare -A KPF
kp_facts() {
	local k v
	KPF=()
	while IFS=$'\t' read -r k v; do
		# no facts (a report that failed): an empty key would end the suite
		[[ -n $k ]] || continue
		KPF[$k]=$v
	done <<<"$(python3 "$REPO/tests/guest/kprobe_query.py" "$@")"
}

# kp_start DIR PROG N [MODE] [COMM] [PREFIX...]: start the test program, wait
# until it is ready; sets KP_PID.  PREFIX (e.g. taskset -c 1) runs it.
kp_start() {
	local dir=$1 prog=$2 n=$3 mode=${4:-wait} comm=${5:-}
	shift 5 2>/dev/null || shift $#
	rm -rf "$dir"
	mkdir -p "$dir"
	"$@" "$PROGS/$prog" "$dir" "$n" "$mode" $comm >"$dir/log" 2>&1 &
	KP_KILL+=($!)
	wait_for "$dir/pid" || return 1
	KP_PID=$(awk '$1 == "pid" {print $2}' "$dir/pid")
}

# kp_run DIR: let the program do its reads and wait until it has
kp_run() {
	touch "$1/go"
	wait_for "$1/done" 120
}

kp_quit() {
	touch "$1/quit"
	wait "$2" 2>/dev/null
}

# kp_ftrace_on FUNC FILTER [stack]: our own kprobe event on FUNC, in tracefs
# (tracing on: other cases turn it off)
kp_ftrace_on() {
	echo 1 >"$KP_TRACEFS/tracing_on"
	echo "p:$KP_EVENT $1" >>"$KP_TRACEFS/kprobe_events" || return 1
	[[ -n $2 ]] && echo "$2" >"$KP_TRACEFS/events/$KP_EVENT/filter"
	[[ ${3:-} == stack ]] &&
		echo "stacktrace if $2" >"$KP_TRACEFS/events/$KP_EVENT/trigger"
	echo >"$KP_TRACEFS/trace"
	echo 1 >"$KP_TRACEFS/events/$KP_EVENT/enable"
}

# kp_ftrace_off FILE: stop the event, keep the trace in FILE, remove the event
kp_ftrace_off() {
	echo 0 >"$KP_TRACEFS/events/$KP_EVENT/enable"
	cat "$KP_TRACEFS/trace" >"$1"
	echo '!stacktrace' >"$KP_TRACEFS/events/$KP_EVENT/trigger" 2>/dev/null
	echo >"$KP_TRACEFS/trace"
	echo "-:$KP_EVENT" >>"$KP_TRACEFS/kprobe_events"
}

# kp_ftrace_hits FILE [PID]: events in a saved trace (of PID)
kp_ftrace_hits() {
	if [[ -n ${2:-} ]]; then
		grep -cE -- "-$2 +\[[0-9]+\] .* probe1: \(" "$1"
	else
		grep -c ' probe1: (' "$1"
	fi
}

kp_report() {
	"$DT" "${KP[@]}" --report --format json "$@" >"$KPD/report.json" 2>"$KPD/report.err" ||
		fail "report failed: $(cat "$KPD/report.err")"
}

kp_deactivate() { "$DT" "${KP[@]}" --deactivate >/dev/null 2>&1; }

# What a test started and must not outlive it, even when it stops early:
# its processes (KP_KILL), our ftrace event, the function itself.  Every
# test starts with it.
KP_KILL=()
kp_reset() {
	local p
	kp_deactivate
	for p in "${KP_KILL[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	KP_KILL=()
	if [[ -d $KP_TRACEFS/events/$KP_EVENT ]]; then
		echo 0 >"$KP_TRACEFS/events/$KP_EVENT/enable"
		echo '!stacktrace' >"$KP_TRACEFS/events/$KP_EVENT/trigger" 2>/dev/null
		echo "-:$KP_EVENT" >>"$KP_TRACEFS/kprobe_events"
	fi
}

# kprobes the kernel has registered, from anyone
kprobes_registered() { cat /sys/kernel/debug/kprobes/list 2>/dev/null | grep -c .; }

# The core comparison, one run: our hits, ftrace's kprobe event and (with
# "perf") perf's DWARF call graph on the same function, pid and window.
# usage: kp_compare_run PROG N [perf]
kp_compare_run() {
	local prog=$1 n=$2 use_perf=${3:-} kp_pid perf_pid="" prog_pid chain side parents
	KPD=$WORK/kp-$prog
	rm -rf "$KPD"
	mkdir -p "$KPD"
	kp_ftrace_on vfs_read "" || { fail "cannot create the ftrace kprobe event"; return 1; }
	if [[ $use_perf == perf ]]; then
		# perf runs the program, to watch it from its first instruction
		perf record -q -B -N -e "${KP_EVENT/\//:}" --call-graph dwarf -o "$KPD/perf.data" -- \
			"$PROGS/$prog" "$KPD" "$n" "$KP_PROG_END" >"$KPD/perf.log" 2>&1 &
		perf_pid=$!
		KP_KILL+=($perf_pid)
		parents="$perf_pid perf, $$ "
	else
		"$PROGS/$prog" "$KPD" "$n" "$KP_PROG_END" >"$KPD/log" 2>&1 &
		prog_pid=$!
		KP_KILL+=($prog_pid)
		parents="$$ "
	fi
	# perf's first start in the guest reads a lot over 9p: minutes at worst
	wait_for "$KPD/pid" 300 || { [[ -n $perf_pid ]] && echo "  perf: $(head -5 "$KPD/perf.log")"; return 1; }
	kp_pid=$(awk '$1 == "pid" {print $2}' "$KPD/pid")
	echo "common_pid == $kp_pid" >"$KP_TRACEFS/events/$KP_EVENT/filter"
	echo "stacktrace if common_pid == $kp_pid" >"$KP_TRACEFS/events/$KP_EVENT/trigger"
	echo >"$KP_TRACEFS/trace"
	# in a cgroup of its own, to see that the report names it
	mkdir -p /sys/fs/cgroup/kptest
	echo "$kp_pid" >/sys/fs/cgroup/kptest/cgroup.procs
	expect_eq "$(sed -n 's/^0:://p' "/proc/$kp_pid/cgroup")" "/kptest" "program's cgroup"
	expect_rc "activate probe=vfs_read,tgid=$kp_pid" 0 \
		"$DT" "${KP[@]}" --activate="probe=vfs_read,tgid=$kp_pid,buf-kib=8192"
	# what the BPF backend pinned (its attach type): none for the module
	KP_PINS=$(ls /sys/fs/bpf/diagnose/kprobe 2>/dev/null)
	kp_run "$KPD" || return 1
	if [[ $KP_PROG_END == exit ]]; then
		reap "$perf_pid"
	fi
	kp_report
	kp_deactivate
	# before the event goes: perf holds it open until the program ends
	if [[ $KP_PROG_END == wait ]]; then
		touch "$KPD/quit"
		reap "${perf_pid:-$prog_pid}"
	fi
	kp_ftrace_off "$KPD/trace"
	[[ -n $perf_pid ]] &&
		perf script -i "$KPD/perf.data" -F ip,sym,dso >"$KPD/perf.txt" 2>"$KPD/perf.err"
	rmdir /sys/fs/cgroup/kptest 2>/dev/null

	read -r _ chain _ side <"$KPD/done"
	kp_facts "$KPD/report.json" "$kp_pid" "$prog" "$KPD/trace" ${perf_pid:+"$KPD/perf.txt"}
	# counts: ours against ftrace's for the same pid and window
	expect_eq "${KPF[pid.hits]-}" "$(kp_ftrace_hits "$KPD/trace" "$kp_pid")" \
		"hits of pid $kp_pid (report vs ftrace kprobe event)"
	expect_eq "${KPF[pid.hits]-}" "$((chain + side))" "hits = the program's reads"
	expect_eq "${KPF[pid.count.kp::do_read]-}" "$chain" "hits through kp::do_read"
	expect_eq "${KPF[pid.count.kp::side_read]-}" "$side" "hits through kp::side_read"
	# kernel stack: ours against ftrace's stack trace of the same event
	expect_eq "${KPF[pid.kernel]-}" "${KPF[ftrace.kernel]-}" "kernel stack (report vs ftrace)"
	expect_grep "kernel stack is the read syscall path" \
		"^vfs_read ksys_read do_syscall_64 entry_SYSCALL_64" "${KPF[pid.kernel]-}"
	# user stack: the program's chain, in order, and what perf saw
	expect_eq "${KPF[pid.prog]-}" "$KP_CHAIN _start" "user stack ($prog frames)"
	[[ -n $perf_pid ]] && expect_eq "${KPF[pid.prog]-}" "${KPF[perf.prog]-}" \
		"user stack (report vs perf --call-graph dwarf)"
	expect_grep "innermost user frame" "^read@libc.so.6 kp::do_read@$prog " "${KPF[pid.user]-}"
	expect_eq "${KPF[pid.unwind]-}" "cfi" "unwinder"
	expect_eq "${KPF[pid.maps]-}" "$KP_MAPS" "mappings"
	expect_eq "${KPF[pid.cgroup]-}" "/kptest" "cgroup (report vs /proc)"
	expect_eq "${KPF[pid.chain_first]-}" "$kp_pid $prog" "process chain starts with the process"
	expect_eq "${KPF[pid.chain_last]-}" "1 init" "process chain ends at init"
	expect_grep "process chain has its parents" "^$kp_pid $prog, $parents" "${KPF[pid.chain]-}"
}

test_kp_counts_and_stacks_without_frame_pointers() {
	kp_reset
	kp_compare_run kp_prog_nofp 40 perf
}
register_test test_kp_counts_and_stacks_without_frame_pointers

test_kp_counts_and_stacks_with_frame_pointers() {
	kp_reset
	kp_compare_run kp_prog_fp 40
	# the same hits walked by frame pointers alone: the leaf in libc keeps
	# no frame, so its caller is skipped, as with perf --call-graph fp
	local pid dir=$WORK/kp-fp-walk
	kp_start "$dir" kp_prog_fp 20 exit || return 1
	pid=$KP_PID
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read,pid=$pid,buf-kib=4096"
	kp_run "$dir" || return 1
	KPD=$dir
	kp_report --unwind fp
	kp_deactivate
	kp_facts "$KPD/report.json" "$pid" kp_prog_fp
	expect_eq "${KPF[pid.unwind]-}" "fp" "unwinder"
	# and the walk ends in libc's __libc_start_call_main, built without
	expect_eq "${KPF[pid.prog]-}" "${KP_CHAIN#kp::do_read }" "frame-pointer user stack"
}
register_test test_kp_counts_and_stacks_with_frame_pointers

test_kp_report_clears_and_text_layout() {
	kp_reset
	local dir=$WORK/kp-text pid prog=kp_prog_nofp
	kp_start "$dir" $prog 30 wait || return 1
	pid=$KP_PID
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read,tgid=$pid"
	kp_run "$dir" || return 1
	expect_rc "text report" 0 "$DT" "${KP[@]}" --report
	local text=$OUT
	expect_grep "header line" "^KPROBE HIT: PID: $pid\[$prog\], TIME: \[[0-9]+:[0-9]+\]$" "$text"
	expect_grep "cgroup line" "^##CGROUP:\[/[^]]*\]  $pid " "$text"
	expect_grep "kernel frame" "^#@ +0x[0-9a-f]+ vfs_read\+0x[0-9a-f]+  \(\[kernel.kallsyms\]\)$" "$text"
	expect_grep "user frame" "^#~ +0x[0-9a-f]{16} kp::Middle<int>::level2\(int\) \($prog\)$" "$text"
	expect_grep "process frame" "^#\* +0xffffffffffffff $prog \(UNKNOWN\)$" "$text"
	expect_grep "chain frame" "^#\^ +0xffffffffffffff $prog\[$pid\] \(UNKNOWN\)$" "$text"
	expect_grep "aggregated count" "^#% +[0-9]+$" "$text"
	expect_grep "block end" "^##$" "$text"
	# what was printed is gone
	KPD=$dir
	kp_report
	kp_facts "$KPD/report.json"
	expect_eq "${KPF[hits]-}" 0 "hits in the next report"
	kp_deactivate
	kp_quit "$dir" "$pid"
}
register_test test_kp_report_clears_and_text_layout

test_kp_lines_point_at_the_source() {
	kp_reset
	local dir=$WORK/kp-lines pid want
	kp_start "$dir" kp_prog_nofp 5 wait || return 1
	pid=$KP_PID
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read,tgid=$pid"
	kp_run "$dir" || return 1
	KPD=$dir
	kp_report --lines
	kp_deactivate
	kp_quit "$dir" "$pid"
	want=$(grep -n 'long r = read(zero_fd, buf, sizeof(buf) - (n & 7));' \
		"$REPO/tests/guest/progs/kp_prog.cpp" | cut -d: -f1)
	kp_facts "$KPD/report.json" "$pid" kp_prog_nofp
	expect_eq "${KPF[pid.source.kp::do_read]-}" \
		"$REPO/tests/guest/progs/kp_prog.cpp:$want" "file:line of the read call"
}
register_test test_kp_lines_point_at_the_source

test_kp_exited_process_still_symbolized() {
	kp_reset
	local dir=$WORK/kp-exit pid prog=kp_prog_nofp
	# watching from before the start: the first hits come from the dynamic
	# loader, before libc is mapped; later ones from main through libc
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=do_sys_openat2,comm=$prog"
	kp_start "$dir" $prog 10 exit || return 1
	pid=$KP_PID
	kp_run "$dir" || return 1
	wait "$pid"
	[[ -e /proc/$pid ]] && fail "process $pid still exists"
	KPD=$dir
	kp_report
	kp_deactivate
	kp_facts "$KPD/report.json" "$pid" $prog
	expect_eq "${KPF[pid.maps]-}" "snapshot" "mappings of the dead process"
	expect_grep "loader frames" "^[^[].*@ld-linux-x86-64.so.2$" "${KPF[pid.first._dl_map_object]-}"
	expect_grep "open of /dev/zero from main, through libc" "^open[0-9]*@libc.so.6$" \
		"${KPF[pid.first.main]-}"
	expect_grep "exit path" "^[^[]" "${KPF[pid.first._start]-}"
}
register_test test_kp_exited_process_still_symbolized

# kp_filter_run NAME ACTIVATE IN_COMM IN_PREFIX OUT_COMM OUT_PREFIX: two
# copies of the program, one the filter should watch (KP_IN) and one it
# should not (KP_OUT), with ftrace's event on both; checks the watched one's
# hits against ftrace and leaves the report in $KPD
kp_filter_run() {
	local name=$1 activate=$2 din=$WORK/$1-in dout=$WORK/$1-out
	kp_start "$din" kp_prog_nofp 30 wait "$3" $4 || return 1
	KP_IN=$KP_PID
	kp_start "$dout" kp_prog_nofp 30 wait "$5" $6 || return 1
	KP_OUT=$KP_PID
	KPD=$WORK/$name
	mkdir -p "$KPD"
	kp_ftrace_on vfs_read "common_pid == $KP_IN || common_pid == $KP_OUT" || return 1
	expect_rc "activate $activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read,$activate,buf-kib=8192"
	touch "$din/go" "$dout/go"
	wait_for "$din/done" 120 && wait_for "$dout/done" 120
	kp_report
	kp_deactivate
	kp_ftrace_off "$KPD/trace"
	kp_quit "$din" "$KP_IN"
	kp_quit "$dout" "$KP_OUT"
	kp_facts "$KPD/report.json" "$KP_IN"
	expect_eq "${KPF[pid.hits]-}" "$(kp_ftrace_hits "$KPD/trace" "$KP_IN")" \
		"hits of the watched program (report vs ftrace)"
	(($(kp_ftrace_hits "$KPD/trace" "$KP_OUT") > 0)) || fail "the other program did not hit vfs_read"
}

test_kp_cpu_filter() {
	kp_reset
	kp_filter_run kp-cpu "cpu=1" "" "taskset -c 1" "" "taskset -c 0" || return 1
	expect_eq "${KPF[cpus]-}" "1" "CPUs in a cpu=1 report"
	kp_facts "$KPD/report.json" "$KP_OUT"
	expect_eq "${KPF[pid.hits]-}" 0 "hits of the program on CPU 0"
}
register_test test_kp_cpu_filter

test_kp_comm_filter() {
	kp_reset
	kp_filter_run kp-comm "comm=kp-alpha" kp-alpha "" kp-beta "" || return 1
	expect_eq "${KPF[pids]-}" "$KP_IN" "pids in a comm= report"
}
register_test test_kp_comm_filter

test_kp_dump_style_prints_to_the_kernel_log() {
	kp_reset
	local dir=$WORK/kp-dump pid before
	kp_start "$dir" kp_prog_nofp 4 wait || return 1
	pid=$KP_PID
	before=$(kernel_log_lines)
	expect_rc "activate dump-style=1" 0 "$DT" "${KP[@]}" \
		--activate="probe=vfs_read,tgid=$pid,dump-style=1"
	kp_run "$dir" || return 1
	sleep 0.5
	kp_deactivate
	kp_quit "$dir" "$pid"
	local lines
	lines=$(dmesg | tail -n +"$((before + 1))" | grep -c "diagnose-kprobe: vfs_read hit: pid $pid tgid $pid comm kp_prog_nofp cpu [0-9]*: vfs_read+0x")
	read -r _ chain _ side <"$dir/done"
	expect_eq "$lines" "$((chain + side))" "kernel-log lines (under the rate limit)"
}
register_test test_kp_dump_style_prints_to_the_kernel_log

# kp_refused WHAT STATUS ARGS...: kprobe ARGS fails with STATUS and one line
kp_refused() {
	local what=$1 status=$2
	shift 2
	expect_rc "$what" "$status" "$DT" "${KP[@]}" "$@"
	expect_one_line_error "$what"
}

test_kp_bad_input() {
	kp_reset
	kp_refused "unknown function" 1 --activate="probe=no_such_function_kp"
	expect_grep "says it does not exist" "has no function no_such_function_kp" "$ERR"
	# on the kprobe blacklist (NOKPROBE_SYMBOL)
	kp_refused "blacklisted function" 1 --activate="probe=do_int3"
	expect_grep "says the kernel refuses" "refuses to probe do_int3" "$ERR"
	# noinstr code: also refused by the kernel
	kp_refused "noinstr function" 1 --activate="probe=do_syscall_64"
	# the module's own code; a BPF program probes it like any other
	if [[ " ${KP[*]} " != *" --backend bpf "* ]]; then
		kp_refused "function of diagnose.ko" 1 --activate="probe=diag_ring_reserve"
		expect_grep "says it is ours" "in diagnose.ko itself" "$ERR"
	fi
	kp_refused "CPU that does not exist" 2 --activate="probe=vfs_read,cpu=0-4096"
	kp_refused "CPU list garbage" 2 --activate="probe=vfs_read,cpu=1-x"
	kp_refused "backwards CPU range" 2 --activate="probe=vfs_read,cpu=1-0"
	kp_refused "no probe" 2 --activate="tgid=1"
	kp_refused "not a name" 2 --activate="probe=vfs read"
	kp_refused "ustack-kib too big" 2 --activate="probe=vfs_read,ustack-kib=65"
	kp_refused "dump-style 2" 2 --activate="probe=vfs_read,dump-style=2"
	kp_refused "buffer below two records" 1 --activate="probe=vfs_read,buf-kib=64"
	kp_refused "report while inactive" 1 --report
	# nothing stayed armed
	expect_eq "$(kprobes_registered)" 0 "kprobes left registered"
	# twice
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read"
	kp_refused "activate again" 1 --activate="probe=vfs_write"
	expect_rc "deactivate" 0 "$DT" "${KP[@]}" --deactivate
	kp_refused "deactivate again" 1 --deactivate
}
register_test test_kp_bad_input

# A very hot function with a small buffer: the guest stays responsive,
# hits beyond the buffer are counted as lost, and hits + lost + missed
# never exceed what ftrace's own event on the function saw in a window
# that encloses ours.
kp_hot() {
	local fn=$1 hits lost missed seen
	KPD=$WORK/kp-hot-$fn
	mkdir -p "$KPD"
	kp_ftrace_on "$fn" "" || return 1
	expect_rc "activate probe=$fn" 0 "$DT" "${KP[@]}" --activate="probe=$fn,buf-kib=160"
	# some work that schedules, while the probe fires
	timeout 60 bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.02; done' ||
		fail "ten short sleeps did not finish in 60 s with $fn probed"
	kp_report
	missed=$("$DT" "${KP[@]}" --settings --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["missed"])')
	kp_deactivate
	seen=$(awk '/entries-in-buffer/ {split($3, a, "/"); print a[2]}' "$KP_TRACEFS/trace")
	kp_ftrace_off "$KPD/trace"
	kp_facts "$KPD/report.json"
	hits=${KPF[hits]-}
	lost=${KPF[lost]-}
	echo "  $fn: hits $hits, lost $lost, missed $missed, ftrace $seen"
	((hits > 0)) || fail "no hits of $fn"
	((lost > 0)) || fail "a 160 KiB buffer lost nothing on $fn"
	((hits + lost + missed <= seen)) ||
		fail "$fn: hits $hits + lost $lost + missed $missed > ftrace's $seen"
}

test_kp_hot_functions_do_not_wedge() {
	kp_reset
	kp_hot schedule
	kp_hot hrtimer_interrupt
}
register_test test_kp_hot_functions_do_not_wedge

# A function without an fentry call is probed with a breakpoint, which the
# kernel enters like an NMI: its hits are recorded all the same, and their
# stacks are unwound from the probed instruction (not from after the
# breakpoint, where the prologue's push has not happened).
test_kp_breakpoint_probe_records_whole_stacks() {
	kp_reset
	KPD=$WORK/kp-bp
	mkdir -p "$KPD"
	# Where the kernel puts a kprobe asked for the function's entry: after
	# an ENDBR on IBT kernels (arch_adjust_kprobe_addr), read from its text
	local addr entry first
	read -r addr entry first <<<"$(python3 "$REPO/tests/guest/ktext.py" entry sched_clock_cpu)"
	[[ -n ${first:-} ]] || { fail "cannot read sched_clock_cpu's first instruction"; return 1; }
	addr=$(printf '%x' $((0x$addr + entry)))
	echo "  sched_clock_cpu starts with $first: entry probe at +0x$entry"
	expect_rc "activate probe=sched_clock_cpu (notrace)" 0 "$DT" "${KP[@]}" \
		--activate="probe=sched_clock_cpu,buf-kib=512"
	expect_grep "armed at the entry as a breakpoint, not through ftrace" \
		"^$addr +k +sched_clock_cpu\+0x$entry *$" \
		"$(cat /sys/kernel/debug/kprobes/list)"
	# Unfiltered and unread for a second, a function this hot (every
	# clock read of the scheduler) overruns the small buffer: most hits
	# are counted lost.  tracefs cannot count them (it refuses notrace
	# functions), so hits and losses are only shown here.
	sleep 1
	kp_report
	kp_deactivate
	kp_facts "$KPD/report.json"
	echo "  hits ${KPF[hits]-}, lost ${KPF[lost]-}"
	((${KPF[hits]:-0} > 0)) || fail "no hits recorded from a breakpoint probe"
	expect_eq "${KPF[kernel.first]-}" "sched_clock_cpu" "innermost kernel frame"
	expect_eq "${KPF[kernel.shallow]-}" 0 "stacks of fewer than 3 frames"
}
register_test test_kp_breakpoint_probe_records_whole_stacks

test_kp_rmmod_while_active_under_load() {
	kp_reset
	local load
	expect_rc "activate probe=schedule" 0 "$DT" "${KP[@]}" --activate="probe=schedule"
	bash -c 'while :; do sleep 0.001; done' &
	load=$!
	sleep 1
	expect_rc "rmmod while active" 0 rmmod diagnose
	kill "$load"
	wait "$load" 2>/dev/null
	[[ -e /dev/diagnose ]] && fail "/dev/diagnose still there"
	expect_eq "$(kprobes_registered)" 0 \
		"kprobes left registered after rmmod"
	expect_rc "insmod again" 0 insmod "$MODULE"
	expect_rc "settings after reload" 0 "$DT" "${KP[@]}" --settings --format json
	expect_grep "inactive after reload" '"activated": false' "$OUT"
	kp_reset
}
register_test test_kp_rmmod_while_active_under_load

# With unexported_calls=0 the module calls no unexported kernel function
# (the path an IBT kernel takes when stack_trace_save_regs() has a sealed
# ENDBR): kernel stacks still start in the probed function, and hits still
# agree with the kernel's own count.
test_kp_stacks_without_unexported_calls() {
	local d=$WORK/kp-noexp
	rmmod diagnose || { fail "rmmod"; return 1; }
	expect_rc "insmod unexported_calls=0" 0 insmod "$MODULE" unexported_calls=0
	expect_eq "$(cat /sys/module/diagnose/parameters/unexported_calls)" N "the parameter"
	mkdir -p "$d"
	expect_rc "activate probe=vfs_read on ourselves" 0 \
		"$DT" "${KP[@]}" --activate="probe=vfs_read,pid=$BASHPID,buf-kib=4096"
	for _ in 1 2 3 4 5; do read -r _ </proc/self/stat; done
	"$DT" "${KP[@]}" --report --format json >"$d/report.json" 2>"$d/err" ||
		fail "report: $(cat "$d/err")"
	"$DT" "${KP[@]}" --deactivate >/dev/null
	kp_facts "$d/report.json"
	((${KPF[hits]:-0} >= 5)) || fail "expected at least 5 hits, got ${KPF[hits]:-0}"
	expect_eq "${KPF[kernel.first]}" vfs_read "innermost kernel frames"
	rmmod diagnose || fail "rmmod"
	expect_rc "insmod again" 0 insmod "$MODULE"
}
register_test test_kp_stacks_without_unexported_calls

# Kernel lockdown (confidentiality) forbids kprobes: kprobe and
# keytime-image are refused with EPERM and a line saying why; migrate-image
# still works.  Lockdown cannot be lifted, so this runs last.
test_lockdown_refuses_kprobes() {
	local lk=/sys/kernel/security/lockdown
	mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security
	if [[ ! -w $lk ]]; then
		skip "this kernel has no lockdown LSM"
		return 0
	fi
	lsmod | grep -q '^diagnose ' || insmod "$MODULE" || { fail "insmod"; return 1; }
	echo confidentiality >"$lk" || { fail "cannot lock the kernel down"; return 1; }
	expect_grep "locked down" '\[confidentiality\]' "$(cat "$lk")"
	expect_rc "kprobe refused" 1 "$DT" "${KP[@]}" --activate="probe=vfs_read,pid=1"
	expect_grep "says lockdown" "lockdown" "$ERR"
	expect_one_line_error "kprobe under lockdown"
	expect_rc "keytime-image refused" 1 "$DT" keytime-image --activate="pid=1"
	expect_grep "says lockdown" "lockdown" "$ERR"
	expect_rc "migrate-image still works" 0 "$DT" migrate-image --activate="pid=1"
	expect_rc "report" 0 "$DT" migrate-image --report
	expect_rc "deactivate" 0 "$DT" migrate-image --deactivate
	rmmod diagnose || fail "rmmod under lockdown"
}
register_final_test test_lockdown_refuses_kprobes
