#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A migrate-image report's moves against tracefs's record of the same.

usage: moves_check.py REPORT.json TRACED
TRACED holds "PID ORIG DEST" lines, per task in time order.  Every task's
reported moves must be tracefs's in the same order with some left out;
prints how many were left out, or why the report is not such a subset
(exit 1).
"""
import json
import sys


def main():
    with open(sys.argv[1]) as f:
        rep = json.load(f)
    got = {}
    for t in rep.get("tasks", []):
        got[t["pid"]] = [(e["orig_cpu"], e["dest_cpu"]) for e in t["events"]
                         if not e["fork_placement"]]
    want = {}
    with open(sys.argv[2]) as f:
        for line in f:
            pid, orig, dest = map(int, line.split())
            want.setdefault(pid, []).append((orig, dest))
    left_out = 0
    for pid, moves in got.items():
        seen = want.get(pid, [])
        i = 0
        for m in seen:
            if i < len(moves) and moves[i] == m:
                i += 1
            else:
                left_out += 1
        if i != len(moves):
            print(f"task {pid}: move {i} of the report, {moves[i]}, is not among tracefs's")
            sys.exit(1)
    left_out += sum(len(m) for pid, m in want.items() if pid not in got)
    print(left_out)


if __name__ == "__main__":
    main()
