#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzzing in the suite: builds the libFuzzer targets with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (in $BUILD/fuzz, apart
# from the gcc build in $BUILD/cli), then for each target:
#
#  1. regression: every input of its seed corpus (tests/fuzz/corpus/TARGET:
#     real inputs, each hostile case of docs/input-limits.md, and every
#     input that ever found a bug) is run once, whole, whatever its size;
#  2. fuzzing: a fixed number of executions from that corpus, inputs of at
#     most MAXLEN bytes, with a fixed seed (the same inputs every run; set
#     FUZZ_SEED to explore others).  New inputs go to a scratch corpus, not
#     into the repository.
#
# A crash, a sanitizer report, an uncaught exception, a hang (-timeout) or
# an allocation beyond -malloc_limit_mb fails the target: one line
# "FAIL TARGET ..." and its input in $BUILD/fuzz/findings/ (once fixed, copy
# it into the target's corpus as a regression input).  Exits non-zero when
# any target failed or could not be built.
#
#   tests/fuzz/run.sh                 every target
#   tests/fuzz/run.sh fuzz_trace ...  these targets
#   FUZZ_SCALE=10 tests/fuzz/run.sh   ten times the executions
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
BUILD=${BUILD:-$REPO/build}
OUT=$BUILD/fuzz
SCALE=${FUZZ_SCALE:-1}
SEED=${FUZZ_SEED:-1}

# Executions per target, sized so that all of them take about two minutes
# on a 2-core machine (tests/fuzz/README.md has the measured times).
declare -A RUNS=(
	[fuzz_trace]=4000 [fuzz_stat]=6000 [fuzz_activate]=30000
	[fuzz_flame_report]=8000 [fuzz_flame_json]=15000 [fuzz_flame_folded]=4000
	[fuzz_flame_diff]=8000 [fuzz_flame_perf]=7000
	[fuzz_records_migrate_image]=10000 [fuzz_records_kprobe]=5000
	[fuzz_records_keytime_image]=6000 [fuzz_records_resource_image]=8000
	[fuzz_rescue]=20000
)
# The longest input fuzzing makes: room for a few records (a kprobe
# record is 1120 bytes after 1232 of settings) or a few dozen lines.
declare -A MAXLEN=([fuzz_records_kprobe]=8192 [fuzz_rescue]=8192)
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(printf '%s\n' "${!RUNS[@]}" | sort)

fail() {
	echo "FAIL fuzz: $*"
	echo "fuzz: FAILED"
	exit 1
}

# clang and its libFuzzer and sanitizer runtimes (scripts/deps.sh installs
# them): missing ones fail the run, they do not skip it
command -v clang++ >/dev/null || fail "no clang++ (run scripts/deps.sh)"
echo 'extern "C" int LLVMFuzzerTestOneInput(const char *, unsigned long) { return 0; }' |
	clang++ -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null ||
	fail "clang++ cannot link -fsanitize=fuzzer,address,undefined (run scripts/deps.sh)"

mkdir -p "$OUT"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g"
cmake -S cli -B "$OUT" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	-DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
	-DDIAG_FUZZ=ON -DDIAG_BUILD_TESTS=OFF >"$OUT/configure.log" 2>&1 ||
	{ cat "$OUT/configure.log"; fail "cannot configure the clang build in $OUT"; }
t_build=$SECONDS
for t in "${targets[@]}"; do
	[[ -n ${RUNS[$t]:-} ]] || fail "no target $t (one of: ${!RUNS[*]})"
done
cmake --build "$OUT" -j"$(nproc)" --target "${targets[@]}" >"$OUT/build.log" 2>&1 ||
	{ tail -50 "$OUT/build.log"; fail "the targets do not build (see $OUT/build.log)"; }
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - t_build)) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
limits=(-timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=2048)
mkdir -p "$OUT/findings"
failed=() total_runs=0 cpu_all=0 t_all=$SECONDS
TIMEFORMAT='%U %S'  # of the fuzzing, for the CPU seconds
for t in "${targets[@]}"; do
	bin=$OUT/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	scratch=$OUT/scratch/$t
	rm -rf "$scratch" && mkdir -p "$scratch"
	case $t in
	fuzz_flame_*) d=flame ;;
	fuzz_records_*) d=records ;;
	*) d=${t#fuzz_} ;;
	esac
	dict=()
	[[ -f tests/fuzz/dict/$d.dict ]] && dict=(-dict="tests/fuzz/dict/$d.dict")
	t0=$SECONDS
	mapfile -t seed_files < <(find "$seeds" -type f | sort)
	if ((${#seed_files[@]} == 0)); then
		echo "FAIL $t: no seed corpus in $seeds"
		failed+=("$t")
		continue
	fi
	# 1. every seed, whole
	if ! "$bin" "${limits[@]}" -artifact_prefix="$OUT/findings/$t-" "${seed_files[@]}" \
		>"$OUT/$t.regression.log" 2>&1; then
		echo "FAIL $t: a corpus input fails (regression) after $((SECONDS - t0)) s: see $OUT/$t.regression.log"
		grep -E "^Running:|ERROR|runtime error|SUMMARY|uncaught|terminate" "$OUT/$t.regression.log" |
			tail -4 | sed 's/^/  /'
		failed+=("$t")
		continue
	fi
	# 2. fuzzing
	runs=$((RUNS[$t] * SCALE))
	{ time "$bin" -runs="$runs" -max_len="${MAXLEN[$t]:-4096}" -seed="$SEED" "${limits[@]}" \
		-print_final_stats=1 "${dict[@]}" -artifact_prefix="$OUT/findings/$t-" \
		"$scratch" "$seeds" >"$OUT/$t.log" 2>&1; } 2>"$OUT/$t.time"
	rc=$?
	secs=$((SECONDS - t0))
	cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$OUT/$t.time")
	cpu_all=$((cpu_all + cpu))
	done_runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$OUT/$t.log" | tail -1)
	speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$OUT/$t.log" | tail -1)
	total_runs=$((total_runs + ${done_runs:-0}))
	if ((rc == 0)) && [[ -n $done_runs ]] && ((done_runs >= runs)); then
		printf 'PASS %-28s %6s runs %5s/s %4s s (%3s s CPU), %s seeds\n' "$t" "$done_runs" \
			"${speed:-?}" "$secs" "$cpu" "${#seed_files[@]}"
	else
		failed+=("$t")
		echo "FAIL $t after ${done_runs:-?} runs, $secs s: see $OUT/$t.log"
		grep -E "ERROR|runtime error|SUMMARY|Test unit written|uncaught|terminate" "$OUT/$t.log" |
			head -5 | sed 's/^/  /'
	fi
done
echo "fuzz: ${#targets[@]} targets, $total_runs executions in $((SECONDS - t_all)) s" \
	"($cpu_all s CPU fuzzing):" \
	"$( ((${#failed[@]})) && echo "FAILED: ${failed[*]}" || echo ok)"
((${#failed[@]} == 0))
