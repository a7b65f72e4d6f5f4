#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest job behind docs/migration-trace.md: a user's session with the
# migration_trace/ and migration_stat/ files and the analysis commands,
# printed as typed.  Run from the repository root:
#   scripts/guest/run.sh build/mt-demo scripts/migration-trace-demo-job.sh
# (build the module, the CLI and tests/guest/progs first: make all progs).
# The SVG charts are left in the output directory.
set -u
REPO=$(pwd)
DT=$REPO/build/diagnose-tools
PROGS=$REPO/build/tests
OUT=${DIAG_OUT:-/tmp}
MT=/sys/kernel/debug/migration_trace
MS=/sys/kernel/debug/migration_stat
cd /tmp

# show 'COMMAND' runs it through bash, printed as a prompt line first
show() {
	echo "\$ $1"
	bash -c "$1" 2>&1
	local rc=$?
	((rc)) && echo "[exit $rc]"
	return 0
}

insmod "$REPO/module/diagnose.ko"
export PATH=$REPO/build:$PATH

show "ls $MT $MS"
show "cat /sys/module/diagnose/parameters/migration_trace_kib /sys/module/diagnose/parameters/migration_stat_hours"
show "echo 100 > $MS/period_msec"
show "echo 1 > $MS/enable"
show "echo 1 > $MT/enable"
show "cat $MT/enable"
show "echo 1 > $MT/mark"

# the workload: a thread moved with sched_setaffinity, then left to the
# scheduler beside two busy siblings
mkdir -p /tmp/mig
"$PROGS/migrator" /tmp/mig 6 2 2000 >/dev/null 2>&1 &
mig=$!
while [[ ! -e /tmp/mig/ready ]]; do sleep 0.05; done
worker=$(awk '$1 == "worker" {print $2}' /tmp/mig/pids)
echo "\$ ./migrator ...    # worker thread $worker, two mig-hog threads"
kill -USR1 "$mig"
while [[ ! -e /tmp/mig/done ]]; do sleep 0.05; done
sleep 0.5

show "echo 2 > $MT/mark"
show "cat $MT/trace > /dev/null"
show "echo 0 > $MT/enable"
show "echo 0 > $MS/enable"
show "cat $MT/trace > trace.txt; wc -l trace.txt"
show "grep '^#' trace.txt"
show "grep -m 4 start_sched_clock -A 3 trace.txt"
show "grep -m 3 ' 32 : ' trace.txt"
show "grep -m 2 ' 33 : ' trace.txt"
show "grep ' 35 0x' trace.txt"
show "grep -v '^#' trace.txt | awk '\$3 != \".\" && \$6 < 32' | head -5"
show "grep -v '^#' trace.txt | awk '\$6 == 36' | head -2"
show "cat $MS/stat > stat.txt; head -32 stat.txt"

show "diagnose-tools migrate-stats trace.txt"
show "diagnose-tools migrate-stats --migrate --ts_rel --pid $worker trace.txt | head -12"
show "diagnose-tools migrate-stats --migrate --ts_abs --begin_mark 1 --end_mark 2 --cause pull_task trace.txt | head -5"
show "diagnose-tools migrate-stats --stats --format json --comm mig-worker trace.txt"
show "diagnose-tools migrate-stats --period 500 --period_all --period_cause --period_cpu trace.txt > periods.txt; cat periods.txt"
show "diagnose-tools migrate-extract --min_field periods.txt; diagnose-tools migrate-extract --max_field periods.txt"
show "diagnose-tools migrate-extract --field_num try_to_wake_up periods.txt"
show "diagnose-tools migrate-extract --field_name 2 periods.txt"
show "diagnose-tools migrate-extract --extract 2 periods.txt"
show "diagnose-tools migrate-extract --extract \$(diagnose-tools migrate-extract --field_num migrate stat.txt) stat.txt | head -5"
show "diagnose-tools migrate-stats --plot $OUT/migrate-stats.svg --period 250 --period_all --period_cause trace.txt > /dev/null"
show "diagnose-tools migrate-extract --plot $OUT/migrate-extract.svg --extract 3 --extract 18 stat.txt > /dev/null"

# the refusals, each with its errno
show "echo 1 > $MT/enable"
show "echo 0 > $MT/enable; echo 5 > $MT/mark"
show "echo yes > $MT/enable"
show "echo 10 > $MS/period_msec"
show "diagnose-tools migrate-stats --cause nosuch trace.txt"
show "echo 0 > $MT/reset; echo 0 > $MS/reset; echo 10 > $MS/period_msec; tail -1 $MT/trace"

kill "$mig"
wait "$mig" 2>/dev/null
rmmod diagnose
