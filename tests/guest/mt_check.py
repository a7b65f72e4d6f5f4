#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Independent readers of the migration trace, its stat and ftrace's trace,
for the migration_trace guest cases.  Nothing here uses diagnose-tools.

  mt_check.py window OURS FTRACE BEGIN_MARK END_MARK
      print "A B": two instants between the marks, each in the middle of a
      quiet gap (no event of either trace within 1 ms), the first and last
      such; comparing both traces over [A, B] by their own timestamps is
      then exact (the two timestamps of one migration are microseconds
      apart).
  mt_check.py compare OURS FTRACE A B [LOST]
      per task, the sequence of (from, to) migrations of ours against
      ftrace's sched_migrate_task events with orig_cpu != dest_cpu; with
      LOST (the trace's "# lost", moves the kernel made without calling
      the program), a task's moves may lack some of ftrace's, in order,
      and over the whole trace the moves lacking must be exactly LOST
  mt_check.py count OURS [A B]        migrations (ours) in [A, B]
  mt_check.py pids OURS A B           "PID COUNT" lines
  mt_check.py stat STAT OURS          the stat's rows against the trace
  mt_check.py stat_near STAT OURS FTRACE
      a stat counted apart from the trace (its own timestamps, the BPF
      backend): for every period boundary B, the stat's count before B
      against the events before B, each count of the trace and of ftrace
      allowed only the events within 2 ms of B or of the start, and the
      moves the stat counted lost or the calls it skipped (its "# lost"
      and "# skipped_calls" lines); a count may fall
      after its boundary by up to LATE_MAX (a few times per run) when the
      totals agree after it; every column against the trace, migrate
      and fork_placement (sched_wakeup_new, which FTRACE must hold)
      against ftrace
  mt_check.py marks OURS              "PID MARK" lines in trace order
