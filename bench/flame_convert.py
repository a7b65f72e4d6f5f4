#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the stacks of a folded file as a JSON stack report or as
`perf script` output, for bench/flame.sh's other input formats.

usage: flame_convert.py json|perf FOLDED LINES > OUT
The first frame of a folded stack becomes the process name; JSON keeps the
count, perf script writes one sample per stack (perf has no counts)."""
import json
import sys


def main():
    kind, path, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = sys.stdout
    if kind == "json":
        out.write('{"function": "bench", "stacks": [\n')
    with open(path) as f:
        for n, line in enumerate(f):
            if n >= limit:
                break
            stack, count = line.rstrip("\n").rsplit(" ", 1)
            frames = stack.split(";")
            comm, calls = frames[0], frames[1:][::-1]  # innermost first
            if kind == "json":
                obj = {"pid": 1000 + n % 50, "tgid": 1000 + n % 50, "comm": comm,
                       "count": int(count), "kernel_stack": [],
                       "user_stack": [{"addr": "0x%x" % (0x400000 + i), "symbol": s,
                                       "module": "/usr/bin/bench"}
                                      for i, s in enumerate(calls)]}
                out.write((",\n" if n else "") + json.dumps(obj))
            else:
                out.write("%s %d/%d [000] %d.%06d: 1 cycles:\n" % (comm, 1000 + n % 50, 1000 + n % 50,
                                                                     n // 1000000, n % 1000000))
                for i, s in enumerate(calls):
                    out.write("\t%x %s (/usr/bin/bench)\n" % (0x400000 + i, s))
                out.write("\n")
    if kind == "json":
        out.write('\n], "lost": 0}\n')


if __name__ == "__main__":
    main()
