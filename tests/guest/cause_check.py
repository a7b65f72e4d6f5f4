#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The migrate-image cause tests' judge: a report (`--report --format json`,
every task watched) against what a cause_work workload did and what the
kernel counted itself.  Nothing here knows how the module finds a cause:
the workload decides which path moves its threads, and the kernel's own
counters (schedstats, NUMA tracepoints, se.nr_migrations) count them.

usage: cause_check.py schedstat
         "T0 T1 LB_GAINED ALB_PUSHED": /proc/schedstat's tasks pulled by
         load_balance() and pushed by active balancing, summed over every
         CPU and domain, read between CLOCK_MONOTONIC T0 and T1
       cause_check.py check SCENARIO DIR [CAUSE]
         judges DIR (cause_work's OUTDIR, plus report.json, sched0,
         sched1 and the kernel's trace, with CLOCK_MONOTONIC timestamps);
         CAUSE is the cause the RT and DL scenarios are designed to show.
         Prints "ok: ..." and "FAILED: ..." lines; exits 1 when anything
         failed.
"""
import json
import re
import sys
import time

LB_CAUSES = ("pull_task", "pull_one_task")


def schedstat():
    t0 = time.monotonic_ns()
    with open("/proc/schedstat") as f:
        text = f.read()
    t1 = time.monotonic_ns()
    version = int(re.search(r"^version (\d+)", text, re.M).group(1))
    # v15/16: 8 counters per idle type, lb_gained the 5th; v17 split
    # lb_imbalance in four (and named the domain): 11, lb_gained the 8th
    block, gained_at = (8, 4) if version < 17 else (11, 7)
    fields = 3 * block + 3 + 6 + 3
    gained = pushed = 0
    for line in text.splitlines():
        if not line.startswith("domain"):
            continue
        v = [int(x) for x in line.split()[-fields:]]
        gained += sum(v[i * block + gained_at] for i in range(3))
        pushed += v[3 * block + 2]
    print(t0, t1, gained, pushed)


TRACE_LINE = re.compile(r"^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+): (\w+): (.*)$")


class Move:
    """One sched_migrate_task of the kernel's trace: where it went, and
    which CPU and task ran it."""

    def __init__(self, ts, orig, dest, cpu, comm, waking):
        self.ts, self.orig, self.dest = ts, orig, dest
        self.cpu, self.comm, self.waking = cpu, comm, waking

    def kind(self):
        """What the kernel's record alone says about the path:
        wakeup      inside try_to_wake_up() of the task (between its
                    sched_waking and the move, on the same CPU)
        stopper     run by a stopper thread (migration/N): affinity, exec,
                    NUMA (a swap runs on one of the two CPUs' stoppers),
                    active balancing
        pull        run on the destination CPU: load balancing, RT/DL pull
        push        run on the source CPU by whatever ran there: RT/DL push
        remote      run on a third CPU"""
        if self.waking:
            return "wakeup"
        if self.comm.startswith("migration/"):
            return "stopper"
        if self.cpu == self.dest:
            return "pull"
        if self.cpu == self.orig:
            return "push"
        return "remote"


def read_trace(path):
    """The trace's migrations per pid, and its NUMA decisions as
    (ts, event, fields)."""
    moves, numa, waking = {}, [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = TRACE_LINE.match(line)
            if not m:
                continue
            comm, cpu = m.group(1).strip(), int(m.group(3))
            ts = int(m.group(4)) * 10**9 + int(m.group(5).ljust(9, "0")[:9])
            event, rest = m.group(6), m.group(7)
            fields = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)(?:\s|$)", rest)}
            if event == "sched_waking":
                waking[fields["pid"]] = cpu
            elif event == "sched_wakeup":
                waking.pop(fields["pid"], None)
            elif event == "sched_migrate_task":
                pid = fields["pid"]
                if fields["orig_cpu"] != fields["dest_cpu"]:
                    moves.setdefault(pid, []).append(
                        Move(ts, fields["orig_cpu"], fields["dest_cpu"], cpu, comm, waking.get(pid) == cpu))
            elif event.endswith("_numa"):
                numa.append((ts, event, fields))
    return moves, numa


class Judge:
    def __init__(self, d, cause):
        self.d = d
        self.cause = cause
        self.bad = 0
        with open(d + "/report.json") as f:
            self.rep = json.load(f)
        self.events = {}
        for t in self.rep.get("tasks", []):
            ev = [(e["ts_ns"], e["orig_cpu"], e["dest_cpu"], e["cause"])
                  for e in t["events"] if not e["fork_placement"]]
            self.events.setdefault(t["pid"], []).extend(ev)
        for ev in self.events.values():
            ev.sort()
        self.counts = {t["pid"]: t["migrations"] for t in self.rep.get("tasks", [])}
        self.nr = []
        self.wakeup_moves = {}
        with open(d + "/nr") as f:
            for line in f:
                tid, role, before, after, wbefore, wafter = line.split()
                self.nr.append((int(tid), role, int(before), int(after)))
                self.wakeup_moves[int(tid)] = int(wafter) - int(wbefore)
        with open(d + "/log") as f:
            self.log = [line.split() for line in f]
        self.moves, self.numa = read_trace(d + "/trace")

    def ok(self, what):
        print("  ok: " + what)

    def fail(self, what):
        print("  FAILED: " + what)
        self.bad += 1

    def expect(self, cond, what):
        (self.ok if cond else self.fail)(what)

    def tids(self, role):
        return [t for t, r, _, _ in self.nr if r == role]

    def logged(self, key):
        return [l for l in self.log if l and l[0] == key]

    def window(self):
        w = self.logged("window")
        return (int(w[0][1]), int(w[0][2])) if w else (0, 1 << 64)

    def common(self, schedstats=True):
        """Every report: nothing lost; each thread's count is the kernel's
        se.nr_migrations change, and its wakeup moves the kernel's
        nr_wakeups_migrate change; and over the whole system, the
        migrations reported as load balancing are those schedstats
        counted."""
        self.expect(self.rep.get("lost", 0) == 0, "no record lost (lost = %s)" % self.rep.get("lost"))
        # The workload read the counters one thread after the other: a
        # move during those reads may or may not be in them, one before
        # or after is not; the report's moves within the inner bounds
        # must be counted, and those within the outer bounds may be.
        c = self.logged("counted")
        b0, b1, a0, a1 = (int(x) for x in c[0][1:5]) if c else (0, 0, 1 << 64, 1 << 64)
        for tid, role, before, after in self.nr:
            ev = [e for e in self.events.get(tid, []) if b0 <= e[0] <= a1]
            inner = [e for e in ev if b1 < e[0] < a0]
            woken = [e for e in ev if e[3] == "try_to_wake_up"]
            woken_inner = [e for e in inner if e[3] == "try_to_wake_up"]
            delta, wdelta = after - before, self.wakeup_moves[tid]
            edge = len(ev) - len(inner)
            self.expect(self.counts.get(tid, 0) == len(self.events.get(tid, [])),
                        "%s %d: the report's count is its moves'" % (role, tid))
            self.expect(len(inner) <= delta <= len(ev) and len(woken_inner) <= wdelta <= len(woken),
                        "%s %d: %d migrations reported%s, se.nr_migrations +%d; %d try_to_wake_up, "
                        "nr_wakeups_migrate +%d" % (role, tid, len(inner), " (and %d during the reads)" % edge
                                                    if edge else "", delta, len(woken_inner), wdelta))
            outside = [e for e in self.events.get(tid, []) if not b1 < e[0] < a0]
            if outside:
                print("  %s %d moved outside the counted span: %s" % (role, tid, ", ".join(
                    "%d>%d %s at %+.3f ms of %s" % (o, d, cause, (ts - (b1 if ts <= b1 else a0)) / 1e6,
                                                   "the first reads' end" if ts <= b1 else "the last reads' start")
                    for ts, o, d, cause in outside)))
        if not schedstats:
            return
        s0 = [int(x) for x in open(self.d + "/sched0").read().split()]
        s1 = [int(x) for x in open(self.d + "/sched1").read().split()]
        inside = {c: 0 for c in LB_CAUSES}
        edge = {c: 0 for c in LB_CAUSES}
        for ev in self.events.values():
            for ts, _, _, cause in ev:
                if cause not in LB_CAUSES:
                    continue
                if s0[1] < ts < s1[0]:
                    inside[cause] += 1
                elif s0[0] <= ts <= s0[1] or s1[0] <= ts <= s1[1]:
                    edge[cause] += 1
        # lb_gained counts active balancing's task too (detach_one_task)
        kernel = {"pull_task": (s1[2] - s0[2]) - (s1[3] - s0[3]), "pull_one_task": s1[3] - s0[3]}
        for cause in LB_CAUSES:
            ours = inside[cause]
            self.expect(ours <= kernel[cause] <= ours + edge[cause],
                        "system-wide %s: %d reported, schedstats counted %d%s"
                        % (cause, ours, kernel[cause], " (%d at the edges)" % edge[cause] if edge[cause] else ""))

    def judge(self, tid, expected, t0=0, t1=1 << 64):
        """The report's moves of tid against the kernel's trace: the same
        moves in the same order, and each with the cause expected(index,
        move) gives (or one of the tuple it gives), which knows the
        workload and the kernel's record of the move, never the module.
        Returns [(move, cause)] for moves with t0 <= ts <= t1."""
        ours = self.events.get(tid, [])
        kern = self.moves.get(tid, [])
        if [(o, d) for _, o, d, _ in ours] != [(m.orig, m.dest) for m in kern]:
            self.fail("task %d: the report's moves %s are not the kernel's %s"
                      % (tid, [(o, d) for _, o, d, _ in ours], [(m.orig, m.dest) for m in kern]))
            return []
        out, wrong = [], []
        for i, ((ts, o, d, cause), m) in enumerate(zip(ours, kern)):
            want = expected(i, m)
            if cause not in (want if isinstance(want, tuple) else (want,)):
                wrong.append("%d>%d %s, expected %s (%s on CPU %d)" % (o, d, cause, " or ".join(want)
                             if isinstance(want, tuple) else want, m.comm, m.cpu))
            if t0 <= ts <= t1:
                out.append((m, cause))
        print("  task %d moves: %s" % (tid, " ".join("%d>%d:%s/%s" % (m.orig, m.dest, c, m.kind())
                                                   for (_, _, _, c), m in zip(ours, kern)) or "none"))
        self.expect(not wrong, "task %d: every cause is the one expected%s" % (tid, ": " + "; ".join(wrong) if wrong else ""))
        return out

    # ---- scenarios ----

    def affinity(self):
        moves = [(int(l[1]), int(l[2])) for l in self.logged("move")]
        self.expect(len(moves) > 0 and not self.logged("timeout"),
                    "the workload moved its thread %d times" % len(moves))
        (hog,) = self.tids("hog")
        # pinned to one CPU at a time: nothing but the affinity change can
        # move it, whether the stopper or the caller carries it out
        done = self.judge(hog, lambda i, m: "__migrate_task")
        self.expect([(m.orig, m.dest) for m, _ in done] == moves, "the moves are the workload's, in order")

    def exec(self):
        children = []
        try:
            with open(self.d + "/exec") as f:
                children = [[int(x) for x in l.split()] for l in f]
        except FileNotFoundError:
            pass
        self.expect(len(children) == len(self.logged("child")) > 0,
                    "%d children ran exec_probe, %d forked" % (len(children), len(self.logged("child"))))
        moved = 0
        for pid, cpu0, cpu1, nr0, nr1 in children:
            def expected(i, m, nr0=nr0, nr1=nr1):
                # before the execve the stopper runs only for the child
                # pinning itself to CPU 0; inside it, for sched_exec();
                # after exec_probe's reading (on the way out), only for
                # active balancing.  Anything else (the balancer, a
                # wakeup) the kernel's record of the move names.
                stopper = "__migrate_task" if i < nr0 else "sched_exec" if i < nr1 else "pull_one_task"
                return {"stopper": stopper, "pull": "pull_task",
                        "wakeup": "try_to_wake_up"}.get(m.kind(), "?")
            ev = self.judge(pid, expected)
            # exec_probe read se.nr_migrations right after the exec; the
            # child may still move before it exits (the report's moves are
            # the kernel's tracepoint's, judge() checked that)
            self.expect(len(ev) >= nr1, "child %d: %d moves reported, se.nr_migrations %d after the exec"
                        % (pid, len(ev), nr1))
            moved += sum(1 for m, c in ev[nr0:nr1] if c == "sched_exec")
        # the workload's yield, not the tool's: on a loaded host CPU 1's
        # balancer pulls some children first, or is busy at the exec (a
        # 6.1 guest beside two others: 4 of 10); every move's cause was
        # judged above either way
        self.expect(moved >= max(1, (len(children) + 3) // 4),
                    "%d of %d execs moved the child to the idle CPU (sched_exec)" % (moved, len(children)))

    def wakeup(self):
        (s,) = self.tids("S")
        trials = self.logged("trial")
        done = self.judge(s, lambda i, m: {"stopper": "__migrate_task", "wakeup": "try_to_wake_up",
                                           "pull": "pull_task"}.get(m.kind(), "?"))
        woken = [c for _, c in done].count("try_to_wake_up")
        self.expect(woken >= max(1, len(trials) // 4),
                    "%d of %d wakeups moved the sleeper to the idle CPU (try_to_wake_up)" % (woken, len(trials)))

    def balancer(self, m):
        """A move the design leaves to the load balancer."""
        return {"stopper": "pull_one_task", "pull": "pull_task", "remote": "pull_task"}.get(m.kind(), "?")

    def balance(self):
        print("  hogs: %s" % "; ".join(" ".join(l[1:]) for l in self.logged("hog")))
        self.expect(not self.logged("offline") and not self.logged("online"), "CPU 1 went offline and back")
        done = []
        for hog in self.tids("hog"):
            done += self.judge(hog, lambda i, m: self.balancer(m))
        pulled = sum(1 for _, c in done if c == "pull_task")
        self.expect(pulled >= 1, "the balancer pulled a spinner to the idle CPU (pull_task %d)" % pulled)

    def active(self):
        (hog,) = self.tids("hog")
        trials = self.logged("trial")
        print("  trials: %s" % "; ".join("%s ms" % l[5] for l in trials))
        done = self.judge(hog, lambda i, m: "__migrate_task" if (m.orig, m.dest) == (1, 0) else self.balancer(m))
        out = [c for m, c in done if (m.orig, m.dest) == (0, 1)]
        self.expect(len(out) == sum(1 for l in trials if l[3] == "1"), "%d trials, %d moves to CPU 1" % (len(trials), len(out)))
        self.expect(out.count("pull_one_task") >= 1,
                    "active balancing moved the running spinner (pull_one_task %d of %d)"
                    % (out.count("pull_one_task"), len(out)))

    def rtdl(self, scenario):
        cls = scenario[:2]
        (low,) = self.tids("L")
        push, pull = "push_%s_task" % cls, "pull_%s_task" % cls
        highs = {"cw-H0", "cw-H1"}

        def expected(i, m):
            if m.kind() == "wakeup":
                return "try_to_wake_up"
            if m.cpu == m.orig:
                return push	# a pull runs on the CPU that pulls
            if m.cpu == m.dest and m.comm in highs:
                # the destination's high thread going to sleep: its CPU
                # drops to a lower priority (balance_rt/balance_dl)
                return pull
            if m.cpu == m.dest:
                # anything else there may be a pull, or the source's push
                # run from this CPU (rt_mutex_setprio() and
                # sched_setscheduler() run the balance callbacks of the
                # task's runqueue, wherever they are called; priority
                # inheritance does that all the time on PREEMPT_RT)
                return (push, pull)
            return "?"
        t0, t1 = self.window()
        done = self.judge(low, expected, t0, t1)
        want = [c for _, c in done].count(self.cause)
        rounds = self.logged("push") + self.logged("round")
        print("  workload: %s" % "; ".join(" ".join(l) for l in rounds))
        self.expect(want >= max(1, len(rounds) // 2),
                    "%d of L's %d moves in %d rounds are %s, as designed"
                    % (want, len(done), len(rounds), self.cause))

    def numa_decision(self, pid, m):
        """The NUMA tracepoint that announced a move of pid, if any:
        sched_move_numa or sched_swap_numa for the same CPUs, at most a
        second before it."""
        for ts, ev, f in reversed(self.numa):
            if not m.ts - 10**9 <= ts <= m.ts:
                continue
            if ev == "sched_move_numa" and f["pid"] == pid and (f["src_cpu"], f["dst_cpu"]) == (m.orig, m.dest):
                return "migrate_task_to"
            if ev == "sched_swap_numa":
                if f["src_pid"] == pid and (f["src_cpu"], f["dst_cpu"]) == (m.orig, m.dest):
                    return "migrate_swap"
                if f["dst_pid"] == pid and (f["dst_cpu"], f["src_cpu"]) == (m.orig, m.dest):
                    return "migrate_swap"
        return None

    def numa_case(self, threads, design):
        trials = self.logged("trial")
        print("  trials: %s" % "; ".join(" ".join(l[2:]) for l in trials))
        print("  NUMA tracepoints: %s" % " ".join("%s%s" % (e[6:], "(%d>%d)" % (f.get("src_cpu", -1), f.get("dst_cpu", -1)))
                                                 for _, e, f in self.numa))
        designed = 0
        for k in range(threads):
            (tid,) = self.tids("T%d" % k)

            def expected(i, m, tid=tid, home=k):
                if m.kind() == "wakeup":
                    return "try_to_wake_up"	# from the barrier between trials
                if m.kind() != "stopper":
                    return self.balancer(m)	# NUMA-aware load balancing
                if m.dest == home:
                    return "__migrate_task"	# it pins itself back home
                return self.numa_decision(tid, m) or "pull_one_task"
            done = self.judge(tid, expected)
            designed += sum(1 for _, c in done if c == design)
        self.expect(trials and not self.logged("timeout"), "all %d trials ended on the memory's node" % len(trials))
        # the load balancer, NUMA-aware, may get there first now and then
        self.expect(designed >= max(1, len(trials) * threads // 2),
                    "%d moves in %d trials are %s, as designed" % (designed, len(trials), design))

    def numa_move(self):
        self.numa_case(1, "migrate_task_to")

    def numa_swap(self):
        self.numa_case(2, "migrate_swap")


def main():
    if sys.argv[1] == "schedstat":
        schedstat()
        return
    if sys.argv[1] != "check":
        sys.exit(__doc__)
    scenario, d = sys.argv[2], sys.argv[3]
    j = Judge(d, sys.argv[4] if len(sys.argv) > 4 else None)
    # CPU hotplug rebuilds the sched domains, and their counters restart
    j.common(schedstats=scenario != "balance")
    if scenario == "balance":
        print("  (schedstats not compared: CPU hotplug rebuilt the sched domains)")
    if scenario[:2] in ("rt", "dl"):
        j.rtdl(scenario)
    else:
        getattr(j, scenario.replace("-", "_"))()
    if j.bad:
        print("  the workload's log:")
        for line in j.log[:60]:
            print("  | " + " ".join(line))
    sys.exit(1 if j.bad else 0)


if __name__ == "__main__":
    main()
