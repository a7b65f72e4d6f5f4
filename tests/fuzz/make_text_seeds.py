#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the text seeds of the fuzz corpus (tests/fuzz/corpus/): real-looking
inputs of every text format and the hostile cases of docs/input-limits.md.
The binary seeds of the record targets come from make_record_seeds.cpp.
Run from the repository root; seeds already there are kept."""
import os

C = "tests/fuzz/corpus"


def put(target, name, data):
    d = os.path.join(C, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def at(ms, start=1000000000):
    return "0x%016x" % (start + ms * 1000000)


HEADER = """# version 1.1.0
# nr_cpus 2
# ts_field 1
# ts_clock CLOCK_MONOTONIC ns, hexadecimal
# cause 0 unknown
# cause 1 try_to_wake_up
# cause 2 pull_task
# cause 4 __migrate_task
# loc 32 copy_process
# loc 33 set_task_comm
# loc 34 task_list
# loc 35 mark
# loc 36 fork_placement
# state stopped
# start_ts %s
# stop_ts %s
# lost 0
""" % (at(0), at(100))

EVENTS = "".join([
    at(0) + " 0 . . . start_sched_clock 1700000000 500000\n",
    at(0) + " 1 . . . start_sched_clock 1700000000 500001\n",
    at(1) + " 0 . . 100 34 : worker\n",
    at(1) + " 0 . . 101 34 : hog one\n",
    at(10) + " 1 0 1 100 1\n",
    at(20) + " 0 . . 100 35 0x00000010\n",
    at(30) + " 0 1 0 101 2\n",
    at(40) + " 0 0 1 102 36\n",
    at(45) + " 0 . . 102 32 : wor\xffker\n",
    at(50) + " 1 . . 100 33 : renamed\n",
    at(60) + " 0 1 0 100 4\n",
    at(70) + " 1 . . 101 35 0x00000020\n",
    at(80) + " 1 0 1 101 1\n",
])

# ---- trace
put("fuzz_trace", "sample", HEADER + EVENTS)
put("fuzz_trace", "no-header", EVENTS)
put("fuzz_trace", "unsorted", HEADER + "".join(reversed(EVENTS.splitlines(True))))
put("fuzz_trace", "hostile-nr-cpus", "# nr_cpus 100000\n" + EVENTS)
put("fuzz_trace", "hostile-cpu", at(1) + " 99999 0 1 5 1\n")
put("fuzz_trace", "hostile-window",
    at(0) + " 0 . . . start_sched_clock 5 0\n" + at(1) + " 0 0 1 5 1\n"
    "0x4000000000000000 1 1 0 5 1\n")
put("fuzz_trace", "hostile-wall", at(0) + " 0 . . . start_sched_clock 9223372036854775807 999999\n"
    + at(1) + " 0 0 1 5 1\n")
put("fuzz_trace", "hostile-far", "# nr_cpus 8192\n0xffffffffffffffff 8191 8191 0 5 1\n0x0 0 0 8191 5 1\n")
put("fuzz_trace", "hostile-full", HEADER + "# full_cpu 1\n# full_ts 0x1\n" + EVENTS)

# ---- stat
STAT = """# version 1.1.0
# period_msec 250
# gettimeofday 1700000000 123456
# ts_field 1
# field 2 unknown
# field 3 try_to_wake_up
# field 4 fork_placement
# field 5 migrate
# nr_cpus 2
# state stopped
0.000 0 3 1 3
0.250 1 2 0 3
0.500 0 7 2 7
"""
put("fuzz_stat", "kernel", STAT)
put("fuzz_stat", "hostile-field", "# period_msec 10\n# field 4000000000 x\n0 1\n")
put("fuzz_stat", "hostile-ticks",
    "# period_msec 1\n# field 2 a\n100000000000000000 1\n100000000000000001 2\n")
put("fuzz_stat", "hostile-values", "# period_msec 1\n# field 2 a\n0 1e308\n1 -1e308\n2 inf\n")
put("fuzz_stat", "hostile-tsfield", "# period_msec 1\n# ts_field 65536\n# field 2 a\n0 1\n")

# ---- flame inputs
REPORT = """-----------------KPROBE---------------------
KPROBE HIT: PID: 7[app], TIME: [1700000000:000100]
##CGROUP:[/system.slice/app.service]  7      [001]  KPROBE HIT, TIME: [1700000000:000100]
    KERNEL STACK:
