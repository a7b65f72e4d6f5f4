#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: what keytime-image and resource-image cost every context switch
# of the machine while they watch a task that is idle, against ftrace with
# the same events enabled, in one guest run.
#
#   bench/sched-switch-cost.sh [LOOPS] [ROUNDS]     (default 4000 and 5)
#
# On the host it builds the module and the CLI, boots the QEMU guest
# (scripts/guest/run.sh) and runs itself there, with instruction counting
# (--icount: the guest's clocks advance one nanosecond per instruction
# executed), on one CPU: timings are then deterministic, whatever else the
# host is doing, and a difference of usecs/op is a difference of
# instructions executed per operation.  In the guest the workload is
# `perf bench sched pipe -l LOOPS` (two tasks ping-ponging through pipes:
# nothing but context switches), run under each configuration below, in a
# new random order in each of ROUNDS rounds; the median per configuration
# is compared:
#   none              nothing attached
#   keytime-image     --activate='pid=IDLE,oncpu=1' (sched_switch and the
#                     process tracepoints, kretprobes on kernel_clone/execve)
#   resource-image    --activate='pid=IDLE' (sched_switch, sched_stat_runtime)
#   ftrace ...        the same tracepoints as events of a tracefs instance,
#                     recording every task, and with set_event_pid=IDLE
#                     (ftrace's own task filter: the closest equivalent)
#   keytime-image, BPF backend
#                     --backend bpf --activate='pid=IDLE,oncpu=1' (tp_btf
#                     sched_switch and process tracepoints; fentry/fexit on
#                     kernel_clone and the exec calls, or without
#                     trampolines the system calls' tracepoints)
#   bpftrace, keytime's BPF probes
#                     bpftrace on the same attachments with the same filter
#                     (kfunc/kretfunc on kernel_clone and the exec calls
#                     where the kernel has trampolines, as the BPF backend
#                     picks, else the system calls' tracepoints; the sched
#                     tracepoints; /tid == IDLE/, on sched_switch
#                     /args->prev_pid == IDLE || args->next_pid == IDLE/),
#                     counting; bpftrace 0.17 has no raw tracepoints, so
#                     tracepoint:sched: is its best attachment for those
#   resource-image, BPF backend
#                     --backend bpf --activate='pid=IDLE' (tp_btf
#                     sched_switch, sched_stat_runtime, task_rename,
#                     sched_process_exec, sched_process_fork)
#   bpftrace, resource's BPF probes
#                     bpftrace on the same tracepoints with the same filter
#                     (sched_switch /args->prev_pid == IDLE ||
#                     args->next_pid == IDLE/, the others /args->pid ==
#                     IDLE/, fork /args->child_pid == IDLE/), counting
# IDLE is a `sleep` that never wakes: the functions must reject every
# switch of the benchmark with their filter.  The overhead of a
# configuration is its median minus that of `none`.
# Targets (the issues'): the module's functions cost less than ftrace; the
# BPF backend costs no more than bpftrace doing the same.  Exits 1 if not.
set -euo pipefail
cd "$(dirname "$0")/.."
loops=${1:-4000}
rounds=${2:-5}

if [[ ${3:-} != --in-guest ]]; then
	BUILD=${BUILD:-$PWD/build}
	scripts/deps.sh >/dev/null
	kver=$(scripts/guest/guest-kernel.sh)
	make -s module KDIR="/lib/modules/$kver/build" >/dev/null
	make -s cli BUILD="$BUILD" >/dev/null
	out=$BUILD/bench-sched-switch-cost
	rc=0
	scripts/guest/run.sh --icount --smp 1 --timeout 3600 "$out" "$0" "$loops" "$rounds" --in-guest ||
		rc=$?
	cat "$out/job.log"
	exit "$rc"
fi

# ---- in the guest ----
. bench/lib.sh
ulimit -l unlimited 2>/dev/null || true
DT=$PWD/build/diagnose-tools
INST=/sys/kernel/tracing/instances/diag-bench
insmod module/diagnose.ko
sleep 1000000 &
idle=$!
cleanup() {
	"$DT" keytime-image --deactivate >/dev/null 2>&1 || true
	"$DT" resource-image --deactivate >/dev/null 2>&1 || true
	"$DT" keytime-image --backend bpf --deactivate >/dev/null 2>&1 || true
	"$DT" resource-image --backend bpf --deactivate >/dev/null 2>&1 || true
	bpftrace_stop
	[[ -d $INST ]] && { echo 0 >"$INST/events/enable"; rmdir "$INST"; }
	kill "$idle" 2>/dev/null || true
	rmmod diagnose 2>/dev/null || true
}
trap cleanup EXIT
mkdir "$INST"
echo 4096 >"$INST/buffer_size_kb"

