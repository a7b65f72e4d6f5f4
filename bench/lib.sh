# SPDX-License-Identifier: GPL-2.0-or-later
# What the bench/ scripts that compare configurations share.  The caller
# defines `configs` (an array), `setup CONFIG` and `teardown CONFIG`, and
# `declare -A times`.

# median "V V V ...": the middle value (the lower middle of an even count)
median() { printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# run_rounds ROUNDS MEASURE: after one warm-up run of MEASURE, ROUNDS rounds
# that each run every configuration once, in a new random order: setup,
# MEASURE (which prints one figure), teardown.  Appends each figure to
# times[CONFIG] and prints one line per round.
run_rounds() {
	local rounds=$1 measure=$2 r c t line
	"$measure" >/dev/null
	for ((r = 1; r <= rounds; r++)); do
		line="round $r:"
		for c in $(printf '%s\n' "${configs[@]}" | shuf); do
			setup "$c"
			t=$("$measure")
			teardown "$c"
			times[$c]+="$t "
			line+=" $c=$t"
		done
		echo "$line"
	done
}

# bpftrace_start LOG PROGRAM: bpftrace running PROGRAM in the background,
# returning once all its probes are attached (bpftrace says "Attaching N
# probes..." before it attaches them): its pid's perf-event attachments
# (tracepoints, kprobes) and the BPF links made since it started (kfuncs:
# bookworm's bpftool names no pid for a link, and nothing else makes links
# while a bpftrace configuration runs) are counted until they make N;
# sets BT_PID.
bpftrace_start() {
	local log=$1 deadline=$((SECONDS + 120)) n links0
	links0=$(bpf_links)
	bpftrace -e "$2" >"$log" 2>&1 &
	BT_PID=$!
	until n=$(sed -n 's/^Attaching \([0-9]*\) probe.*/\1/p' "$log" 2>/dev/null) && [[ -n $n ]] &&
		(($(bpftool perf show 2>/dev/null | grep -c "^pid $BT_PID ") + $(bpf_links) - links0 >= n)); do
		if ((SECONDS >= deadline)) || ! kill -0 "$BT_PID" 2>/dev/null; then
			echo "bpftrace did not attach: $(cat "$log")"
			echo "attached: $(bpftool perf show 2>/dev/null | grep -c "^pid $BT_PID ") perf events," \
				"$(($(bpf_links) - links0)) links"
			exit 1
		fi
		sleep 0.1
	done
}

# the BPF links in the system
# (grep -c prints 0 and fails when there is none: not an error here)
bpf_links() { bpftool link show 2>/dev/null | grep -c '^[0-9]*: ' || true; }

# Stops it: SIGINT, and SIGKILL after 10 s (a bpftrace that missed the
# SIGINT would otherwise hold the benchmark forever).
bpftrace_stop() {
	local deadline=$((SECONDS + 10))
	[[ -n ${BT_PID:-} ]] || return 0
	kill -INT "$BT_PID"
	while kill -0 "$BT_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
	kill -0 "$BT_PID" 2>/dev/null && { echo "bpftrace ignored SIGINT for 10 s: killed" >&2; kill -KILL "$BT_PID"; }
	wait "$BT_PID" 2>/dev/null || true
	BT_PID=""
}
