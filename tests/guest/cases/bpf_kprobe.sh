# SPDX-License-Identifier: GPL-2.0-or-later
# kprobe on the BPF backend (--backend bpf): the module's cases of
# kprobe.sh, run as they are with the backend forced, against the same
# oracles (ftrace's own kprobe event on the same function, pid and window
# for the hits and the kernel stacks, perf's DWARF call graphs for the
# user stacks, /proc/PID/cgroup), plus what only BPF has: the choice
# between a trampoline and a kprobe, and the refusal where the kernel has
# neither.  Not copied: dump-style=1 (refused on BPF, checked in
# bad input), rmmod under load, unexported calls and lockdown (the
# module's); the exited process case is replaced by what BPF does there.
# These run in every guest of the matrix and on the build machine's own
# kernel (run-all.sh --host), where only the attach-or-refuse case applies.

KP_BPF=(kprobe --backend bpf)
KP_PIN_DIR=/sys/fs/bpf/diagnose/kprobe

# Whether the kernel has kprobes (CONFIG_KPROBES): register_kprobe is a
# text symbol, listed also without CONFIG_KALLSYMS_ALL.
kernel_has_kprobes() { grep -qw register_kprobe /proc/kallsyms; }

# The BPF programs of kprobe loaded in the kernel, by bpftool's count
# ("no bpftool" when it cannot be asked, which no expected count matches).
# no kprobe program loaded; a program goes some time after its last
# reference (RCU: seconds on PREEMPT_RT), so callers poll this
kp_programs_gone() { [[ $(kp_bpf_progs) == 0 ]]; }

kp_bpf_progs() {
	local list
	list=$(bpftool prog show 2>&1) || { echo "no bpftool: $list"; return; }
	grep -cE ' name on_(fentry|kprobe)(_noirq)? ' <<<"$list"
}

kp_nothing_pinned() {
	[[ ! -e $KP_PIN_DIR && ! -e $KP_PIN_DIR-staging && ! -e $KP_PIN_DIR-dying ]]
}

# require_bpf_kprobe: skips the case (and says why) when kprobe cannot run
# on the BPF backend here: no BPF backend, or a kernel with neither kprobes
# nor trampolines (whose refusal test_bpf_kp_attach_or_refuse checks
# against the kernel's own configuration).  Any other refusal fails.
require_bpf_kprobe() {
	require_bpf_backend kprobe || return 1
	if "$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=1" >/dev/null 2>"$WORK/bpf-kp.err"; then
		"$DT" "${KP_BPF[@]}" --deactivate >/dev/null
		return 0
	fi
	if grep -q "this kernel has neither" "$WORK/bpf-kp.err"; then
		skip "kprobe on BPF cannot attach here: $(head -1 "$WORK/bpf-kp.err")"
	else
		fail "kprobe on BPF refused probe=vfs_read: $(head -1 "$WORK/bpf-kp.err")"
	fi
	return 1
}

# bpftrace's answer to whether this kernel has BPF trampolines (as
# test_bpf_kt_call_probes asks it): "yes", "no", or "" when it cannot tell
# (no bpftrace, a timeout, another failure), the reason in KP_BT_WHY.
kp_bpftrace_trampolines() {
	local limit=$((150 * WAIT_SCALE)) rc=0
	KP_BT_WHY=
	command -v bpftrace >/dev/null || { KP_BT_WHY="no bpftrace"; return 0; }
	(ulimit -l unlimited 2>/dev/null; timeout "$limit" bpftrace -e 'kfunc:vfs_read { } BEGIN { exit(); }') \
		>"$WORK/bt-kfunc.log" 2>&1 || rc=$?
	if ((rc == 0)); then
		echo yes
	elif ((rc == 124)); then
		KP_BT_WHY="bpftrace's kfunc check did not finish in $limit s"
	elif grep -qE 'kfunc/kretfunc not available|not available for your kernel' "$WORK/bt-kfunc.log"; then
		echo no
	else
		KP_BT_WHY="bpftrace failed without saying: $(grep -m1 ERROR "$WORK/bt-kfunc.log" || tail -1 "$WORK/bt-kfunc.log")"
	fi
}

