#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Facts the kprobe guest tests check, from a `kprobe --report --format json`
document and, optionally, the same run's ftrace trace and perf script output.
One call prints every fact as "key<TAB>value" (python starts slowly in the
emulated guest, so the tests ask once per report).

usage: kprobe_query.py REPORT.json [PID [PROG [TRACE [PERF]]]]
  hits, lost, pids, cpus                  of the whole report
  kernel.first                            distinct innermost kernel frames
  kernel.shallow                          blocks with fewer than 3 kernel frames
  pid.hits, pid.cpus                      of PID
  pid.count.FUNC                          hits of PID through user frame FUNC
  pid.first.FUNC                          "func@module" innermost in the first
                                          block of PID through FUNC
  pid.kernel                              kernel frames (names) of PID's first block
  pid.user                                user frames "func@module" of PID's first
                                          block through kp::do_read (else the first)
  pid.prog                                the same, only PROG's own frames
  pid.FIELD                               unwind, maps, cgroup of that block
  pid.chain, pid.chain_first, pid.chain_last   "pid comm" links
  pid.source.FUNC                         "file:line" of PID's first frame FUNC
  ftrace.kernel                           kernel frames of TRACE's first stack
                                          trace, from the probed function out
  perf.prog                               PROG's frames of PERF's first sample
                                          through kp::do_read
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
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        elif c == "(" and depth == 0 and i > 0:
            return s[:i]
    return s


def put(key, value):
    print(f"{key}\t{value}")


def report_facts(rep, pid, prog):
    stacks = rep["stacks"]
    put("hits", sum(b["count"] for b in stacks))
    put("lost", rep.get("lost", 0))
    put("pids", " ".join(str(p) for p in sorted({b["pid"] for b in stacks})))
    put("cpus", " ".join(str(c) for c in sorted({c for b in stacks for c in b["cpus"]})))
    put("kernel.first", " ".join(sorted({function_name(b["kernel_stack"][0]["symbol"])
                                         for b in stacks if b["kernel_stack"]})))
    put("kernel.shallow", sum(len(b["kernel_stack"]) < 3 for b in stacks))
    if pid is None:
        return
    mine = [b for b in stacks if b["pid"] == pid]
    put("pid.hits", sum(b["count"] for b in mine))
    put("pid.cpus", " ".join(str(c) for c in sorted({c for b in mine for c in b["cpus"]})))
    counts = {}
    for b in mine:
        for f in {function_name(f["symbol"]) for f in b["user_stack"]}:
            counts[f] = counts.get(f, 0) + b["count"]
    for f, n in counts.items():
        put(f"pid.count.{f}", n)
    # the innermost frame of the first block through each function
    first = {}
    for b in mine:
        if b["user_stack"]:
            top = b["user_stack"][0]
            for f in {function_name(f["symbol"]) for f in b["user_stack"]}:
                first.setdefault(f, f"{function_name(top['symbol'])}@{top['module']}")
    for f, top in first.items():
        put(f"pid.first.{f}", top)
    if not mine:
        return
    through = [b for b in mine
               if any(function_name(f["symbol"]) == "kp::do_read" for f in b["user_stack"])]
    b = (through or mine)[0]
    put("pid.kernel", " ".join(function_name(f["symbol"]) for f in b["kernel_stack"]))
    user = [(function_name(f["symbol"]), f["module"]) for f in b["user_stack"]]
    put("pid.user", " ".join(f"{f}@{m}" for f, m in user))
    put("pid.prog", " ".join(f for f, m in user if m == prog))
    put("pid.unwind", b["user_unwind"])
    put("pid.maps", b["user_maps"])
    put("pid.cgroup", b["cgroup"])
    chain = [f"{p['pid']} {p['comm']}" for p in b["process_chain"]]
    put("pid.chain", ", ".join(chain))
    put("pid.chain_first", chain[0] if chain else "")
    put("pid.chain_last", chain[-1] if chain else "")
    for f in b["user_stack"]:
        key = f"pid.source.{function_name(f['symbol'])}"
        if "line" in f:
            put(key, f"{f['file']}:{f['line']}")


def ftrace_kernel(text):
    out, inside = [], False
    for line in text.splitlines():
        if "<stack trace>" in line:
            if out:
                break
            inside = True
        elif inside and line.startswith(" => "):
            out.append(line[4:].strip())
        elif inside and out:
            break
    # kprobe_trace_func, kprobe_dispatcher, ..., the ftrace trampoline (an
    # address), then the probed function: keep from there.  Where a BPF
    # trampoline shares the function's fentry site, ftrace calls its ops
    # through the shared caller instead, named: ..., ftrace_regs_call.
    for i, f in enumerate(out):
        if f.startswith("0x"):
            out = out[i + 1:]
            break
    else:
        shared = [i for i, f in enumerate(out) if f.startswith("ftrace_regs_call")]
        if shared:
            out = out[shared[0] + 1:]
    return " ".join(out)


def perf_prog(text, prog):
    for sample in text.split("\n\n"):
        frames = []
        for line in sample.splitlines():
            m = re.match(r"\s*([0-9a-f]+) (.*) \((.*)\)$", line)
            if not m or m.group(3) == "inlined":
                continue
            frames.append((function_name(m.group(2)), m.group(3).rsplit("/", 1)[-1]))
        if any(f == "kp::do_read" for f, _ in frames):
            return " ".join(f for f, mod in frames if mod == prog)
    return ""


def main():
    args = sys.argv[1:]
    with open(args[0]) as f:
        rep = json.load(f)
    pid = int(args[1]) if len(args) > 1 else None
    prog = args[2] if len(args) > 2 else ""
    report_facts(rep, pid, prog)
    if len(args) > 3:
        with open(args[3]) as f:
            put("ftrace.kernel", ftrace_kernel(f.read()))
    if len(args) > 4:
        with open(args[4]) as f:
            put("perf.prog", perf_prog(f.read(), prog))


if __name__ == "__main__":
    main()
