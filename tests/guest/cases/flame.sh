# SPDX-License-Identifier: GPL-2.0-or-later
# flame guest cases: stacks captured in the guest, rendered by
# `diagnose-tools flame` from every input form, checked against perf's own
# account of the same samples.
#
# The report under test: until `diagnose-tools kprobe` exists, perf's
# samples written in the stack report format by the shared writer
# (build/cli/flame/flame_perf_to_report, cli/src/stack_report.cpp); when
# kprobe is present, test_flame_kprobe_round_trip also runs on a real
# `kprobe --report`.

FLAME_TO_REPORT=${FLAME_TO_REPORT:-$REPO/build/cli/flame/flame_perf_to_report}

# Sum of the counts of a folded file ("stack [base] count" lines).
folded_total() { awk '{ n += $NF } END { print n + 0 }' "$1"; }

# Samples per root frame of a folded file: "ROOT COUNT" lines, sorted.
folded_roots() {
	awk '{ c = $NF; split($0, f, ";"); sub(/ [0-9]+$/, "", f[1]); n[f[1]] += c }
	     END { for (r in n) print r, n[r] }' "$1" | sort
}

# The stacks of a folded file, one a line, sorted, without their counts,
# the report's "-" frame between user and kernel frames and the kernel
# frames' _[k], and with every unresolved frame named [unknown] (perf
# script input folds as stackcollapse-perf.pl does: no "-", _[k] only with
# --kernel, and then on [vdso] frames too, and an unresolved frame named
# after its module, [libc.so.6], or [[vdso]] for a module perf names in
# brackets).
folded_stacks() {
	sed -E 's/ [0-9]+$//; s/;-(;|$)/\1/; s/_\[k\]//g; s/\[unknown\]/\x01/g
		:u; s/(^|;)\[\[?[^];]*\]\]?(;|$)/\1\x01\2/; tu; s/\x01/[unknown]/g' "$1" | sort -u
}

# The "all" frame's count in an SVG.
svg_total() { sed -n 's/.*<g c="\([0-9]*\)"><title>all (.*/\1/p' "$1" | head -1; }

expect_well_formed_svg() {
	if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" 2>"$WORK/xml.err"; then
		echo "  ok: $1 is well-formed XML"
	else
		fail "$1 is not well-formed XML: $(cat "$WORK/xml.err")"
	fi
}

# report -> folded -> SVG must be the same graph as report -> SVG, and the
# text and JSON forms of a report the same stacks.  usage: round_trip DIR
round_trip() {
	local d=$1
	expect_rc "flame report.txt -> folded" 0 "$DT" flame --input "$d/report.txt" --output "$d/report.folded"
	if [[ -e $d/report.json ]]; then
		expect_rc "flame report.json -> folded" 0 "$DT" flame --input "$d/report.json" --output "$d/json.folded"
		expect_eq "$(cmp -s "$d/report.folded" "$d/json.folded" && echo same)" same \
			"folded stacks from the text and the JSON report"
	fi
	expect_rc "flame folded -> svg" 0 "$DT" flame "$d/report.folded" -o "$d/folded.svg" --title round-trip
	expect_rc "flame report -> svg" 0 "$DT" flame "$d/report.txt" -o "$d/report.svg" --title round-trip
	expect_eq "$(cmp -s "$d/folded.svg" "$d/report.svg" && echo same)" same \
		"SVG from report->folded->SVG and from report->SVG"
	expect_well_formed_svg "$d/report.svg"
	expect_eq "$(svg_total "$d/report.svg")" "$(folded_total "$d/report.folded")" \
		"SVG 'all' frame = sum of the folded counts"
}