KT_EVENTS="sched_switch sched_process_fork sched_process_exec sched_process_exit"
RI_EVENTS="sched_switch sched_stat_runtime"

# ftrace_on EVENTS PID|"": enable EVENTS in the instance, filtered to PID
ftrace_on() {
	local e
	echo >"$INST/trace"
	echo "$2" >"$INST/set_event_pid"
	for e in $1; do echo 1 >"$INST/events/sched/$e/enable"; done
	echo 1 >"$INST/tracing_on"
}
ftrace_off() {
	echo 0 >"$INST/tracing_on"
	echo 0 >"$INST/events/enable"
	echo >"$INST/set_event_pid"
}

# what bpf/keytime_image.bpf.c attaches, filtered as it filters: kfunc
# (fentry/fexit) probes on kernel_clone and the exec calls where the
# kernel has trampolines, as the BPF backend chooses, else the system
# calls' tracepoints
bt_keytime() {
	local sys="" c
	if ((BT_KFUNC)); then
		sys="kfunc:kernel_clone,kretfunc:kernel_clone"
		for c in execve execveat; do
			sys+=",kfunc:__x64_sys_$c,kretfunc:__x64_sys_$c"
		done
	else
		for c in clone clone3 fork vfork execve execveat; do
			sys+="${sys:+,}tracepoint:syscalls:sys_enter_$c,tracepoint:syscalls:sys_exit_$c"
		done
	fi
	cat <<-EOF
	tracepoint:sched:sched_switch /args->prev_pid == $1 || args->next_pid == $1/ { @switch = count(); }
	tracepoint:sched:sched_process_fork /args->parent_pid == $1/ { @fork = count(); }
	tracepoint:sched:sched_process_exec,tracepoint:sched:sched_process_exit,tracepoint:sched:sched_process_free /tid == $1/ { @proc = count(); }
	$sys /tid == $1/ { @sys = count(); }
	EOF
}

# what bpf/resource_image.bpf.c attaches, filtered as it filters
bt_resource() {
	cat <<-EOF
	tracepoint:sched:sched_switch /args->prev_pid == $1 || args->next_pid == $1/ { @switch = count(); }
	tracepoint:sched:sched_stat_runtime /args->pid == $1/ { @runtime = count(); }
	tracepoint:task:task_rename /args->pid == $1/ { @rename = count(); }
	tracepoint:sched:sched_process_exec /args->pid == $1/ { @exec = count(); }
	tracepoint:sched:sched_process_fork /args->child_pid == $1/ { @fork = count(); }
	EOF
}

configs=(none keytime ft_kt_all ft_kt_pid resource ft_ri_all ft_ri_pid)
if "$DT" keytime-image --backend bpf --settings >/dev/null 2>&1 && command -v bpftrace >/dev/null; then
	configs+=(kt_bpf bt_kt ri_bpf bt_ri)
	BT_KFUNC=0
	t0=$SECONDS
	timeout 600 bpftrace -e 'kfunc:kernel_clone { } BEGIN { exit(); }' >/tmp/bench-kfunc.log 2>&1 && BT_KFUNC=1
	echo "bpftrace kfunc probes: $( ((BT_KFUNC)) && echo yes || echo "no ($(tail -1 /tmp/bench-kfunc.log))"), checked in $((SECONDS - t0)) s"
else
	echo "no BPF backend or no bpftrace here: their configurations are left out"
fi
declare -A label=(
	[none]="none"
	[keytime]="keytime-image (oncpu=1, idle pid)"
	[ft_kt_all]="ftrace, keytime's events, all tasks"
	[ft_kt_pid]="ftrace, keytime's events, set_event_pid"
	[resource]="resource-image (idle pid)"
	[ft_ri_all]="ftrace, resource's events, all tasks"
	[ft_ri_pid]="ftrace, resource's events, set_event_pid"
	[kt_bpf]="keytime-image, BPF backend"
	[bt_kt]="bpftrace, keytime's BPF probes"
	[ri_bpf]="resource-image, BPF backend"
	[bt_ri]="bpftrace, resource's BPF probes"
)
setup() {
	case $1 in
	keytime) "$DT" keytime-image --activate="pid=$idle,oncpu=1" >/dev/null ;;
	resource) "$DT" resource-image --activate="pid=$idle" >/dev/null ;;
	ft_kt_all) ftrace_on "$KT_EVENTS" "" ;;
	ft_kt_pid) ftrace_on "$KT_EVENTS" "$idle" ;;
	ft_ri_all) ftrace_on "$RI_EVENTS" "" ;;
	ft_ri_pid) ftrace_on "$RI_EVENTS" "$idle" ;;
	kt_bpf) "$DT" keytime-image --backend bpf --activate="pid=$idle,oncpu=1" >/dev/null ;;
	bt_kt) bpftrace_start /tmp/bench-bpftrace.log "$(bt_keytime "$idle")" ;;
	ri_bpf) "$DT" resource-image --backend bpf --activate="pid=$idle" >/dev/null ;;
	bt_ri) bpftrace_start /tmp/bench-bpftrace.log "$(bt_resource "$idle")" ;;
	esac
}
teardown() {
	case $1 in
	keytime) "$DT" keytime-image --deactivate >/dev/null ;;
	resource) "$DT" resource-image --deactivate >/dev/null ;;
	ft_*) ftrace_off ;;
	kt_bpf) "$DT" keytime-image --backend bpf --deactivate >/dev/null ;;
	ri_bpf) "$DT" resource-image --backend bpf --deactivate >/dev/null ;;
	bt_kt | bt_ri) bpftrace_stop ;;
	esac
}
usecs_per_op() {
	perf bench sched pipe -l "$loops" 2>/dev/null | awk '/usecs\/op/ {print $1}'
}