# Every kernel, the host's too: activation attaches where the kernel has
# kprobes or trampolines (with a trampoline exactly where bpftrace finds
# them), and is refused in one line with nothing left pinned where it has
# neither; the same with the kprobe attach forced.
test_bpf_kp_attach_or_refuse() {
	require_bpf_backend kprobe || return 0
	local kprobes=no tramp pins
	kernel_has_kprobes && kprobes=yes
	tramp=$(kp_bpftrace_trampolines)
	echo "  kernel: kprobes $kprobes, trampolines ${tramp:-unknown ($KP_BT_WHY)}"
	"$DT" "${KP_BPF[@]}" --deactivate >/dev/null 2>&1
	if [[ $kprobes == no && $tramp == no ]]; then
		expect_rc "activate with neither" 1 "$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=1"
		expect_one_line_error "activate with neither"
		expect_grep "says what is missing" \
			"needs kprobes \(CONFIG_KPROBES\) or BPF trampolines; this kernel has neither: use diagnose.ko" "$ERR"
		kp_nothing_pinned || fail "pins left: $(ls -d "$KP_PIN_DIR"* 2>&1)"
		poll_until 10 kp_programs_gone && echo "  ok: kprobe programs loaded = 0" ||
			fail "kprobe programs loaded: $(kp_bpf_progs) after 10 s"
	elif [[ $kprobes == yes || $tramp == yes ]]; then
		expect_rc "activate" 0 "$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=1"
		pins=$(ls "$KP_PIN_DIR" 2>/dev/null)
		expect_eq "$(kp_bpf_progs)" 1 "kprobe programs loaded"
		expect_rc "deactivate" 0 "$DT" "${KP_BPF[@]}" --deactivate
		if [[ $tramp == yes ]]; then
			expect_grep "a trampoline where the kernel has them" '^link_on_fentry' "$pins"
		elif [[ $tramp == no ]]; then
			expect_grep "a kprobe without trampolines" '^link_on_kprobe' "$pins"
		fi
	else
		skip "kprobes: $kprobes; whether the kernel has trampolines is not known: $KP_BT_WHY"
		return 0
	fi
	# the kprobe attach alone
	if [[ $kprobes == yes ]]; then
		expect_rc "activate (kprobe forced)" 0 env DIAGNOSE_BPF_KPROBE_ATTACH=kprobe \
			"$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=1"
		expect_grep "a kprobe" '^link_on_kprobe' "$(ls "$KP_PIN_DIR" 2>/dev/null)"
		expect_rc "deactivate" 0 "$DT" "${KP_BPF[@]}" --deactivate
	else
		expect_rc "activate (kprobe forced) without kprobes" 1 env DIAGNOSE_BPF_KPROBE_ATTACH=kprobe \
			"$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=1"
		expect_one_line_error "kprobe forced without kprobes"
		expect_grep "says what is missing" "needs kprobes \(CONFIG_KPROBES\)" "$ERR"
	fi
	kp_nothing_pinned || fail "pins left: $(ls -d "$KP_PIN_DIR"* 2>&1)"
	poll_until 10 kp_programs_gone && echo "  ok: kprobe programs loaded at the end = 0" ||
		fail "kprobe programs loaded at the end: $(kp_bpf_progs) after 10 s"
}
register_test test_bpf_kp_attach_or_refuse

# Hits against ftrace's kprobe event, kernel stacks against its stack
# traces, user stacks against perf's DWARF call graphs: through a
# trampoline where the kernel has them.
test_bpf_kp_counts_and_stacks_without_frame_pointers() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}") KP_MAPS=proc KP_PROG_END=wait
	kp_reset
	kp_compare_run kp_prog_nofp 40 perf
	echo "  attached: $(grep -m1 '^link_' <<<"$KP_PINS")"
}
register_test test_bpf_kp_counts_and_stacks_without_frame_pointers

# The same through the kprobe program (the kernels of the matrix have
# trampolines, where it is otherwise never chosen for vfs_read).
test_bpf_kp_counts_and_stacks_through_a_kprobe() {
	require_bpf_kprobe || return 0
	kernel_has_kprobes || { skip "this kernel has no kprobes"; return 0; }
	local KP=("${KP_BPF[@]}") KP_MAPS=proc KP_PROG_END=wait
	local -x DIAGNOSE_BPF_KPROBE_ATTACH=kprobe
	kp_reset
	kp_compare_run kp_prog_fp 40
	expect_grep "attached with a kprobe" '^link_on_kprobe' "$KP_PINS"
}
register_test test_bpf_kp_counts_and_stacks_through_a_kprobe

test_bpf_kp_report_clears_and_text_layout() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_report_clears_and_text_layout
}
register_test test_bpf_kp_report_clears_and_text_layout

test_bpf_kp_lines_point_at_the_source() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_lines_point_at_the_source
}
register_test test_bpf_kp_lines_point_at_the_source

test_bpf_kp_cpu_filter() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_cpu_filter
}
register_test test_bpf_kp_cpu_filter

test_bpf_kp_comm_filter() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_comm_filter
}
register_test test_bpf_kp_comm_filter

