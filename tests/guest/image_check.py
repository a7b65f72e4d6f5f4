#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the keytime-image and resource-image guest tests ask of reports and
of the kernel's own records.  Every question prints "KEY VALUE" lines.

usage: image_check.py QUESTION ARGS...
  kt-ours PIDS REPORT.json...   counts and facts of keytime reports (JSON
                                documents, or JSON lines from --follow) for
                                the tasks in PIDS (comma-separated)
  kt-tracefs PIDS TRACE         the same counts from a tracefs trace file
  kt-open-stack REPORT.json PID the open off-CPU stack of PID, one frame a line
  ri-ours REPORT.json           per-task totals of a resource-image report
  ri-vs-stat REPORT.json PID MARKS
                                for each sample of PID inside the span of
                                MARKS ("NS TICKS HZ" lines: CLOCK_MONOTONIC
                                and /proc/PID/stat utime+stime, taken by the
                                program): "OURS STAT NVCSW NIVCSW RUNNING SECS
                                START END", the CPU percent of the sample,
                                that of utime+stime over the same interval
                                (interpolated between marks), the sample's
                                switch counts, 1 when it was taken while the
                                task ran, the interval's length, and its
                                bounds (CLOCK_MONOTONIC ns)
  ri-wrapped REPORT.json...     samples whose interval use exceeds what the
                                task used in its whole life (*_total): a
                                baseline that was not the task's own
  ri-churn REPORT.json CHILDREN ROUNDS PARENT
                                the samples of ri_tasks' churn children
                                (CHILDREN: "PID FORK_NS REAP_NS RENAMED"
                                lines), each given to the child that had
                                its pid at the sample's time: how many
                                start before that child was forked, how
                                many children's samples do not add up to
                                what the child did (ROUNDS x 64 KiB read,
                                32 KiB written), how many pids were reused
                                after a renamed child
  ri-exec-thread REPORT.json PID
                                ri_tasks' exec-thread: the samples split by
                                whose totals they carry (the old main
                                thread's wchar is over 20 MiB, the exec'ing
                                thread's under), and the sums of each
"""
import json
import re
import sys


def load_events(paths, kind):
    """Events (keytime) or samples (resource) of reports or JSON lines."""
    out = []
    for path in paths:
        with open(path) as f:
            text = f.read()
        try:
            docs = [json.loads(text)]
        except json.JSONDecodeError:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        for d in docs:
            if kind in d:
                out.extend(d[kind])
            elif d.get("type") in ("event", "sample"):
                out.append(d)
    return out


def pid_set(text):
    return {int(p) for p in text.split(",") if p}


def kt_ours(pids, paths):
    ev = [e for e in load_events(paths, "events") if e["pid"] in pids]
    count = {}
    for e in ev:
        count[e["event"]] = count.get(e["event"], 0) + 1
    creations = [e for e in ev if e["event"].endswith("_enter")]
    ends = [e for e in ev if e["event"].endswith("_exit")]
    print("creations", len(creations))
    print("creation_ends", len(ends))
    print("children", ",".join(str(c) for c in sorted(e["child_pid"] for e in creations)) or "-")
    for kind in ("fork", "vfork", "thread", "clone"):
        print(kind, count.get(kind + "_enter", 0))
        print(kind + "_ends", count.get(kind + "_exit", 0))
        kids = sorted(e["child_pid"] for e in creations if e["kind"] == kind)
        print(kind + "_children", ",".join(map(str, kids)) or "-")
    execs = [e for e in ev if e["event"] == "exec"]
    ok = [e for e in execs if e["ret"] == 0]
    bad = [e for e in execs if e["ret"] != 0]
    print("exec_ok", len(ok))
    print("exec_failed", len(bad))
    for name, group in (("exec_ok", ok), ("exec_failed", bad)):
        if group:
            print(name + "_filename", group[0]["filename"])
            print(name + "_argv", json.dumps(group[0]["argv"]))
            print(name + "_error", group[0]["error"])
    exits = [e for e in ev if e["event"] == "exit"]
    print("exit", len(exits))
    for e in exits:
        print("exit_status.%d" % e["pid"], e["exit_status"], "last" if e["last_thread"] else "")
    print("oncpu", count.get("oncpu", 0))
    print("offcpu", count.get("offcpu", 0))
    for pid in sorted(pids):
        off = [e for e in ev if e["event"] == "offcpu" and e["pid"] == pid]
        print("blocked.%d" % pid, sum(1 for e in off if e["reason"] == "blocked"))
        print("preempted.%d" % pid, sum(1 for e in off if e["reason"] == "preempted"))
    waits = [e["duration_ns"] for e in ends if e["kind"] == "vfork"]
    print("vfork_min_wait_ns", min(waits) if waits else -1)
    stacks = [e for e in ev if e["event"] == "offcpu" and e.get("has_stack")]
    print("offcpu_with_stack", len(stacks))
    print("pids_seen", ",".join(str(p) for p in sorted({e["pid"] for e in load_events(paths, "events")})))


TRACE_LINE = re.compile(r"^\s*.+-(\d+)\s+\[\d+\].*?\s[\d.]+:\s(\w+):\s(.*)$")
FIELD = re.compile(r"(\w+)=(\S*)")


def kt_tracefs(pids, path):
    """The trace's counts.  Every watched task is off its CPU when the trace
    starts (asleep, or not yet created), so its switches alternate on, off,
    on...  A switch the trace lacks shows as two in a row of one kind, and
    is counted where the order proves it happened: some kernels' tracefs
    misses switches (Linux 6.18 of the build machines records none out of
    CPU 1's idle task, seen with a BPF program on the same tracepoint
    getting them); "tracefs_missed_switches" says how many."""
    n = {"creations": 0, "exec_ok": 0, "exit": 0, "oncpu": 0, "offcpu": 0}
    on_cpu = {}
    missed = 0
    children = []
    with open(path) as f:
        for line in f:
            m = TRACE_LINE.match(line)
            if not m:
                continue
            event, fields = m.group(2), dict(FIELD.findall(m.group(3)))
            if event == "sched_process_fork" and int(fields["pid"]) in pids:
                n["creations"] += 1
                children.append(int(fields["child_pid"]))
            elif event == "sched_process_exec" and int(fields["pid"]) in pids:
                n["exec_ok"] += 1
            elif event == "sched_process_exit" and int(fields["pid"]) in pids:
                n["exit"] += 1
            elif event == "sched_switch":
                prev, nxt = int(fields["prev_pid"]), int(fields["next_pid"])
                if prev in pids:
                    if not on_cpu.get(prev, False):
                        n["oncpu"] += 1  # its switch in is missing
                        missed += 1
                    n["offcpu"] += 1
                    on_cpu[prev] = False
                if nxt in pids:
                    if on_cpu.get(nxt, False):
                        n["offcpu"] += 1  # its switch out is missing
                        missed += 1
                    n["oncpu"] += 1
                    on_cpu[nxt] = True
    for k, v in n.items():
        print(k, v)
    print("tracefs_missed_switches", missed)
    print("children", ",".join(map(str, sorted(children))) or "-")


def kt_open_stack(path, pid):
    with open(path) as f:
        rep = json.load(f)
    for s in rep.get("stacks", []):
        if s["pid"] == pid and s["still_off_cpu"]:
            for fr in s["kernel_stack"]:
                print(fr["symbol"])
            return


def ri_ours(path):
    samples = load_events([path], "samples")
    tasks = {}
    for s in samples:
        t = tasks.setdefault(s["pid"], {"samples": 0, "rchar": 0, "wchar": 0, "cpu_ns": 0,
                                        "last_rss": 0, "exited": 0, "short": 0,
                                        "cpu_total": 0})
        t["samples"] += 1
        t["rchar"] += s["rchar"]
        t["wchar"] += s["wchar"]
        t["cpu_ns"] += s["cpu_ns"]
        t["last_rss"] = s["rss_bytes"]
        t["cpu_total"] = s["cpu_total_ns"]
        t["exited"] += s["exited"]
        t["tgid"] = s["tgid"]
    print("rchar", sum(t["rchar"] for t in tasks.values()))
    print("wchar", sum(t["wchar"] for t in tasks.values()))
    print("pids", ",".join(map(str, sorted(tasks))))
    for pid, t in sorted(tasks.items()):
        for k, v in t.items():
            print("%s.%d" % (k, pid), v)


def ri_vs_stat(path, pid, marks_path):
    marks = []
    with open(marks_path) as f:
        for line in f:
            ns, ticks, hz = map(int, line.split())
            marks.append((ns, ticks))
    hz = hz if marks else 100

    def ticks_at(t):
        for (n0, k0), (n1, k1) in zip(marks, marks[1:]):
            if n0 <= t <= n1:
                return k0 + (k1 - k0) * (t - n0) / (n1 - n0) if n1 > n0 else k0
        raise ValueError(t)

    for s in load_events([path], "samples"):
        if s["pid"] != pid or s["start_ns"] < marks[0][0] or s["ts_ns"] > marks[-1][0]:
            continue
        secs = (s["ts_ns"] - s["start_ns"]) / 1e9
        stat = 100 * (ticks_at(s["ts_ns"]) - ticks_at(s["start_ns"])) / hz / secs
        print("%.2f %.2f %d %d %d %.6f %d %d" % (s["cpu_percent"], stat, s["nvcsw"], s["nivcsw"],
                                                 s["while_running"], secs, s["start_ns"], s["ts_ns"]))


COUNTERS = (("rchar", "rchar_total"), ("wchar", "wchar_total"), ("cpu_ns", "cpu_total_ns"))


def wrapped(s):
    return any(s[d] > s[t] for d, t in COUNTERS)


def ri_wrapped(paths):
    bad = [s for s in load_events(paths, "samples") if wrapped(s)]
    print("wrapped", len(bad))
    for s in bad[:5]:
        print("example", s["pid"], s["comm"], *("%s=%d/%d" % (d, s[d], s[t]) for d, t in COUNTERS))


def ri_churn(path, children_path, rounds, parent):
    children = {}
    with open(children_path) as f:
        for line in f:
            pid, fork_ns, reap_ns, renamed = map(int, line.split())
            children.setdefault(pid, []).append(
                {"fork": fork_ns, "reap": reap_ns, "renamed": renamed, "samples": []})
    # a child's life as far as its pid is concerned: from before its fork
    # to the next fork that got the same pid (a dying task's last switch,
    # and so its exit sample, may come after the parent reaped it)
    for lives in children.values():
        lives.sort(key=lambda c: c["fork"])
        for c, nxt in zip(lives, lives[1:] + [None]):
            c["until"] = nxt["fork"] if nxt else float("inf")
    samples = [s for s in load_events([path], "samples") if s["pid"] != parent]
    orphans = before_birth = 0
    orphan_examples = []
    for s in samples:
        owner = [c for c in children.get(s["pid"], []) if c["fork"] <= s["ts_ns"] < c["until"]]
        if len(owner) != 1:
            orphans += 1
            if len(orphan_examples) < 5:
                orphan_examples.append("%d %s exited=%s ts-fork=%s" % (
                    s["pid"], s["comm"], s["exited"],
                    [s["ts_ns"] - c["fork"] for c in children.get(s["pid"], [])]))
            continue
        owner[0]["samples"].append(s)
        if s["start_ns"] < owner[0]["fork"]:
            before_birth += 1
    want = {"rchar": rounds * 65536, "wchar": rounds * 32768}
    not_adding_up = no_exit = exit_after_rename = reused = tracked = 0
    examples = []
    for pid, lives in children.items():
        for i, c in enumerate(lives):
            if i and lives[i - 1]["renamed"]:
                reused += 1
            ss = sorted(c["samples"], key=lambda s: s["ts_ns"])
            if not ss:
                not_adding_up += 1
                continue
            tracked += 1
            last = ss[-1]
            ok = all(sum(s[k] for s in ss) == last[k + "_total"] == v for k, v in want.items())
            ok = ok and sum(s["cpu_ns"] for s in ss) == last["cpu_total_ns"]
            if not ok:
                not_adding_up += 1
                if len(examples) < 5:
                    examples.append("%d: %s" % (pid, [(s["rchar"], s["rchar_total"], s["start_ns"] - c["fork"]) for s in ss]))
            exits = sum(s["exited"] for s in ss)
            if c["renamed"]:
                exit_after_rename += exits
            elif exits != 1:
                no_exit += 1
    print("children", sum(len(v) for v in children.values()))
    print("tracked", tracked)
    print("samples", len(samples))
    print("wrapped", sum(wrapped(s) for s in samples))
    print("orphans", orphans)
    print("before_birth", before_birth)
    print("not_adding_up", not_adding_up)
    print("no_exit_sample", no_exit)
    print("exit_after_rename", exit_after_rename)
    print("reused_after_rename", reused)
    for e in examples:
        print("example", e)
    for e in orphan_examples:
        print("orphan", e)


def ri_exec_thread(path, pid):
    samples = sorted(load_events([path], "samples"), key=lambda s: s["ts_ns"])
    big = [s for s in samples if s["wchar_total"] >= 20 << 20]
    small = [s for s in samples if s["wchar_total"] < 20 << 20]
    print("samples", len(samples))
    print("wrapped", sum(wrapped(s) for s in samples))
    print("wchar", sum(s["wchar"] for s in samples))
    print("leader_wchar", sum(s["wchar"] for s in big))
    print("leader_exited", sum(s["exited"] for s in big))
    print("thread_wchar", sum(s["wchar"] for s in small))
    print("thread_last_pid", small[-1]["pid"] if small else "-")
    print("thread_last_total", small[-1]["wchar_total"] if small else "-")
    for s in samples:
        print("sample", s["pid"], s["comm"], s["wchar"], s["wchar_total"], s["exited"], s["off_cpu"])


def main():
    q, args = sys.argv[1], sys.argv[2:]
    if q == "kt-ours":
        kt_ours(pid_set(args[0]), args[1:])
    elif q == "kt-tracefs":
        kt_tracefs(pid_set(args[0]), args[1])
    elif q == "kt-open-stack":
        kt_open_stack(args[0], int(args[1]))
    elif q == "ri-ours":
        ri_ours(args[0])
    elif q == "ri-wrapped":
        ri_wrapped(args)
    elif q == "ri-churn":
        ri_churn(args[0], args[1], int(args[2]), int(args[3]))
    elif q == "ri-exec-thread":
        ri_exec_thread(args[0], int(args[1]))
    elif q == "ri-vs-stat":
        ri_vs_stat(args[0], int(args[1]), args[2])
    else:
        sys.exit("unknown question " + q)


if __name__ == "__main__":
    main()