echo "guest: $(uname -r), $(nproc) CPUs; perf bench sched pipe -l $loops, $rounds rounds"
declare -A times
run_rounds "$rounds" usecs_per_op
# keytime-image must not have recorded anything: its task never ran
"$DT" keytime-image --activate="pid=$idle,oncpu=1" >/dev/null
"$DT" keytime-image --report --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert not r["events"] and not r["lost"], "the idle task had events"'
"$DT" keytime-image --deactivate >/dev/null

best() { printf '%s\n' $1 | sort -g | head -1; }
declare -A med min
for c in "${configs[@]}"; do
	med[$c]=$(median "${times[$c]}")
	min[$c]=$(best "${times[$c]}")
done
base=${med[none]}

echo
printf '%-44s %10s %10s %22s\n' "configuration (usecs/op)" "median" "best" "overhead (median)"
for c in "${configs[@]}"; do
	printf '%-44s %10.3f %10.3f %22s\n' "${label[$c]}" "${med[$c]}" "${min[$c]}" \
		"$(awk -v t="${med[$c]}" -v b="$base" 'BEGIN {if (t == b) print "-"; else printf "%+.3f us (%+.1f%%)", t - b, 100 * (t - b) / b}')"
done
echo
ok=1
compare() {	# ours ftrace...
	local ours=$1 ft
	shift
	for ft in "$@"; do
		local ratio
		ratio=$(awk -v o="${med[$ours]}" -v f="${med[$ft]}" -v b="$base" \
			'BEGIN {if (f - b <= 0) print "n/a"; else printf "%.2f", (o - b) / (f - b)}')
		printf '%s vs %s:\n  %.3f vs %.3f usecs/op (time ratio %.3f); overhead ratio ours/ftrace %s\n' \
			"${label[$ours]}" "${label[$ft]}" "${med[$ours]}" "${med[$ft]}" \
			"$(awk -v o="${med[$ours]}" -v f="${med[$ft]}" 'BEGIN {print o / f}')" "$ratio"
		awk -v o="${med[$ours]}" -v f="${med[$ft]}" 'BEGIN {exit !(o < f)}' || {
			echo "  NOT CHEAPER than ftrace"
			ok=0
		}
	done
}
compare keytime ft_kt_all ft_kt_pid
compare resource ft_ri_all ft_ri_pid
((ok)) && echo "result: both functions cost less per context switch than ftrace (target met)"
# compare_bpf OURS PEER: the peer's cost with the same attachments and
# filter; ours must not exceed it
compare_bpf() {
	local ours=$1 bt=$2
	printf '%s vs %s:\n  %.3f vs %.3f usecs/op (time ratio %.3f); overhead ratio ours/bpftrace %s\n' \
		"${label[$ours]}" "${label[$bt]}" "${med[$ours]}" "${med[$bt]}" \
		"$(awk -v o="${med[$ours]}" -v f="${med[$bt]}" 'BEGIN {print o / f}')" \
		"$(awk -v o="${med[$ours]}" -v f="${med[$bt]}" -v b="$base" \
			'BEGIN {if (f - b <= 0) print "n/a"; else printf "%.2f", (o - b) / (f - b)}')"
	if awk -v o="${med[$ours]}" -v f="${med[$bt]}" 'BEGIN {exit !(o <= f)}'; then
		echo "result: ${label[$ours]} costs no more per context switch than bpftrace doing the same (target met)"
	else
		echo "result: ${label[$ours]} costs MORE per context switch than bpftrace doing the same (target missed)"
		ok=0
	fi
}
if [[ -n ${med[kt_bpf]:-} ]]; then
	compare_bpf kt_bpf bt_kt
	compare_bpf ri_bpf bt_ri
fi
((ok))