# The module's refusals, then what only BPF refuses; nothing stays pinned
# or loaded after any of them.
test_bpf_kp_bad_input() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_bad_input
	kp_refused "dump-style 1 on BPF" 1 --activate="probe=vfs_read,dump-style=1"
	expect_grep "says why" "cannot print to the kernel log: use diagnose.ko" "$ERR"
	expect_rc "bad DIAGNOSE_BPF_KPROBE_ATTACH" 2 env DIAGNOSE_BPF_KPROBE_ATTACH=uprobe \
		"$DT" "${KP[@]}" --activate="probe=vfs_read"
	expect_one_line_error "bad DIAGNOSE_BPF_KPROBE_ATTACH"
	kp_nothing_pinned || fail "pins left: $(ls -d "$KP_PIN_DIR"* 2>&1)"
	poll_until 10 kp_programs_gone && echo "  ok: kprobe programs loaded = 0" ||
		fail "kprobe programs loaded: $(kp_bpf_progs) after 10 s"
}
register_test test_bpf_kp_bad_input

# A very hot function with a small ring: hits beyond it are counted lost,
# and hits + lost + missed never exceed ftrace's own count in a window
# that encloses ours.
test_bpf_kp_hot_functions_do_not_wedge() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}")
	test_kp_hot_functions_do_not_wedge
}
register_test test_bpf_kp_hot_functions_do_not_wedge

# sched_clock_cpu is notrace (no fentry call): no trampoline attaches to
# it, and where kprobes go through ftrace the kernel's kprobe events (a
# BPF kprobe is one) refuse notrace functions, which the module's own
# kprobe does not (it arms a breakpoint: test_kp_breakpoint_probe_...).
# The oracle is tracefs's kprobe_events on the same kernel: refused in one
# line with nothing pinned where it refuses, recorded where it accepts.
test_bpf_kp_notrace_function_like_tracefs() {
	require_bpf_kprobe || return 0
	kernel_has_kprobes || { skip "this kernel has no kprobes"; return 0; }
	local KP=("${KP_BPF[@]}") tracefs=accepts
	kp_reset
	echo "p:diagtest/notrace sched_clock_cpu" >>"$KP_TRACEFS/kprobe_events" 2>"$WORK/kp-notrace.err" ||
		tracefs=refuses
	[[ $tracefs == accepts ]] && echo "-:diagtest/notrace" >>"$KP_TRACEFS/kprobe_events"
	echo "  tracefs's kprobe_events $tracefs sched_clock_cpu"
	if [[ $tracefs == refuses ]]; then
		kp_refused "notrace function" 1 --activate="probe=sched_clock_cpu"
		expect_grep "says the kernel refuses" "the kernel refuses to probe sched_clock_cpu" "$ERR"
		kp_nothing_pinned || fail "pins left: $(ls -d "$KP_PIN_DIR"* 2>&1)"
		poll_until 10 kp_programs_gone && echo "  ok: kprobe programs loaded = 0" ||
			fail "kprobe programs loaded: $(kp_bpf_progs) after 10 s"
		return 0
	fi
	KPD=$WORK/kp-bpf-notrace
	mkdir -p "$KPD"
	expect_rc "activate probe=sched_clock_cpu" 0 "$DT" "${KP[@]}" --activate="probe=sched_clock_cpu,buf-kib=512"
	expect_grep "through a kprobe" '^link_on_kprobe' "$(ls "$KP_PIN_DIR" 2>/dev/null)"
	sleep 1
	kp_report
	kp_deactivate
	kp_facts "$KPD/report.json"
	((${KPF[hits]:-0} > 0)) || fail "no hits of sched_clock_cpu"
	expect_eq "${KPF[kernel.first]-}" "sched_clock_cpu" "innermost kernel frame"
	expect_eq "${KPF[kernel.shallow]-}" 0 "stacks of fewer than 3 frames"
}
register_test test_bpf_kp_notrace_function_like_tracefs

# The BPF backend keeps no snapshots of address spaces: the user stacks of
# a process that exited before the report are not symbolized, and the
# report says so ("none"); its hits are all there all the same.
test_bpf_kp_exited_process_is_not_symbolized() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}") dir=$WORK/kp-bpf-exit pid chain side
	kp_reset
	kp_start "$dir" kp_prog_nofp 10 exit || return 1
	pid=$KP_PID
	expect_rc "activate" 0 "$DT" "${KP[@]}" --activate="probe=vfs_read,tgid=$pid"
	kp_run "$dir" || return 1
	wait "$pid"
	[[ -e /proc/$pid ]] && fail "process $pid still exists"
	KPD=$dir
	kp_report
	kp_deactivate
	kp_facts "$KPD/report.json" "$pid" kp_prog_nofp
	read -r _ chain _ side <"$dir/done"
	expect_eq "${KPF[pid.hits]-}" "$((chain + side))" "hits = the program's reads"
	expect_eq "${KPF[pid.maps]-}" none "mappings of the dead process"
	expect_eq "${KPF[pid.prog]-}" "" "frames of the program"
}
register_test test_bpf_kp_exited_process_is_not_symbolized