"""
import re
import sys
from bisect import bisect_left
from collections import Counter, defaultdict


def parse_ours(path):
    header = {"causes": {}, "kinds": {}}
    events = []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            t = line[1:].split()
            if len(t) >= 3 and t[0] in ("cause", "loc"):
                header["causes" if t[0] == "cause" else "kinds"][int(t[1])] = t[2]
            elif len(t) >= 2:
                header[t[0]] = t[1]
            continue
        t = line.split(" ", 7)
        ts = int(t[0], 16)
        cpu = int(t[1])
        if t[2] != ".":
            kind = int(t[5])
            name = header["kinds"].get(kind)
            typ = "fork" if name == "fork_placement" else "migrate"
            events.append({"ts": ts, "cpu": cpu, "type": typ, "from": int(t[2]),
                           "to": int(t[3]), "pid": int(t[4]), "kind": kind})
        elif t[5] == "start_sched_clock":
            events.append({"ts": ts, "cpu": cpu, "type": "start"})
        else:
            kind = int(t[5])
            name = header["kinds"][kind]
            e = {"ts": ts, "cpu": cpu, "type": name, "pid": int(t[4]), "kind": kind}
            if name == "mark":
                e["mark"] = int(t[6], 16)
            else:
                e["comm"] = line.split(" : ", 1)[1]
            events.append(e)
    return header, events


FT_EVENT = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\].*?\s(\d+)\.(\d+): sched_migrate_task: "
                      r"comm=.* pid=(\d+) prio=-?\d+ orig_cpu=(\d+) dest_cpu=(\d+)")


def parse_ftrace(path):
    events = []
    written = None
    for line in open(path, errors="replace"):
        m = re.match(r"# entries-in-buffer/entries-written: (\d+)/(\d+)", line)
        if m:
            written = (int(m.group(1)), int(m.group(2)))
        m = FT_EVENT.match(line)
        if m:
            ts = int(m.group(4)) * 1000000000 + int(m.group(5).ljust(9, "0")[:9])
            events.append({"ts": ts, "pid": int(m.group(6)), "from": int(m.group(7)),
                           "to": int(m.group(8))})
    if written and written[0] != written[1]:
        sys.exit(f"ftrace lost events: {written[0]} in buffer, {written[1]} written")
    return events


FT_FORK = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\].*?\s(\d+)\.(\d+): sched_wakeup_new: "
                     r"comm=.* pid=(\d+) prio=-?\d+ target_cpu=(\d+)")


def ftrace_forks(path):
    """The timestamps of the fork placements in a trace with sched_wakeup_new
    enabled: the child's CPU not the one the parent woke it on; None when
    the trace has no sched_wakeup_new event at all (not enabled, or a
    format this does not read: every fork makes one)."""
    forks, seen = [], False
    for line in open(path, errors="replace"):
        m = FT_FORK.match(line)
        if m:
            seen = True
            if int(m.group(3)) != int(m.group(7)):
                forks.append(int(m.group(4)) * 1000000000 + int(m.group(5).ljust(9, "0")[:9]))
    return forks if seen else None


def mark_ts(events, value):
    for e in events:
        if e["type"] == "mark" and e["mark"] == value:
            return e["ts"]
    sys.exit(f"mark {value:#x} is not in the trace")


def window(ours, ftrace, begin_mark, end_mark):
    _, ev = parse_ours(ours)
    ft = parse_ftrace(ftrace)
    m1, m2 = mark_ts(ev, begin_mark), mark_ts(ev, end_mark)
    ts = sorted([e["ts"] for e in ev if e["type"] in ("migrate", "fork")] +
                [e["ts"] for e in ft] + [m1, m2])
    quiet = []
    for u, v in zip(ts, ts[1:]):
        mid = (u + v) // 2
        if v - u > 2000000 and m1 < mid < m2:
            quiet.append(mid)
    if len(quiet) < 2:
        sys.exit("no two quiet gaps between the marks")
    print(quiet[0], quiet[-1])


def ours_moves(ev, a, b):
    return [e for e in ev if e["type"] == "migrate" and a <= e["ts"] <= b]


def in_order_within(short, long):
    """Whether SHORT is LONG with some elements left out, in order."""
    it = iter(long)
    return all(x in it for x in short)


def moves_by_pid(events):
    seq = defaultdict(list)
    for e in events:
        seq[e["pid"]].append((e["from"], e["to"]))
    return seq


EDGE_NS = 2000000


def compare(ours, ftrace, a, b, unseen=None):
    header, ev = parse_ours(ours)
    all_ft = [e for e in parse_ftrace(ftrace) if e["from"] != e["to"]]
    ft = [e for e in all_ft if a <= e["ts"] <= b]
    mine = ours_moves(ev, a, b)
    seq_ours, seq_ft = moves_by_pid(mine), moves_by_pid(ft)
    bad = missing = 0
    for pid in sorted(set(seq_ours) | set(seq_ft)):
        so, sf = seq_ours[pid], seq_ft[pid]
        if so == sf:
            continue
        if unseen and len(so) < len(sf) and in_order_within(so, sf):
            print(f"  pid {pid}: {len(sf) - len(so)} of ftrace's {len(sf)} moves not in the trace")
            missing += len(sf) - len(so)
            continue
        print(f"  FAILED: pid {pid}: ours {len(so)} migrations, ftrace {len(sf)}")
        bad += 1
    same = [e for e in ev if e["type"] == "migrate" and e["from"] == e["to"]]
    if same:
        print(f"  FAILED: {len(same)} migration events with the same source and destination")
        bad += 1
    print(f"  {len(mine)} migrations of {len(seq_ours)} tasks in the window, ftrace "
          f"{len(ft)} of {len(seq_ft)} tasks")
    if unseen is not None:
        # over the whole trace, the moves ftrace saw and the trace lacks
        # are the moves it counted lost: no more, no fewer.  A move within
        # EDGE_NS of the start or the stop may fall on either side of it
        # for one of the two (each takes its own time, and the CLI's start
        # and stop are not atomic with the programs' state checks).
        lo, hi = int(header["start_ts"], 16), int(header["stop_ts"], 16)

        def lacking(ft_lo, ft_hi, our_lo, our_hi):
            o = moves_by_pid(ours_moves(ev, our_lo, our_hi))
            f = moves_by_pid(e for e in all_ft if ft_lo <= e["ts"] <= ft_hi)
            return sum(max(0, len(f[p]) - len(o[p])) for p in f)

        least = lacking(lo + EDGE_NS, hi - EDGE_NS, lo - EDGE_NS, hi + EDGE_NS)
        most = lacking(lo - EDGE_NS, hi + EDGE_NS, lo - EDGE_NS, hi + EDGE_NS)
        print(f"  {unseen} moves counted lost; the trace lacks {least} of ftrace's "
              f"(up to {most} with the moves near its start and stop; {missing} in the window)")
        if not least <= unseen <= most:
            print(f"  FAILED: the trace counts {unseen} moves lost, and lacks {least} to {most}")
            bad += 1
    return 1 if bad else 0


# How long a count may stay on the wrong side of boundaries before the
# totals agree again: the stat takes its own timestamp, and a vCPU of a
# TCG guest that the loaded host deschedules between two programs of one
# event (tracefs's, the trace's, the stat's) puts them that far apart.
LATE_MAX = 500000000


def read_stat(stat_path):
    period = start = None
    lost = 0
    fields, rows = {}, []
    for line in open(stat_path):
        if line.startswith("#"):
            t = line[1:].split()
            if t[0] == "period_msec":
                period = int(t[1]) * 1000000
            elif t[0] == "start_ts":
                start = int(t[1], 16)
            elif t[0] == "field":
                fields[t[2]] = int(t[1]) - 1
            elif t[0] in ("lost", "skipped_calls"):
                # a skipped call may be a move no column holds
                lost += int(t[1])
            continue
        rows.append([int(float(x)) if i else float(x) for i, x in enumerate(line.split())])
    return period, start, fields, rows, lost


def stat(stat_path, ours):
    period, start, fields, rows, _ = read_stat(stat_path)
    header, ev = parse_ours(ours)
    k = len(rows)
    if k < 2:
        sys.exit(f"only {k} complete periods in the stat")
    want_rows = [Counter() for _ in range(k)]
    for e in ev:
        if e["type"] == "migrate" and start <= e["ts"] < start + k * period:
            idx = (e["ts"] - start) // period
            want_rows[idx]["migrate"] += 1
            want_rows[idx][header["causes"][e["kind"]]] += 1
        if e["type"] == "fork" and start <= e["ts"] < start + k * period:
            want_rows[(e["ts"] - start) // period]["fork_placement"] += 1
    bad = 0
    total_stat = total_trace = 0
    for i, (row, want) in enumerate(zip(rows, want_rows)):
        total_stat += row[fields["migrate"]]
        total_trace += want["migrate"]
        for name, col in fields.items():
            if row[col] != want[name]:
                print(f"  FAILED: period {i} ({row[0]} s) {name}: stat {row[col]:.0f}, "
                      f"trace {want[name]}")
                bad += 1
    print(f"  {k} periods: stat migrate sum {total_stat:.0f}, trace {total_trace}")
    if total_trace < 20:
        print("  FAILED: too few migrations to compare")
        bad += 1
    return 1 if bad else 0


def stat_near(stat_path, ours, ftrace):
    eps = 2000000
    period, start, fields, rows, lost = read_stat(stat_path)
    header, ev = parse_ours(ours)
    k = len(rows)
    if k < 2:
        sys.exit(f"only {k} complete periods in the stat")
    # (timestamp, column) of every event the stat counts
    events = []
    for e in ev:
        if e["type"] == "migrate":
            events.append((e["ts"], header["causes"][e["kind"]]))
            events.append((e["ts"], "migrate"))
        elif e["type"] == "fork":
            events.append((e["ts"], "fork_placement"))
    ft = [(e["ts"], "migrate") for e in parse_ftrace(ftrace) if e["from"] != e["to"]]
    forks = ftrace_forks(ftrace)
    if forks is None:
        sys.exit("no sched_wakeup_new event in the ftrace file: fork placements cannot be checked")
    ft_columns = {"migrate", "fork_placement"}
    ft += [(t, "fork_placement") for t in forks]
    bad = ambiguous = 0
    late = []
    for source, evs in (("trace", events), ("ftrace", ft)):
        for name, col in fields.items():
            if col == 0 or (source == "ftrace" and name not in ft_columns):
                continue
            ts = sorted(t for t, c in evs if c == name)
            counted = 0
            off_since = None  # the first boundary of a run of them off
            for b in range(1, k + 1):
                counted += rows[b - 1][col]
                edge = start + b * period
                lo = max(0, bisect_left(ts, edge - eps) - bisect_left(ts, start + eps))
                hi = bisect_left(ts, edge + eps) - bisect_left(ts, start - eps)
                if hi > lo and name == "migrate":
                    ambiguous += 1
                ok = lo - lost <= counted <= hi
                where = f"{name} before {rows[b - 1][0] + period / 1e9:.3f} s"
                if not ok:
                    print(f"  {where}: stat {counted}, {source} between {lo} and {hi}")
                    if off_since is None:
                        off_since = b
                elif off_since is not None:
                    late.append((b - off_since) * period)
                    off_since = None
                if off_since is not None and (b - off_since + 1) * period > LATE_MAX:
                    print(f"  FAILED: {where}: off for more than {LATE_MAX / 1e6:.0f} ms")
                    bad += 1
                    off_since = None
            if off_since is not None:
                print(f"  FAILED: {name}: the stat's total is off")
                bad += 1
    if len(late) > 6:
        print(f"  FAILED: {len(late)} runs of boundaries off")
        bad += 1
    total = sum(r[fields["migrate"]] for r in rows)
    print(f"  {k} periods: stat migrate sum {total}, {lost} lost or skipped; {ambiguous} "
          f"boundary checks with an event within 2 ms; fork placements: stat "
          f"{sum(r[fields['fork_placement']] for r in rows)}, ftrace "
          f"{sum(start <= t < start + k * period for t in forks)}")
    if total < 20:
        print("  FAILED: too few migrations to compare")
        bad += 1
    return 1 if bad else 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "window":
        window(args[0], args[1], int(args[2], 0), int(args[3], 0))
    elif cmd == "compare":
        sys.exit(compare(args[0], args[1], int(args[2]), int(args[3]),
                         int(args[4]) if len(args) > 4 else None))
    elif cmd == "count":
        _, ev = parse_ours(args[0])
        a, b = (int(args[1]), int(args[2])) if len(args) > 2 else (0, 1 << 64)
        print(len(ours_moves(ev, a, b)))
    elif cmd == "pids":
        _, ev = parse_ours(args[0])
        c = Counter(e["pid"] for e in ours_moves(ev, int(args[1]), int(args[2])))
        for pid, n in sorted(c.items()):
            print(pid, n)
    elif cmd == "stat":
        sys.exit(stat(args[0], args[1]))
    elif cmd == "stat_near":
        sys.exit(stat_near(args[0], args[1], args[2]))
    elif cmd == "marks":
        _, ev = parse_ours(args[0])
        for e in ev:
            if e["type"] == "mark":
                print(e["pid"], hex(e["mark"]))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
