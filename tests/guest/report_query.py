#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Questions the guest tests ask of a `--report --format json` document.

usage: report_query.py QUESTION REPORT.json [ARGS...]
  counts             "PID MIGRATIONS" per task (fork placements excluded)
  tgids              "PID TGID" per task
  comms              "PID COMM" per task
  window PID T0 T1   "ORIG DEST CAUSE" of PID's migrations with T0 <= ts <= T1
  moves              "PID ORIG DEST" of every migration, per task in time order
  causes             "CAUSE COUNT" over all migrations
  lost               records lost since the previous report, all CPUs
  lost_total         records lost since activation
  records            number of records (migrations and fork placements)
"""
import json
import sys


def main():
    question, path = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    with open(path) as f:
        rep = json.load(f)
    tasks = rep.get("tasks", [])
    if question == "counts":
        for t in tasks:
            print(t["pid"], t["migrations"])
    elif question == "tgids":
        for t in tasks:
            print(t["pid"], t["tgid"])
    elif question == "comms":
        for t in tasks:
            print(t["pid"], t["comm"])
    elif question == "window":
        pid, t0, t1 = int(args[0]), int(args[1]), int(args[2])
        for t in tasks:
            if t["pid"] != pid:
                continue
            for e in t["events"]:
                if t0 <= e["ts_ns"] <= t1 and not e["fork_placement"]:
                    print(e["orig_cpu"], e["dest_cpu"], e["cause"])
    elif question == "moves":
        for t in sorted(tasks, key=lambda t: t["pid"]):
            for e in t["events"]:
                if not e["fork_placement"]:
                    print(t["pid"], e["orig_cpu"], e["dest_cpu"])
    elif question == "causes":
        for cause, n in sorted(rep.get("by_cause", {}).items()):
            print(cause, n)
    elif question == "lost":
        print(sum(rep.get("lost_since_last_report", {}).values()))
    elif question == "lost_total":
        print(rep.get("lost", 0))
    elif question == "records":
        print(sum(len(t["events"]) for t in tasks))
    else:
        sys.exit("unknown question " + question)


if __name__ == "__main__":
    main()
