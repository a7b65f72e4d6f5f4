#!/usr/bin/env python3
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
                                program): "OURS STAT NVCSW NIVCSW RUNNING", the CPU
                                percent of the sample, that of utime+stime
                                over the same interval (interpolated between
                                marks), the sample's switch counts, and 1
                                when it was taken while the task ran
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
    n = {"creations": 0, "exec_ok": 0, "exit": 0, "oncpu": 0, "offcpu": 0}
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
                if int(fields["prev_pid"]) in pids:
                    n["offcpu"] += 1
                if int(fields["next_pid"]) in pids:
                    n["oncpu"] += 1
    for k, v in n.items():
        print(k, v)
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
        print("%.2f %.2f %d %d %d" % (s["cpu_percent"], stat, s["nvcsw"], s["nivcsw"],
                                      s["while_running"]))


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
    elif q == "ri-vs-stat":
        ri_vs_stat(args[0], int(args[1]), args[2])
    else:
        sys.exit("unknown question " + q)


if __name__ == "__main__":
    main()
