#!/usr/bin/env python3
"""Questions the kprobe guest tests ask of reports and of perf/ftrace output.

usage: kprobe_query.py QUESTION FILE [ARGS...]
  Of a `kprobe --report --format json` document:
    hits [PID]          hits (of PID), aggregated blocks counted by their count
    pids                distinct pids, one per line
    cpus [PID]          distinct CPUs the hits were on
    count_with PID SYM  hits of PID whose user stack has a frame SYM
    user PID SYM        user frames of PID's first block with a frame SYM:
                        "function<TAB>module", function without parameters
    kernel PID          kernel frames of PID's first block, names only
    chain PID           "pid comm" of PID's process chain
    field PID KEY       KEY of PID's first block
    source PID SYM      "file:line" of PID's first frame named SYM
    lost                records lost since activation
  Of `perf script -F ip,sym,dso` output:
    perf_user FILE SYM  user frames of the first sample with a frame SYM,
                        as "user" prints them
  Of /sys/kernel/tracing/trace with a stacktrace trigger:
    ftrace_kernel FILE  kernel frames of the first stack trace, from the
                        probed function out (the probe machinery dropped)
"""
import json
import re
import sys


def function_name(symbol):
    """'ns::f<int>(int) const [clone .isra.0]' -> 'ns::f<int>'."""
    s = re.sub(r" \[clone [^\]]*\]", "", symbol)
    s = re.sub(r"\+0x[0-9a-f]+$", "", s)
    depth = 0
    for i, c in enumerate(s):
        if c in "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and i > 0:
            return s[:i]
    return s


def blocks(rep, pid=None):
    return [b for b in rep["stacks"] if pid is None or b["pid"] == int(pid)]


def has_frame(b, sym):
    return any(function_name(f["symbol"]) == sym for f in b["user_stack"])


def main():
    q, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    text = open(path).read()
    if q == "perf_user":
        for sample in text.split("\n\n"):
            frames = []
            for line in sample.splitlines()[1:]:
                m = re.match(r"\s*([0-9a-f]+) (.*) \((.*)\)$", line)
                if not m or int(m.group(1), 16) >= 0xffff800000000000:
                    continue
                if m.group(3) == "inlined" or m.group(2).endswith(" (inlined"):
                    continue
                frames.append((function_name(m.group(2)), m.group(3).rsplit("/", 1)[-1]))
            if any(f == args[0] for f, _ in frames):
                for f, mod in frames:
                    print(f"{f}\t{mod}")
                return
        return
    if q == "ftrace_kernel":
        out, inside = [], False
        for line in text.splitlines():
            if "<stack trace>" in line:
                if out:
                    break
                inside = True
                continue
            if inside and line.startswith(" => "):
                out.append(line[4:].strip())
            elif inside and out:
                break
        # kprobe_trace_func, kprobe_dispatcher, ..., a trampoline, then the
        # probed function: keep from the first frame after the trampoline
        for i, f in enumerate(out):
            if f.startswith("0x"):
                out = out[i + 1:]
                break
        print("\n".join(out))
        return
    rep = json.loads(text)
    if q == "hits":
        print(sum(b["count"] for b in blocks(rep, args[0] if args else None)))
    elif q == "pids":
        for p in sorted({b["pid"] for b in rep["stacks"]}):
            print(p)
    elif q == "cpus":
        cpus = set()
        for b in blocks(rep, args[0] if args else None):
            cpus.update(b["cpus"])
        for c in sorted(cpus):
            print(c)
    elif q == "count_with":
        print(sum(b["count"] for b in blocks(rep, args[0]) if has_frame(b, args[1])))
    elif q == "user":
        for b in blocks(rep, args[0]):
            if has_frame(b, args[1]):
                for f in b["user_stack"]:
                    print(f"{function_name(f['symbol'])}\t{f['module']}")
                return
    elif q == "kernel":
        for b in blocks(rep, args[0])[:1]:
            for f in b["kernel_stack"]:
                print(function_name(f["symbol"]))
    elif q == "chain":
        for b in blocks(rep, args[0])[:1]:
            for p in b["process_chain"]:
                print(p["pid"], p["comm"])
    elif q == "field":
        for b in blocks(rep, args[0])[:1]:
            print(b.get(args[1], ""))
    elif q == "source":
        for b in blocks(rep, args[0]):
            for f in b["user_stack"]:
                if function_name(f["symbol"]) == args[1] and "line" in f:
                    print(f"{f['file']}:{f['line']}")
                    return
    elif q == "lost":
        print(rep.get("lost", 0))
    else:
        sys.exit(f"unknown question {q}")


if __name__ == "__main__":
    main()