test_flame_perf_round_trip() {
	local d=$WORK/flame-perf
	rm -rf "$d" && mkdir -p "$d"
	local t0=$SECONDS
	perf record -q -g -F 499 -e cpu-clock --no-buildid --no-buildid-cache -o "$d/perf.data" -- \
		"$PROGS/flame_work" 3 "$d/work.out" >"$d/record.log" 2>&1 ||
		{ fail "perf record failed: $(tail -3 "$d/record.log")"; return 1; }
	echo "  perf record: $((SECONDS - t0)) s"
	perf script --no-inline -i "$d/perf.data" >"$d/perf.txt" 2>/dev/null
	perf script --no-inline -i "$d/perf.data" -F comm >"$d/comms.txt" 2>/dev/null
	echo "  perf script: $((SECONDS - t0)) s"
	"$FLAME_TO_REPORT" <"$d/perf.txt" >"$d/report.txt"
	"$FLAME_TO_REPORT" --json <"$d/perf.txt" >"$d/report.json"

	round_trip "$d"
	# the same stacks; perf script input weighs each by its period, as
	# stackcollapse-perf.pl does, so the counts differ by that factor
	expect_rc "flame perf script -> folded" 0 "$DT" flame "$d/perf.txt" -o "$d/perf.folded"
	folded_stacks "$d/report.folded" >"$d/report.stacks"
	folded_stacks "$d/perf.folded" >"$d/perf.stacks"
	cmp -s "$d/perf.stacks" "$d/report.stacks" ||
		diff "$d/perf.stacks" "$d/report.stacks" | head -20 | sed 's/^/  | /'
	expect_eq "$(cmp -s "$d/perf.stacks" "$d/report.stacks" && echo same ||
		diff "$d/perf.stacks" "$d/report.stacks" | grep -m2 '^[<>]' | tr '\n' ' ')" same \
		"folded stacks from perf script and from the report"

	# perf's own count of the samples, per process, is the oracle
	local samples
	samples=$(wc -l <"$d/comms.txt")
	echo "  perf recorded $samples samples"
	expect_grep "perf recorded samples" "^[1-9]" "$samples"
	expect_eq "$(folded_total "$d/report.folded")" "$samples" "samples in the graph (perf's count)"
	expect_eq "$(folded_roots "$d/report.folded" | tr '\n' ' ')" \
		"$(sed 's/^ *//; s/ *$//' "$d/comms.txt" |
			sort | uniq -c | awk '{c = $1; $1 = ""; print substr($0, 2), c}' | sort | tr '\n' ' ')" \
		"samples per process (perf's count)"

	# the known paths: user CPU time, and kernel frames above a separator
	# on top of the user stack that made the system call
	expect_grep "main -> burn_alpha -> burn_beta" \
		'^flame_work;(.*;)?main;burn_alpha;burn_beta [0-9]+$' "$(cat "$d/report.folded")"
	expect_grep "writer -> do_write -> separator -> kernel write path" \
		'^flame_work;(.*;)?main;writer;do_write;-;(.*;)?ksys_write_\[k\]' "$(cat "$d/report.folded")"
	expect_grep "the SVG marks the kernel/user separator" '<g class="sep"' "$(cat "$d/report.svg")"

	# per-process and per-cgroup roots from the report's pids and cgroups
	local pid
	pid=$(sed -n 's/^#^ *0x[0-9a-f]* flame_work\[\([0-9]*\)\].*/\1/p' "$d/report.txt" | head -1)
	expect_rc "flame --per-pid --per-cgroup" 0 "$DT" flame "$d/report.txt" --per-pid --per-cgroup \
		-o "$d/per.folded"
	expect_grep "root frames: cgroup, then comm[pid]" "^/;flame_work\[$pid\];" "$(cat "$d/per.folded")"

	# other outputs of the same data
	expect_rc "flame -> speedscope" 0 "$DT" flame "$d/report.json" -o "$d/report.speedscope.json"
	expect_eq "$(python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["profiles"][0]; print(sum(p["weights"]))' \
		"$d/report.speedscope.json")" "$samples" "speedscope weights sum to perf's count"
	echo "  total: $((SECONDS - t0)) s"
}
register_test test_flame_perf_round_trip

test_flame_bad_input() {
	local d=$WORK/flame-bad
	rm -rf "$d" && mkdir -p "$d"
	printf 'this is not a stack\nnor is this\n' >"$d/prose.txt"
	expect_rc "prose input" 4 "$DT" flame "$d/prose.txt" -o "$d/x.svg"
	expect_one_line_error "prose input"
	expect_rc "missing input" 1 "$DT" flame "$d/nope.txt" -o "$d/x.svg"
	expect_one_line_error "missing input"
	expect_rc "bad --minwidth" 2 "$DT" flame "$d/prose.txt" --minwidth=abc
	expect_one_line_error "bad --minwidth"
	expect_rc "unknown output extension" 2 "$DT" flame "$d/prose.txt" -o "$d/x.png"
	expect_one_line_error "unknown output extension"
	printf 'a;b 1\n' >"$d/ok.folded"
	expect_rc "stdin input, stdout output" 0 bash -c "'$DT' flame --format folded <'$d/ok.folded'"
	expect_eq "$OUT" "a;b 1" "folded from stdin to stdout"
}
register_test test_flame_bad_input

# A real kprobe report, once the kprobe function exists (registered only
# then): report -> folded -> SVG must be the report's graph, with the
# workload's writes in it.  (A report empties the buffer, so only the text
# form is taken here; the JSON path is covered above.)
test_flame_kprobe_round_trip() {
	local d=$WORK/flame-kprobe writes pid
	rm -rf "$d" && mkdir -p "$d"
	# on before the workload starts, so that all of its writes are seen
	expect_rc "kprobe activate" 0 "$DT" kprobe --activate="probe=ksys_write,comm=flame_work"
	"$PROGS/flame_work" 4 "$d/work.out" &
	pid=$!
	wait "$pid"
	"$DT" kprobe --report >"$d/report.txt"
	"$DT" kprobe --deactivate >/dev/null
	round_trip "$d"
	writes=$(awk '{print $2}' "$d/work.out")
	expect_grep "kprobe saw the workload's writes" "^[1-9]" "$(folded_total "$d/report.folded")"
	expect_grep "the writes' stacks: writer -> do_write -> kernel" \
		'^flame_work;(.*;)?writer;do_write;-;(.*;)?ksys_write_\[k\]' "$(cat "$d/report.folded")"
	echo "  workload made $writes writes; the graph holds $(folded_total "$d/report.folded") hits"
}
if "$DT" --help | grep -qE '^ +kprobe +'; then
	register_test test_flame_kprobe_round_trip
fi