# Deactivation detaches and frees everything: the kernel lists none of
# the programs, no kprobe stays registered, no pin is left.
test_bpf_kp_programs_gone_after_deactivate() {
	require_bpf_kprobe || return 0
	local KP=("${KP_BPF[@]}") before
	kp_reset
	before=$(kprobes_registered)
	expect_rc "activate" 0 "$DT" "${KP_BPF[@]}" --activate="probe=vfs_read"
	expect_eq "$(kp_bpf_progs)" 1 "kprobe programs loaded while active"
	expect_rc "settings" 0 "$DT" "${KP_BPF[@]}" --settings --format json
	expect_grep "active" '"activated": true' "$OUT"
	expect_grep "probe address from kallsyms" "\"probe_addr\": \"0x$(awk '$3 == "vfs_read" {print $1; exit}' /proc/kallsyms | sed 's/^0*//')\"" "$OUT"
	expect_rc "deactivate" 0 "$DT" "${KP_BPF[@]}" --deactivate
	poll_until 10 kp_programs_gone || fail "programs still loaded: $(kp_bpf_progs)"
	expect_eq "$(kprobes_registered)" "$before" "kprobes registered"
	kp_nothing_pinned || fail "pins left: $(ls -d "$KP_PIN_DIR"* 2>&1)"
	expect_rc "settings after" 0 "$DT" "${KP_BPF[@]}" --settings --format json
	expect_grep "inactive" '"activated": false' "$OUT"
}
register_test test_bpf_kp_programs_gone_after_deactivate

# kp_irq_split REPORT: "HITS_IN_INTERRUPT HITS_NOT" of a JSON report
kp_irq_split() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["stacks"]
print(sum(b["count"] for b in s if b["in_interrupt"]), sum(b["count"] for b in s if not b["in_interrupt"]))' "$1"
}

# The in-interrupt flag, from the preempt count as the module reads it:
# every hit of hrtimer_interrupt (the local timer's hard interrupt) has it,
# no read of a task's own read() does.  (A breakpoint kprobe's NMI layer,
# which the program takes off as the module does, is not reached here: a
# BPF kprobe at a function's entry goes through ftrace where the kernel
# has kprobes on ftrace, and notrace functions are refused, above.)
test_bpf_kp_in_interrupt_flag() {
	require_bpf_kprobe || return 0
	if ! grep -qwE '__preempt_count|pcpu_hot' /proc/kallsyms; then
		skip "kallsyms lists no preempt count (CONFIG_KALLSYMS_ALL): hits are never flagged"
		return 0
	fi
	local KP=("${KP_BPF[@]}") d=$WORK/kp-bpf-irq split
	mkdir -p "$d"
	kp_reset
	expect_rc "activate probe=hrtimer_interrupt" 0 "$DT" "${KP_BPF[@]}" --activate="probe=hrtimer_interrupt"
	sleep 1
	"$DT" "${KP_BPF[@]}" --report --format json >"$d/timer.json" 2>"$d/err" || fail "report: $(cat "$d/err")"
	kp_deactivate
	split=$(kp_irq_split "$d/timer.json")
	echo "  hrtimer_interrupt: in interrupt, not: $split"
	((${split% *} > 0)) || fail "no hit of hrtimer_interrupt flagged in interrupt"
	expect_eq "${split#* }" 0 "hrtimer_interrupt hits not flagged in interrupt"
	expect_rc "activate probe=vfs_read,pid=$BASHPID" 0 "$DT" "${KP_BPF[@]}" --activate="probe=vfs_read,pid=$BASHPID"
	for _ in 1 2 3 4 5; do read -r _ </proc/self/stat; done
	"$DT" "${KP_BPF[@]}" --report --format json >"$d/read.json" 2>"$d/err" || fail "report: $(cat "$d/err")"
	kp_deactivate
	split=$(kp_irq_split "$d/read.json")
	expect_eq "${split% *}" 0 "our reads flagged in interrupt"
	((${split#* } >= 5)) || fail "expected at least 5 reads not in interrupt, got ${split#* }"
}
register_test test_bpf_kp_in_interrupt_flag
