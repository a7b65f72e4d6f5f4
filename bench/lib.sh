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
