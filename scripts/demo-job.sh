#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The demo itself: load diagnose.ko (not with DIAGNOSE_BACKEND=bpf), start a
# process whose threads migrate, watch it with migrate-image and print the
# report.  Runs on the host when it can load modules or run the BPF
# backend, otherwise inside the guest (scripts/demo.sh).
set -u
REPO=$(pwd)
DT=$REPO/build/diagnose-tools
W=/tmp/diagnose-demo
show() {
	printf '\n$ %s\n' "$*"
	"$@"
}

loaded=0
if [[ ${DIAGNOSE_BACKEND:-} != bpf ]] && ! lsmod 2>/dev/null | grep -q '^diagnose '; then
	insmod "$REPO/module/diagnose.ko" || exit 1
	loaded=1
fi
echo "kernel $(uname -r), $(nproc) CPUs, backend ${DIAGNOSE_BACKEND:-module}"

# a worker thread moved between CPUs by sched_setaffinity 6 times, then
# left to the scheduler while a busy sibling competes for the CPUs
rm -rf "$W"
mkdir -p "$W"
"$REPO/build/tests/migrator" "$W" 6 1 2000 >/dev/null 2>&1 &
while [[ ! -e $W/ready ]]; do sleep 0.05; done
tgid=$(awk '$1 == "tgid" {print $2}' "$W/pids")

nr_migrations() { awk '/^se.nr_migrations/ {print $3}' "/proc/$tgid/task/$1/sched"; }
show "$DT" migrate-image --activate="tgid=$tgid,verbose=1"
declare -A before
for t in /proc/"$tgid"/task/*; do
	before[$(basename "$t")]=$(nr_migrations "$(basename "$t")")
done
kill -USR1 "$tgid"
while [[ ! -e $W/done ]]; do sleep 0.05; done
show "$DT" migrate-image --settings
show "$DT" migrate-image --report
echo
echo "# the kernel's own count: change of se.nr_migrations per thread since --activate"
for t in /proc/"$tgid"/task/*; do
	tid=$(basename "$t")
	printf '#   %-6s %-12s %s\n' "$tid" "$(cat "$t/comm")" \
		"$(($(nr_migrations "$tid") - before[$tid]))"
done
show "$DT" migrate-image --deactivate
kill "$tgid"
((loaded)) && rmmod diagnose
exit 0
