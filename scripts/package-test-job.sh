#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In the guest, in the Debian root where the package was installed
# (scripts/package-test.sh): load the DKMS-built module as a user would,
# watch a process with migrate-image and compare with the kernel's own
# per-thread migration counts, then purge the package and show that the
# module and every file are gone.
set -u
REPO=$(pwd)
fails=0
check() { # check WHAT CMD...
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
ok() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi; }
not() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "FAIL $what"; fails=$((fails + 1)); else echo "ok   $what"; fi; }

# what udev or systemd would provide: bash's process substitution (which
# dkms uses) needs /dev/fd
[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd

echo "kernel $(uname -r)"
ok "modprobe diagnose" modprobe diagnose
ok "lsmod lists diagnose" grep -q '^diagnose ' /proc/modules
echo "module file: $(modinfo -n diagnose)"
diagnose-tools --version
diagnose-tools status
ok "status exits 0" diagnose-tools status

# migrate-image on a process whose threads migrate; the oracle is the
# kernel's se.nr_migrations of each thread over the same window
W=/tmp/pkg-migrator
mkdir -p "$W"
"$REPO/build/tests/migrator" "$W" 6 1 2000 >/dev/null 2>&1 &
while [[ ! -e $W/ready ]]; do sleep 0.05; done
tgid=$(awk '$1 == "tgid" {print $2}' "$W/pids")
nr_migrations() { awk '/^se.nr_migrations/ {print $3}' "/proc/$tgid/task/$1/sched"; }
ok "migrate-image --activate" diagnose-tools migrate-image --activate="tgid=$tgid"
declare -A before
for t in /proc/"$tgid"/task/*; do before[${t##*/}]=$(nr_migrations "${t##*/}"); done
diagnose-tools status | grep -A6 "migrate-image"
check "status shows migrate-image active on tgid $tgid" \
	sh -c "diagnose-tools status | grep -A8 'migrate-image: ACTIVE' | grep -q 'TGID: $tgid\$'"
kill -USR1 "$tgid"
while [[ ! -e $W/done ]]; do sleep 0.05; done
diagnose-tools migrate-image --report >"$W/report.txt"
report_total=0
for t in /proc/"$tgid"/task/*; do
	tid=${t##*/}
	kernel=$(($(nr_migrations "$tid") - before[$tid]))
	ours=$(awk -v p="$tid" '$1 == "PID:" && $2 == p {f = 1} f && $1 == "PRIO:" {print $4; exit}' "$W/report.txt")
	ours=${ours:-0}
	report_total=$((report_total + ours))
	echo "     thread $tid: kernel $kernel, migrate-image $ours"
	check "thread $tid: migrate-image counts what the kernel counts" test "$kernel" = "$ours"
done
check "the workload migrated at all" test "$report_total" -gt 0
grep -q "^LOST TOTAL: 0" "$W/report.txt" || { echo "FAIL records lost"; fails=$((fails + 1)); }
ok "migrate-image --deactivate" diagnose-tools migrate-image --deactivate
kill "$tgid"
wait 2>/dev/null

echo "== apt-get purge diagnose-tools"
files=$(dpkg -L diagnose-tools | while read -r f; do [[ -f $f ]] && echo "$f"; done)
echo "     the package had $(wc -l <<<"$files") files"
DEBIAN_FRONTEND=noninteractive apt-get purge -y diagnose-tools 2>&1 | tail -n 5
not "diagnose is no longer loaded" grep -q '^diagnose ' /proc/modules
not "modinfo diagnose fails" modinfo diagnose
check "dkms status knows no diagnose" test -z "$(dkms status diagnose 2>&1)"
left=$(for f in $files; do [[ -e $f ]] && echo "$f"; done)
check "none of the package's files is left" test -z "$left"
[[ -n $left ]] && echo "$left" | head
not "no diagnose.ko under /lib/modules" sh -c 'find /lib/modules -name "diagnose.ko*" | grep -q .'
not "no /usr/src/diagnose-*" sh -c 'ls -d /usr/src/diagnose-* 2>/dev/null | grep -q .'
not "no /var/lib/dkms/diagnose" test -e /var/lib/dkms/diagnose

echo "package test: $fails failures"
((fails == 0))
