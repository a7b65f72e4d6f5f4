#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read ftrace's sched_migrate_task events with their stack traces.

usage: ftrace_migrations.py TRACE_FILE
prints "PID ORIG DEST CAUSE" per event with orig != dest, in trace order,
where CAUSE is named from the kernel's own stack trace of the event: the
first frame, innermost first, that belongs to a scheduler path that decides
a migration.  This is the independent view the module's classifier is
checked against.
"""
import re
import sys

# function on ftrace's stack -> the cause it means
DECIDERS = {
    "try_to_wake_up": "try_to_wake_up",
    "load_balance": "pull_task",
    "sched_balance_rq": "pull_task",  # load_balance() since 6.10
    "active_load_balance_cpu_stop": "pull_one_task",
    "migration_cpu_stop": "stopper",  # affinity, exec or NUMA: see below
    "affine_move_task": "__migrate_task",
    "__set_cpus_allowed_ptr_locked": "__migrate_task",
    "push_rt_task": "push_rt_task",
    "push_rt_tasks": "push_rt_task",
    "rto_push_irq_work_func": "push_rt_task",
    "pull_rt_task": "pull_rt_task",
    "balance_rt": "pull_rt_task",
    "push_dl_task": "push_dl_task",
    "pull_dl_task": "pull_dl_task",
    "balance_dl": "pull_dl_task",
    "migrate_swap_stop": "migrate_swap",
    "push_cpu_stop": "push_cpu_stop",
    "__balance_push_cpu_stop": "balance_push",
}
EVENT = re.compile(r"sched_migrate_task: comm=.* pid=(\d+) prio=\d+ orig_cpu=(\d+) dest_cpu=(\d+)")
FRAME = re.compile(r"^\s*=> (\S+)")


def main():
    events = []
    current = None
    for line in open(sys.argv[1], errors="replace"):
        m = EVENT.search(line)
        if m:
            current = {"pid": m.group(1), "orig": m.group(2), "dest": m.group(3), "cause": None}
            events.append(current)
            continue
        f = FRAME.match(line)
        if f and current is not None and current["cause"] is None:
            name = f.group(1).split("+")[0].split(".")[0]
            if name in DECIDERS:
                current["cause"] = DECIDERS[name]
    for e in events:
        if e["orig"] != e["dest"]:
            print(e["pid"], e["orig"], e["dest"], e["cause"] or "unknown")


if __name__ == "__main__":
    main()