#@        0xffffffff81001234 vfs_read+0x24/0x1a0  ([kernel.kallsyms])
#@        0xffffffff81005678 ksys_read+0x67/0xf0  ([kernel.kallsyms])
    USER STACK:
#~        0x00007f0000001000 read at ../sysdeps/unix/read.c:26 [inlined] (libc.so.6)
#~        0x0000555500001234 main (/usr/bin/app)
#*        0xffffffffffffff app (UNKNOWN)
    PROCESS CHAIN:
#^        0xffffffffffffff app[7] (UNKNOWN)
#^        0xffffffffffffff bash[1] (UNKNOWN)
#%        3
##
#~        0x0000555500001234 [unknown] ([unknown])
#*        0xffffffffffffff w\\xffeird (UNKNOWN)
##
"""
put("fuzz_flame_report", "kprobe", REPORT)
put("fuzz_flame_report", "hostile-counts",
    "#~ 0x1 a (m)\n#% 9223372036854775807\n##\n#~ 0x1 b (m)\n#% 9223372036854775807\n##\n")
JSON = """{"function": "kprobe", "stacks": [
 {"pid": 7, "tgid": 7, "comm": "app", "cgroup": "/x", "count": 3,
  "kernel_stack": [{"addr": "0xffffffff81001234", "symbol": "vfs_read+0x24", "module": "[kernel.kallsyms]"}],
  "user_stack": [{"addr": "0x1", "symbol": "read", "module": "libc.so.6", "file": "read.c", "line": 26, "inlined": true},
                 {"addr": "0x2", "symbol": "[unknown]", "module": "/usr/bin/app"}],
  "process_chain": [{"pid": 1, "comm": "bash"}]},
 {"comm": "a\\nb\\u0000", "count": 18446744073709551615, "user_stack": [{"symbol": "x;y"}]}
], "lost": 0}
"""
put("fuzz_flame_json", "kprobe", JSON)
put("fuzz_flame_json", "nested", '{"a": ' + "[" * 5000 + "]" * 5000 + ', "stacks": []}')
FOLDED = "main;work;compute 40\nmain;work;io 10\nmain;idle 5\nbash;main 1\n"
put("fuzz_flame_folded", "sample", FOLDED)
put("fuzz_flame_folded", "hostile-deep",
    ";".join("f%d" % (i % 13) for i in range(50000)) + " 1\n")
put("fuzz_flame_folded", "hostile-counts",
    "a;b 18446744073709551615\na;c 18446744073709551615\n")
put("fuzz_flame_folded", "hostile-bytes", "a\xff;\x1b[2J;b\r 3\n\xc3 1\n")
put("fuzz_flame_diff", "sample", "main;work;compute 30 40\nmain;work;io 12 10\nmain;idle 0 5\n")
put("fuzz_flame_diff", "hostile-counts", "a;b 9223372036854775807 9223372036854775807\na 1 1\n")
PERF = """app  1234/1235 [001] 12345.678901:     250000 cycles:u:
	    7f0000001234 compute+0x14 (/usr/bin/app)
	    7f0000000abc main+0x2c (/usr/bin/app)
	ffffffff81001234 vfs_read+0x24 ([kernel.kallsyms])

app 1234 12345.678999: 1 cpu-clock:
	    7f0000001234 compute (/usr/bin/app)

kworker/0:1  99 [000] 12345.700000: 1 cycles:
	ffffffff81001234 worker_thread ([kernel.kallsyms])
	ffffffff81005678 [unknown] ([unknown])

"""
put("fuzz_flame_perf", "sample", PERF)
put("fuzz_flame_perf", "no-indent", "app 1 1.0: 1 cycles:\n7f0000001234 compute (/usr/bin/app)\n\n")

# ---- activate
for i, s in enumerate([
        "tgid=1,pid=2,comm=app,verbose=1,buf-kib=64",
        "probe=do_sys_openat2,cpu=0-3,8,ustack-kib=16,dump-style=1",
        "pid=3,interval=100,max-tasks=10",
        "tgid=3,oncpu=1,stack=1",
        "cpu=0-8191,probe=x",
        "cpu=99999,probe=x",
        "tgid=99999999999999999999",
        "comm=\xff\x1b[2J,pid=1",
        "probe=a,cpu=,",
        "buf_kib=1, tgid = 5 ,",
]):
    put("fuzz_activate", "seed-%d" % i, s)
