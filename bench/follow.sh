#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --report --follow's cost per batch: the first batch of a session loads
# kallsyms, the ELF images and cgroup names and symbolizes every address
# once; later batches reuse all of it (one ReportResources per session).
# The same batches rendered with everything loaded again per batch (the
# old behaviour) are the comparison.  Exits non-zero unless a later batch
# costs less than a fifth of the first and less than a fresh one.
#
# usage: bench/follow.sh [BATCHES] [HITS_PER_BATCH]   (as root: /proc/kallsyms)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=build/cli/diag_follow_bench
[[ -x $BENCH ]] || { echo "missing $BENCH (run: make cli)" >&2; exit 1; }
out=$("$BENCH" "${1:-20}" "${2:-200}")
echo "$out"
python3 - "$out" <<'PY'
import re, sys
lines = sys.argv[1].splitlines()
vals = {}
for l in lines[1:]:
    m = re.search(r"first batch +([\d.]+) ms, then median +([\d.]+) ms", l)
    vals["session" if l.startswith("one session") else "fresh"] = (float(m.group(1)), float(m.group(2)))
first, later = vals["session"]
fresh = vals["fresh"][1]
print(f"later batch / first batch: {later / first:.3f}; later batch, session / fresh: {later / fresh:.3f}")
sys.exit(0 if later < first / 5 and later < fresh else 1)
PY
