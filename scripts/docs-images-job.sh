#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real output in docs/keytime-image.md and docs/resource-image.md: run
# in the guest with
#   scripts/guest/run.sh build/docs-images scripts/docs-images-job.sh
# and paste from build/docs-images/job.log.
REPO=$(pwd)
DT=$REPO/build/diagnose-tools
P=$REPO/build/tests
show() {
	printf '\n$ %s\n' "$*" | sed "s|$REPO/build/||g"
	"$@"
}
# start PROG DIR ARGS...: run a test program, wait until it waits for SIGUSR1
start() {
	local prog=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	"$P/$prog" "$dir" "$@" >/dev/null 2>&1 &
	pid=$!
	while [[ ! -e $dir/ready ]]; do sleep 0.05; done
	sleep 0.2
}
wait_file() { while [[ ! -e $1 ]]; do sleep 0.05; done; }
insmod "$REPO/module/diagnose.ko" || exit 1
cd /tmp

echo "######## keytime-image: tgid, oncpu=1"
start lifecycle /tmp/kt 2 1 2 20
show "$DT" keytime-image --activate="tgid=$pid,oncpu=1"
kill -USR1 $pid
wait_file kt/stage2
sleep 0.3
show "$DT" keytime-image --report
kill -USR1 $pid
wait $pid
show "$DT" keytime-image --deactivate

echo "######## keytime-image: json, no oncpu"
start lifecycle /tmp/kt4 1 1 0 20
"$DT" keytime-image --activate="tgid=$pid" >/dev/null
kill -USR1 $pid
wait_file kt4/stage2
sleep 0.3
kill -USR1 $pid
wait $pid
show "$DT" keytime-image --report --format json
"$DT" keytime-image --deactivate >/dev/null

echo "######## keytime-image: pid, stack=1, follow"
start lifecycle /tmp/kt2 1 1 1 20
show "$DT" keytime-image --activate="pid=$pid,stack=1"
(sleep 1; kill -USR1 $pid; while [[ ! -e kt2/stage2 ]]; do sleep 0.05; done; sleep 0.5; kill -USR1 $pid) &
show "$DT" keytime-image --report --follow --duration 4
wait $pid
show "$DT" keytime-image --deactivate

echo "######## keytime-image: stack=1 report and flame"
start lifecycle /tmp/kt3 1 1 1 20
"$DT" keytime-image --activate="tgid=$pid,stack=1" >/dev/null
kill -USR1 $pid
wait_file kt3/stage2
sleep 0.3
printf "\n$ diagnose-tools keytime-image --report   # (the stacks part)\n"
"$DT" keytime-image --report >/tmp/offcpu.txt
sed -n '/OFF-CPU STACKS/,$p' /tmp/offcpu.txt
show "$DT" flame --format folded /tmp/offcpu.txt
kill -USR1 $pid
wait $pid
"$DT" keytime-image --deactivate >/dev/null

echo "######## resource-image"
start resburn /tmp/ri 500 cpu:2000:50 io:4096 mem:32 burst:1024:30
show "$DT" resource-image --activate="tgid=$pid,interval=500"
show cat /proc/$pid/io
kill -USR1 $pid
wait_file ri/done
sleep 3.5
show cat /proc/$pid/io
show grep VmRSS /proc/$pid/status
show "$DT" resource-image --report
show "$DT" resource-image --deactivate
kill -USR1 $pid
wait $pid

echo "######## resource-image follow json"
start resburn /tmp/ri2 300 cpu:1000:30 io:512
"$DT" resource-image --activate="pid=$pid,interval=300" >/dev/null
(sleep 0.5; kill -USR1 $pid) &
show "$DT" resource-image --report --follow --duration 3 --format json
show "$DT" resource-image --deactivate
kill -USR1 $pid
wait $pid
rmmod diagnose
