# SPDX-License-Identifier: GPL-2.0-or-later
# Adversarial guest cases (test_abuse_*): no record lost without being
# counted, and no crash under abuse.
#
#   random ioctls      100,000 random calls from 4 threads while functions
#                      are active; every errno one docs/abi.md gives for
#                      the call; without privileges only EACCES/EPERM; a
#                      refused report consumes nothing
#   lifecycle storms   1,000 activate/report/deactivate cycles of every
#                      function under load; clients racing; a follower
#                      killed mid-drain; rmmod and CPU hotplug with every
#                      function active; nothing leaked
#   debugfs garbage    every file of migration_trace/ and migration_stat/
#                      refuses garbage with EINVAL and keeps its state,
#                      while tracing, under concurrent readers
#   ring accounting    every function on its smallest buffer, records of
#                      mixed sizes, reported often and rarely: delivered +
#                      counted lost = the kernel's own count
#
# Every test prints "figure:" lines (counts, rates, durations) for
# docs/reliability.md.  DIAG_ABUSE_CALLS and DIAG_ABUSE_CYCLES scale the
# two big counts down (defaults: the issue's 100,000 and 1,000).

AB_CALLS=${DIAG_ABUSE_CALLS:-100000}
AB_CYCLES=${DIAG_ABUSE_CYCLES:-1000}
AB_SEED=${DIAG_ABUSE_SEED:-$((RANDOM * 32768 + RANDOM))}
AB_LOAD_COMM=abuse-load
AB_TRACE=/sys/kernel/tracing/instances/diag-abuse
AB_MT=/sys/kernel/debug/migration_trace
AB_MS=/sys/kernel/debug/migration_stat
AB_CPU1=/sys/devices/system/cpu/cpu1/online

ab_figure() { echo "  figure: $*"; }

# ab_val KEY FILE: the value after the word KEY ("KEY VALUE" lines, or
# "K1 V1 K2 V2 ..." on one line)
ab_val() {
	awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}' "$2"
}

# The load generator (loadgen.c), every thread named $AB_LOAD_COMM; sets AB_LOAD
ab_load_start() {
	"$PROGS/loadgen" "$AB_LOAD_COMM" "${1:-1}" >"$WORK/loadgen.log" 2>&1 &
	AB_LOAD=$!
	sleep 0.3
}

ab_load_stop() {
	[[ -n ${AB_LOAD:-} ]] || return 0
	kill -TERM "$AB_LOAD" 2>/dev/null
	reap "$AB_LOAD"
	echo "  $(cat "$WORK/loadgen.log")"
	AB_LOAD=
}

ab_meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
ab_refcount() { awk '$1 == "diagnose" {print $3}' /proc/modules; }
ab_kprobes() { cat /sys/kernel/debug/kprobes/list 2>/dev/null | grep -c .; }

# The guest (QEMU multi-threaded TCG) does not survive thousands of live
# code patches: switching a tracepoint on and off a few thousand times
# under load oopses 6.12 ("Oops: int3" in __schedule or update_curr) and
# hangs 6.1 within seconds, without diagnose.ko (echo 1/0 into
# events/sched/sched_switch/enable in a loop).  The storms below activate
# and deactivate thousands of times; so that they test the module and not
# the emulator, every tracepoint and kprobed function the module uses is
# held meanwhile by two tracefs instances that record nothing.  With two
# probes on a tracepoint already, adding and removing ours patches no code:
# its static key stays on and its static call stays on the iterator (a
# tracepoint with one probe calls it directly).  A kprobe on a function
# that has one already joins it without re-arming.
AB_KEYS=/sys/kernel/tracing/instances/diag-abuse-keys
AB_KEY_EVENTS="sched/sched_migrate_task sched/sched_wakeup_new sched/sched_process_fork
	sched/sched_process_exec sched/sched_process_exit sched/sched_switch
	sched/sched_stat_runtime task/task_rename"
AB_KEY_KPROBES="vfs_write vfs_read __x64_sys_getppid kernel_clone __x64_sys_execve
	__x64_sys_execveat"

ab_keys_hold() {
	local e f i
	ab_keys_release
	for f in $AB_KEY_KPROBES; do
		echo "p:abuse_keys/$f $f" >>/sys/kernel/tracing/kprobe_events ||
			fail "cannot hold a kprobe on $f"
	done
	for i in 1 2; do
		mkdir "$AB_KEYS$i" || { fail "cannot make tracefs instance $AB_KEYS$i"; return 1; }
		echo 0 >"$AB_KEYS$i/tracing_on"
		for e in $AB_KEY_EVENTS; do
			echo 1 >"$AB_KEYS$i/events/$e/enable" || fail "cannot hold $e"
		done
		for f in $AB_KEY_KPROBES; do
			echo 1 >"$AB_KEYS$i/events/abuse_keys/$f/enable" || fail "cannot hold kprobe $f"
		done
	done
}

ab_keys_release() {
	local f i
	for i in 1 2; do
		[[ -d $AB_KEYS$i ]] || continue
		echo 0 >"$AB_KEYS$i/events/enable"
		rmdir "$AB_KEYS$i"
	done
	for f in $AB_KEY_KPROBES; do
		echo "-:abuse_keys/$f" >>/sys/kernel/tracing/kprobe_events 2>/dev/null
	done
}

# Deactivation waits for RCU grace periods (tracepoint and kprobe
# removal), normally tens of milliseconds each under emulation; the storms
# make thousands.  Expedited grace periods are the same guarantee, sooner.
ab_rcu_fast() {
	AB_RCU_SAVED="$(cat /sys/kernel/rcu_expedited 2>/dev/null) $(cat /sys/kernel/rcu_normal 2>/dev/null)"
	echo 1 >/sys/kernel/rcu_expedited 2>/dev/null
	echo 0 >/sys/kernel/rcu_normal 2>/dev/null
}

ab_rcu_restore() {
	local e n
	read -r e n <<<"${AB_RCU_SAVED:-}"
	[[ -n $e ]] && echo "$e" >/sys/kernel/rcu_expedited
	[[ -n $n ]] && echo "$n" >/sys/kernel/rcu_normal
	AB_RCU_SAVED=
}

# Every function active on the load generator (straight ioctls: the CLI
# takes seconds per call under emulation, and its own tests cover it).
ab_activate_all() {
	expect_rc "activate migrate-image" 0 "$PROGS/fn_storm" on migrate-image "tgid=$AB_LOAD" buf-kib=256
	expect_rc "activate kprobe" 0 "$PROGS/fn_storm" on kprobe probe=vfs_write "tgid=$AB_LOAD" buf-kib=512 ustack-kib=4
	expect_rc "activate keytime-image" 0 "$PROGS/fn_storm" on keytime-image "comm=$AB_LOAD_COMM" stack=1 buf-kib=256
	expect_rc "activate resource-image" 0 "$PROGS/fn_storm" on resource-image "tgid=$AB_LOAD" interval=10 buf-kib=256
}

# Each function reports everything it has (well-formed) and deactivates.
ab_report_deactivate_all() {
	local f
	for f in migrate-image kprobe keytime-image resource-image; do
		expect_rc "$f: report all, deactivate" 0 "$PROGS/fn_storm" off "$f"
		ab_figure "$OUT"
	done
}

# ---- 1. random ioctls ----

test_abuse_random_ioctls() {
	local d=$WORK/ab-fuzz t0 rc
	mkdir -p "$d"
	ab_keys_hold || return 1
	ab_rcu_fast
	ab_load_start 1
	# the storm runs against these two, active on a busy process
	expect_rc "activate migrate-image" 0 "$PROGS/fn_storm" on migrate-image "tgid=$AB_LOAD" buf-kib=128
	expect_rc "activate keytime-image" 0 "$PROGS/fn_storm" on keytime-image "tgid=$AB_LOAD" oncpu=1 buf-kib=128
	t0=$(date +%s.%N)
	timeout 900 "$PROGS/ioctl_abuse" fuzz "$AB_CALLS" 4 "$AB_SEED" "$AB_LOAD" >"$d/log" 2>&1
	rc=$?
	sed 's/^/  | /' "$d/log"
	expect_eq "$rc" 0 "random ioctls: only documented errnos (seed $AB_SEED)"
	ab_figure "random ioctls: $(grep -o 'calls [0-9]* threads.*' "$d/log")"
	grep '^errnos ' "$d/log" | sed 's/^/  figure: /'
	# the functions kept active through the storm still work
	expect_rc "migrate-image: report and deactivate after the storm" 0 "$PROGS/fn_storm" off migrate-image
	ab_figure "after the storm: $OUT"
	expect_rc "keytime-image: report and deactivate after the storm" 0 "$PROGS/fn_storm" off keytime-image
	ab_figure "after the storm: $OUT"
	ab_load_stop
	ab_keys_release
	ab_rcu_restore
	ab_figure "random ioctls: wall $(echo "$(date +%s.%N) - $t0" | bc) s"
}
register_test test_abuse_random_ioctls

# A refused report (EFAULT: the buffer or the request cannot be written)
# consumes nothing: a report after it still holds every migration the
# kernel counted.
test_abuse_refused_report_consumes_nothing() {
	expect_rc "refused reports consume nothing" 0 "$PROGS/ioctl_abuse" consume
	echo "$OUT" | sed 's/^/  | /'
}
register_test test_abuse_refused_report_consumes_nothing

# Without root's capabilities: the device does not open (EACCES, and EPERM
# from the module when the node is opened up), and an fd opened by root
# and kept past setuid gets EPERM for every call, valid ones included.
test_abuse_unprivileged() {
	local prog=$WORK/ioctl_abuse
	# a copy the unprivileged user can run
	install -m 0755 "$PROGS/ioctl_abuse" "$prog"
	expect_rc "open as nobody" 0 setpriv --reuid 65534 --regid 65534 --clear-groups "$prog" unpriv-open
	expect_eq "$OUT" "open: EACCES" "open of the 0600 node as nobody"
	chmod 0666 /dev/diagnose
	expect_rc "open as nobody, node 0666" 0 setpriv --reuid 65534 --regid 65534 --clear-groups "$prog" unpriv-open
	chmod 0600 /dev/diagnose
	expect_eq "$OUT" "open: EPERM" "open without CAP_SYS_ADMIN, node 0666"
	expect_rc "activate migrate-image" 0 "$DT" migrate-image --activate="tgid=1,buf-kib=64"
	expect_rc "calls after dropping root" 0 "$prog" unpriv-ioctl 5000
	echo "$OUT" | sed 's/^/  | /'
	ab_figure "unprivileged: $(grep -o '[0-9]* calls as uid.*' <<<"$OUT")"
	expect_rc "settings" 0 "$DT" migrate-image --settings --format json
	expect_grep "still active: the refused calls changed nothing" '"activated": true' "$OUT"
	expect_rc "deactivate" 0 "$DT" migrate-image --deactivate
}
register_test test_abuse_unprivileged

# ---- 2. lifecycle storms ----

# AB_CYCLES activate/report/deactivate cycles of every function, straight
# ioctls, the four functions at once, under load; then nothing leaked:
# vmalloc and per-CPU memory back near where they were, no kprobe left,
# the module's reference count 0.
test_abuse_lifecycle_storm() {
	local d=$WORK/ab-cycles f t0 v0 p0 k0 v1 p1 k1 rc
	mkdir -p "$d"
	ab_keys_hold || return 1
	ab_rcu_fast
	ab_load_start 1
	v0=$(ab_meminfo VmallocUsed)
	p0=$(ab_meminfo Percpu)
	k0=$(ab_kprobes)
	t0=$SECONDS
	local -A args=(
		[migrate-image]="comm=$AB_LOAD_COMM buf-kib=64"
		[kprobe]="probe=vfs_write comm=$AB_LOAD_COMM buf-kib=256 ustack-kib=4"
		[keytime-image]="comm=$AB_LOAD_COMM oncpu=1 buf-kib=64"
		[resource-image]="comm=$AB_LOAD_COMM interval=10 buf-kib=64"
	)
	# all four at once: the cycles mostly wait for grace periods, and the
	# functions share the core, the tracepoints and the kprobe machinery
	local -A pid=()
	for f in migrate-image kprobe keytime-image resource-image; do
		# shellcheck disable=SC2086
		timeout 900 "$PROGS/fn_storm" cycles "$AB_CYCLES" "$f" ${args[$f]} >"$d/$f" 2>&1 &
		pid[$f]=$!
	done
	for f in migrate-image kprobe keytime-image resource-image; do
		wait "${pid[$f]}"
		rc=$?
		expect_eq "$rc" 0 "$AB_CYCLES cycles of $f: every call succeeded"
		ab_figure "$(cat "$d/$f")"
	done
	ab_load_stop
	v1=$(ab_meminfo VmallocUsed)
	p1=$(ab_meminfo Percpu)
	k1=$(ab_kprobes)
	ab_keys_release
	ab_rcu_restore
	ab_figure "lifecycle: VmallocUsed ${v0} -> ${v1} kB, Percpu ${p0} -> ${p1} kB, kprobes $k0 -> $k1, $((SECONDS - t0)) s for $((4 * AB_CYCLES)) cycles"
	# one ring of the smallest of these is 64 KiB per CPU: a leak per
	# cycle would be megabytes
	((v1 - v0 < 1024)) || fail "VmallocUsed grew by $((v1 - v0)) kB over the cycles"
	((p1 - p0 < 256)) || fail "Percpu grew by $((p1 - p0)) kB over the cycles"
	expect_eq "$k1" "$k0" "kprobes registered after the cycles"
	expect_eq "$(ab_refcount)" 0 "module reference count"
}
register_test test_abuse_lifecycle_storm

# Two clients racing: activate/deactivate against deactivate/activate
# against report/settings, for every function.  Then two report --follow
# readers at once (between them, with the losses, exactly the kernel's
# migrations), and a follower killed with SIGKILL mid-drain.
test_abuse_racing_clients() {
	local d=$WORK/ab-race f rc
	mkdir -p "$d"
	ab_keys_hold || return 1
	ab_rcu_fast
	ab_load_start 1
	local -A args=(
		[migrate-image]="comm=$AB_LOAD_COMM buf-kib=16"
		[kprobe]="probe=vfs_write comm=$AB_LOAD_COMM buf-kib=256 ustack-kib=4"
		[keytime-image]="comm=$AB_LOAD_COMM oncpu=1 buf-kib=16"
		[resource-image]="comm=$AB_LOAD_COMM interval=10 buf-kib=16"
	)
	for f in migrate-image kprobe keytime-image resource-image; do
		# shellcheck disable=SC2086
		timeout 120 "$PROGS/fn_storm" race 2 "$f" ${args[$f]} >"$d/$f" 2>&1
		rc=$?
		sed 's/^/  | /' "$d/$f"
		expect_eq "$rc" 0 "racing clients of $f: only EBUSY/ENODATA/ENOSPC"
		sed 's/^/  figure: /' "$d/$f"
	done

	# a follower killed mid-drain leaves a working module
	expect_rc "activate migrate-image" 0 "$PROGS/fn_storm" on migrate-image "comm=$AB_LOAD_COMM" buf-kib=256
	"$DT" migrate-image --report --follow --format json >"$d/killed.json" 2>&1 &
	local follower=$!
	# mid-drain: once it has printed a batch, while records keep coming
	poll_until 30 test -s "$d/killed.json"
	sleep 0.3
	kill -KILL "$follower"
	reap "$follower"
	ab_figure "follower killed with SIGKILL mid-drain, after $(wc -l <"$d/killed.json") batches"
	[[ -s $d/killed.json ]] || fail "the follower printed nothing in 30 s"
	expect_rc "report and deactivate after the killed follower" 0 "$PROGS/fn_storm" off migrate-image
	ab_load_stop
	ab_keys_release
	ab_rcu_restore
	expect_eq "$(ab_refcount)" 0 "module reference count after the killed follower"

	# two followers at once share the records: A + B + the rest + lost =
	# the kernel's count
	start_migrator "$d/mig" 1000 2 1000 || return 1
	expect_rc "activate migrate-image" 0 "$PROGS/fn_storm" on migrate-image "tgid=$MIG_TGID" buf-kib=8
	migrations_of_process "$MIG_TGID" | sort >"$d/before"
	"$DT" migrate-image --report --follow --format json >"$d/a.json" 2>"$d/a.err" &
	local fa=$!
	"$DT" migrate-image --report --follow --format json >"$d/b.json" 2>"$d/b.err" &
	local fb=$! f
	# both draining before the first move: each has the device open (or
	# has exited, which is said at once)
	for f in "$fa" "$fb"; do
		poll_until 30 device_open_or_gone "$f" || fail "follower $f did not open /dev/diagnose"
		kill -0 "$f" 2>/dev/null || fail "follower $f exited: $(cat "$d/a.err" "$d/b.err")"
	done
	sleep 0.2
	kill -USR1 "$MIG_TGID"
	wait_for "$d/mig/done" 120 || return 1
	wait_all_asleep "$MIG_TGID"
	migrations_of_process "$MIG_TGID" | sort >"$d/after"
	sleep 0.5
	kill -TERM "$fa" "$fb"
	reap "$fa"
	reap "$fb"
	"$DT" migrate-image --report --format json >"$d/rest.json" || fail "report the rest"
	"$DT" migrate-image --deactivate >/dev/null
	stop_migrator
	local kernel sums
	kernel=$(join "$d/before" "$d/after" | awk '{s += $3 - $2} END {print s}')
	sums=$(python3 - "$d/a.json" "$d/b.json" "$d/rest.json" <<'PY'
import json, sys
out = []
lost = 0
for path in sys.argv[1:]:
    n = 0
    text = open(path).read()
    try:
        docs = [json.loads(text)]          # a report: one document
    except ValueError:                      # --follow: one document a line
        docs = [json.loads(l) for l in text.splitlines() if l.strip()]
    for doc in docs:
        n += sum(1 for t in doc.get("tasks", []) for e in t["events"] if not e["fork_placement"])
        lost += sum(doc.get("lost_since_last_report", {}).values())
    out.append(n)
print(*out, lost)
PY
)
	local a b rest lost
	read -r a b rest lost <<<"$sums"
	ab_figure "two followers: kernel $kernel migrations; follower A $a, follower B $b, final report $rest, lost $lost"
	expect_eq "$((a + b + rest + lost))" "$kernel" "followers + final report + lost = se.nr_migrations"
	((a > 0 && b > 0)) || fail "both followers should have drained some records"
}
register_test test_abuse_racing_clients

# device_open_or_gone PID: PID holds /dev/diagnose open, or has exited
device_open_or_gone() {
	[[ $(readlink /proc/"$1"/fd/* 2>/dev/null) == *"/dev/diagnose"* ]] || ! kill -0 "$1" 2>/dev/null
}

# rmmod with every function active under load: refused while a client
# holds the device, done once it lets go; then the module loads again and
# every function works.
test_abuse_rmmod_all_active() {
	local k0 t0 f
	k0=$(ab_kprobes)
	ab_load_start 2
	ab_activate_all
	# a client: a process with the device open
	sleep 600 3<>/dev/diagnose &
	local client=$!
	while [[ ! -e /proc/$client/fd/3 ]]; do sleep 0.05; done
	expect_rc "rmmod while a client holds /dev/diagnose" 1 rmmod diagnose
	kill -TERM "$client"
	reap "$client"
	t0=$(date +%s.%N)
	expect_rc "rmmod with every function active under load" 0 rmmod diagnose
	ab_figure "rmmod with 4 functions active under load: $(echo "$(date +%s.%N) - $t0" | bc) s"
	[[ ! -e /dev/diagnose ]] || fail "/dev/diagnose still there after rmmod"
	expect_eq "$(ab_kprobes)" "$k0" "kprobes registered after rmmod"
	expect_rc "insmod again" 0 insmod "$MODULE"
	for f in "migrate-image comm=$AB_LOAD_COMM" "kprobe probe=vfs_write comm=$AB_LOAD_COMM" \
		"keytime-image comm=$AB_LOAD_COMM oncpu=1" "resource-image comm=$AB_LOAD_COMM"; do
		# shellcheck disable=SC2086
		expect_rc "after reload: ${f%% *} cycles" 0 "$PROGS/fn_storm" cycles 3 $f
	done
	ab_load_stop
}
register_test test_abuse_rmmod_all_active

# CPU 1 goes offline and online again, four times, under load, with every
# function, the migration trace and the stat active; then every function
# reports and deactivates.
test_abuse_cpu_hotplug_all_active() {
	local i t0
	if [[ ! -w $AB_CPU1 ]]; then
		skip "CPU 1 cannot be taken offline here"
		return 0
	fi
	echo 0 >"$AB_MT/reset"
	echo 0 >"$AB_MS/reset"
	ab_load_start 1
	ab_activate_all
	echo 1 >"$AB_MT/enable" || fail "migration_trace would not start"
	echo 1 >"$AB_MS/enable" || fail "migration_stat would not start"
	t0=$(date +%s.%N)
	for i in 1 2 3 4; do
		echo 0 >"$AB_CPU1" || fail "CPU 1 would not go offline ($i)"
		sleep 0.2
		echo 1 >"$AB_CPU1" || fail "CPU 1 would not come back ($i)"
		sleep 0.2
	done
	ab_figure "CPU hotplug: 4 offline/online rounds in $(echo "$(date +%s.%N) - $t0" | bc) s with 4 functions, the trace and the stat on"
	echo 0 >"$AB_MT/enable"
	echo 0 >"$AB_MS/enable"
	ab_report_deactivate_all
	ab_load_stop
	local h
	h=$(grep '^#' "$AB_MT/trace")
	expect_grep "trace stopped, not full" "^# state stopped$" "$h"
	ab_figure "CPU hotplug: trace $(grep -vc '^#' "$AB_MT/trace") events, $(grep '^# lost' <<<"$h")"
	[[ $(cat "$AB_CPU1") == 1 ]] || echo 1 >"$AB_CPU1"
	echo 0 >"$AB_MT/reset"
	echo 0 >"$AB_MS/reset"
}
register_test test_abuse_cpu_hotplug_all_active

# ---- 3. debugfs garbage ----

test_abuse_debugfs_garbage() {
	local d=$WORK/ab-debugfs t0 storm i rc pids=() marks
	local files=("$AB_MT/enable" "$AB_MT/mark" "$AB_MT/reset" "$AB_MT/trace"
		"$AB_MS/enable" "$AB_MS/period_msec" "$AB_MS/reset" "$AB_MS/stat")
	mkdir -p "$d"
	t0=$SECONDS
	# the files there are, and no more
	expect_eq "$(cd "$AB_MT" && ls | tr '\n' ' ')" "enable mark reset trace " "migration_trace/ files"
	expect_eq "$(cd "$AB_MS" && ls | tr '\n' ' ')" "enable period_msec reset stat " "migration_stat/ files"
	echo 0 >"$AB_MT/reset"
	echo 0 >"$AB_MS/reset"
	echo 16384 >/sys/module/diagnose/parameters/migration_trace_kib

	# partial writes: only the bytes written count
	python3 - "$AB_MS/period_msec" <<'PY' >"$d/partial" 2>&1
import errno, os, sys
path = sys.argv[1]
def w(data, n, off=None):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data[:n]) if off is None else os.pwrite(fd, data[:n], off)
        r = "ok"
    except OSError as e:
        r = errno.errorcode[e.errno]
    os.close(fd)
    return r + " " + open(path).read().strip()
print("250xyz/3", w(b"250xyz", 3))
print("300xyz/4", w(b"300xyz", 4))
print("200/at-4096", w(b"200", 3, 4096))
PY
	expect_eq "$(sed -n 1p "$d/partial")" "250xyz/3 ok 250" "period_msec: the first 3 bytes of '250xyz'"
	expect_eq "$(sed -n 2p "$d/partial")" "300xyz/4 EINVAL 250" "period_msec: 4 bytes of '300xyz' refused"
	expect_grep "period_msec: a value at an offset is taken or refused, never half" \
		"^200/at-4096 (ok 200|EINVAL 250)$" "$(sed -n 3p "$d/partial")"
	echo 200 >"$AB_MS/period_msec"

	"$PROGS/migration_storm" 2 20000 >/dev/null &
	storm=$!
	echo 1 >"$AB_MT/enable" || fail "trace would not start"
	echo 1 >"$AB_MS/enable" || fail "stat would not start"
	echo 1 >"$AB_MT/mark"
	for i in 1 2 3; do
		"$PROGS/debugfs_abuse" readers 600 "$AB_MT/enable" "$AB_MT/trace" "$AB_MS/enable" \
			"$AB_MS/period_msec" "$AB_MS/stat" >"$d/reader$i" 2>&1 &
		pids+=($!)
	done
	"$PROGS/debugfs_abuse" garbage "$AB_SEED" 200 "${files[@]}" -- \
		"$AB_MT/enable=1" "$AB_MS/enable=1" "$AB_MS/period_msec=200" >"$d/garbage" 2>&1
	rc=$?
	sed 's/^/  | /' "$d/garbage"
	expect_eq "$rc" 0 "garbage refused with EINVAL, state unchanged"
	grep '^garbage ' "$d/garbage" | sed 's/^/  figure: /'
	echo 2 >"$AB_MT/mark" || fail "mark 2 refused"
	echo 0 >"$AB_MT/enable"
	echo 0 >"$AB_MS/enable"
	kill "$storm" 2>/dev/null
	reap "$storm"
	local h
	h=$(grep '^#' "$AB_MT/trace")
	expect_grep "trace stopped by us, not by a full buffer" "^# state stopped$" "$h"
	marks=$(awk '$1 !~ /^#/ && $6 == 35 {print $7}' "$AB_MT/trace" | tr '\n' ' ')
	expect_eq "$marks" "0x00000001 0x00000002 " "marks in the trace: only the two valid ones"
	ab_figure "debugfs: trace of $(grep -vc '^#' "$AB_MT/trace") events, $(grep '^# lost' <<<"$h"), stat $(grep -vc '^#' "$AB_MS/stat") periods"

	# readers go on while the trace is reset and restarted under them
	for i in 1 2 3 4 5; do
		echo 0 >"$AB_MT/reset"
		echo 1 >"$AB_MT/enable" || fail "restart $i"
		sleep 0.2
		echo 0 >"$AB_MT/enable"
		sleep 0.2
	done
	for i in "${pids[@]}"; do
		kill -TERM "$i" 2>/dev/null
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a concurrent reader failed: $(grep -h FAIL "$d"/reader[0-9])"
	done
	grep -h '^reader ' "$d"/reader[0-9] | sed 's/^/  figure: /'
	grep -q '^reader ' "$d/reader1" || fail "the readers printed no counts"
	# the write-only files cannot be read, the read-only ones not written
	local f
	for f in "$AB_MT/mark" "$AB_MT/reset" "$AB_MS/reset"; do
		expect_rc "read $f" 1 cat "$f"
		expect_grep "read $f: EINVAL" "Invalid argument" "$ERR"
	done
	echo 0 >"$AB_MT/reset"
	echo 0 >"$AB_MS/reset"
	echo 1024 >/sys/module/diagnose/parameters/migration_trace_kib
	echo 1000 >"$AB_MS/period_msec"
	ab_figure "debugfs garbage: $((SECONDS - t0)) s"
}
register_test test_abuse_debugfs_garbage

# ---- 4. ring accounting on the smallest buffer ----

# ab_minbuf FN SETTINGS...: the smallest buf-kib the module takes; sets AB_KIB
ab_minbuf() {
	local out
	out=$("$PROGS/ring_account" minbuf "$@") || { fail "minbuf $1: $out"; return 1; }
	AB_KIB=$(awk '{print $3}' <<<"$out")
	local rec
	rec=$(awk '{print $4}' <<<"$out")
	[[ $rec == "?" ]] && rec="at most 512"
	ab_figure "smallest buffer of $1: $AB_KIB KiB per CPU (largest record: $rec bytes)"
}

# ab_reader DIR FN INTERVAL_MS SETTINGS...: ring_account read in the
# background; sets AB_READER
ab_reader() {
	local dir=$1
	rm -f "$dir/ready" "$dir/stop"
	"$PROGS/ring_account" read "$@" >"$dir/reader.out" 2>&1 &
	AB_READER=$!
	wait_for "$dir/ready" 30
}

# ab_reader_stop DIR: the reader drains the rest and exits
ab_reader_stop() {
	touch "$1/stop"
	reap "$AB_READER"
	[[ -s $1/reader.out ]] || fail "no output from the reader"
	grep -q FAIL "$1/reader.out" && fail "$(grep FAIL "$1/reader.out")"
	grep -q '^lost_total ' "$1/reader.out" || fail "reader: $(tail -3 "$1/reader.out")"
}

# ab_workload DIR PROG-ARGS...: a ring_account workload; sets AB_WORK
ab_workload() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	"$PROGS/ring_account" "$1" "$dir" "${@:2}" >"$dir/work.log" 2>&1 &
	AB_WORK=$!
	wait_for "$dir/ready" 30 || return 1
	wait_all_asleep "$AB_WORK"
}

ab_workload_end() {
	kill -USR1 "$AB_WORK" 2>/dev/null
	reap "$AB_WORK"
}

test_abuse_ring_accounting_migrate_image() {
	local d interval kernel got lost t0=$SECONDS
	ab_minbuf migrate-image tgid=1 || return 1
	for interval in 1 300; do
		d=$WORK/ab-acct-mi-$interval
		start_migrator "$d" 500 2 500 || return 1
		migrations_of_process "$MIG_TGID" | sort >"$d/before"
		ab_reader "$d" migrate-image "$interval" "tgid=$MIG_TGID" "buf-kib=$AB_KIB" || return 1
		kill -USR1 "$MIG_TGID"
		wait_for "$d/done" 120 || return 1
		wait_all_asleep "$MIG_TGID"
		migrations_of_process "$MIG_TGID" | sort >"$d/after"
		ab_reader_stop "$d"
		stop_migrator
		kernel=$(join "$d/before" "$d/after" | awk '{s += $3 - $2} END {print s}')
		got=$(ab_val mi_migrations "$d/reader.out")
		lost=$(ab_val lost "$d/reader.out")
		ab_figure "migrate-image, $AB_KIB KiB, report every $interval ms: kernel $kernel migrations, delivered $got, lost $lost, $(ab_val reports "$d/reader.out") reports"
		expect_eq "$((got + lost))" "$kernel" "migrate-image every $interval ms: delivered + lost = se.nr_migrations"
	done
	ab_figure "ring accounting migrate-image: $((SECONDS - t0)) s"
}
register_test test_abuse_ring_accounting_migrate_image

test_abuse_ring_accounting_kprobe() {
	local d interval calls got lost missed t0=$SECONDS ustack=16
	ab_minbuf kprobe probe=__x64_sys_getppid pid=1 ustack-kib=$ustack || return 1
	for interval in 1 300; do
		d=$WORK/ab-acct-kp-$interval
		# the walks to the ring's end need a reader that reports often
		ab_workload "$d" kp-work 2000 $((AB_KIB * 1024)) $((ustack * 1024)) \
			$((interval == 1 ? 8 : 0)) || return 1
		ab_reader "$d" kprobe "$interval" probe=__x64_sys_getppid "pid=$AB_WORK" \
			"ustack-kib=$ustack" "buf-kib=$AB_KIB" "target=$AB_WORK" || return 1
		kill -USR1 "$AB_WORK"
		wait_for "$d/done" 300 || return 1
		ab_reader_stop "$d"
		ab_workload_end
		calls=$(ab_val calls "$d/done")
		got=$(ab_val kp_hits "$d/reader.out")
		lost=$(ab_val lost "$d/reader.out")
		missed=$(ab_val kp_missed "$d/reader.out")
		ab_figure "kprobe, $AB_KIB KiB, report every $interval ms: $calls calls ($(ab_val walks "$d/done") walks to the ring's end), delivered $got, lost $lost, missed $missed; $(ab_val kp_sizes "$d/reader.out") record sizes, user stack copies $(ab_val kp_ustack_len "$d/reader.out") bytes"
		expect_eq "$((got + lost + missed))" "$calls" "kprobe every $interval ms: delivered + lost + missed = calls"
	done
	ab_figure "ring accounting kprobe: $((SECONDS - t0)) s"
}
register_test test_abuse_ring_accounting_kprobe

# tracefs events of the tasks named kt-abuse, in an instance of our own
ab_kt_trace_start() {
	rmdir "$AB_TRACE" 2>/dev/null
	mkdir "$AB_TRACE" || { fail "cannot make tracefs instance $AB_TRACE"; return 1; }
	echo 16384 >"$AB_TRACE/buffer_size_kb"
	local e=$AB_TRACE/events/sched
	echo 'prev_comm == "kt-abuse" || next_comm == "kt-abuse"' >"$e/sched_switch/filter"
	echo 'parent_comm == "kt-abuse"' >"$e/sched_process_fork/filter"
	echo 'filename ~ "*/kt-abuse"' >"$e/sched_process_exec/filter"
	echo 'comm == "kt-abuse"' >"$e/sched_process_exit/filter"
	for e in sched_switch sched_process_fork sched_process_exec sched_process_exit; do
		echo 1 >"$AB_TRACE/events/sched/$e/enable"
	done
	echo 1 >"$AB_TRACE/tracing_on"
}

# ab_kt_trace_stop DIR: DIR/kernel gets the counts, "EVENT N" lines
ab_kt_trace_stop() {
	echo 0 >"$AB_TRACE/tracing_on"
	expect_eq "$(awk '/^overrun:/ {s += $2} END {print s + 0}' "$AB_TRACE"/per_cpu/cpu*/stats)" 0 \
		"tracefs events overwritten"
	awk '/ sched_switch: / {
			if ($0 ~ /prev_comm=kt-abuse /) off++
			if ($0 ~ /next_comm=kt-abuse /) on++
		}
		/ sched_process_fork: / {fork++}
		/ sched_process_exec: / {exec++}
		/ sched_process_exit: / {exit_++}
		END {printf "offcpu %d\noncpu %d\nfork %d\nexec %d\nexit %d\n", off, on, fork, exec, exit_}' \
		"$AB_TRACE/trace" >"$1/kernel"
	echo 0 >"$AB_TRACE/events/enable"
	rmdir "$AB_TRACE"
}

test_abuse_ring_accounting_keytime_image() {
	local d run interval stack kernel got lost t0=$SECONDS k
	ab_minbuf keytime-image comm=kt-abuse oncpu=1 || return 1
	for run in "1 0" "300 1"; do
		read -r interval stack <<<"$run"
		d=$WORK/ab-acct-kt-$interval
		ab_workload "$d" kt-work 50 || return 1
		ln -sf "$PROGS/ring_account" "$d/kt-abuse"
		ab_kt_trace_start || return 1
		ab_reader "$d" keytime-image "$interval" comm=kt-abuse oncpu=1 "stack=$stack" \
			"buf-kib=$AB_KIB" || return 1
		kill -USR1 "$AB_WORK"
		wait_for "$d/done" 300 || return 1
		wait_all_asleep "$AB_WORK"
		ab_reader_stop "$d"
		ab_kt_trace_stop "$d"
		ab_workload_end
		# the kernel's count: its events, and the failed execs the workload made
		kernel=$(( $(ab_val offcpu "$d/kernel") + $(ab_val oncpu "$d/kernel") +
			2 * $(ab_val fork "$d/kernel") + $(ab_val exec "$d/kernel") +
			$(ab_val exit "$d/kernel") + $(ab_val execs_failed "$d/done") ))
		got=$(ab_val records "$d/reader.out")
		lost=$(ab_val lost "$d/reader.out")
		ab_figure "keytime-image, $AB_KIB KiB, stack=$stack, report every $interval ms: kernel $kernel events ($(tr '\n' ' ' <"$d/kernel")+ $(cat "$d/done")), delivered $got, lost $lost, $(ab_val kt_stacks "$d/reader.out") with stacks, $(ab_val kt_truncated "$d/reader.out") truncated"
		for k in 1 2 3 4 5 6; do
			echo -n "kt_event_$k=$(ab_val kt_event_$k "$d/reader.out") "
		done | sed 's/^/  figure: delivered per event: /'
		echo
		expect_eq "$((got + lost))" "$kernel" "keytime-image stack=$stack every $interval ms: delivered + lost = the kernel's events"
		expect_eq "$(ab_val exec "$d/kernel")" "$(ab_val execs_ok "$d/done")" \
			"tracefs execs = the workload's"
	done
	ab_figure "ring accounting keytime-image: $((SECONDS - t0)) s"
}
register_test test_abuse_ring_accounting_keytime_image

# "TID SUM_EXEC_NS NVCSW NIVCSW RCHAR WCHAR" of every thread of PID, from
# the kernel: schedstat, status, io
ab_task_counters() {
	local t tid
	for t in /proc/"$1"/task/*; do
		tid=${t##*/}
		echo "$tid $(cut -d' ' -f1 "$t/schedstat")" \
			"$(awk '/^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2} END {print v, n}' "$t/status")" \
			"$(awk '$1 == "rchar:" {r = $2} $1 == "wchar:" {w = $2} END {print r, w}' "$t/io")"
	done | sort
}

test_abuse_ring_accounting_resource_image() {
	local d interval t0=$SECONDS bad
	ab_minbuf resource-image tgid=1 interval=10 || return 1
	for interval in 1 300; do
		d=$WORK/ab-acct-ri-$interval
		ab_workload "$d" ri-work 4 600 || return 1
		ab_task_counters "$AB_WORK" >"$d/before"
		ab_reader "$d" resource-image "$interval" "tgid=$AB_WORK" interval=10 \
			"buf-kib=$AB_KIB" || return 1
		kill -USR1 "$AB_WORK"
		wait_for "$d/done" 120 || return 1
		wait_all_asleep "$AB_WORK"
		ab_task_counters "$AB_WORK" >"$d/after"
		sleep 0.1	# past the interval: the report samples every sleeper
		ab_reader_stop "$d"
		ab_workload_end
		# per thread: the samples' sums against the kernel's deltas
		join "$d/before" "$d/after" | awk '{print $1, $7 - $2, $8 - $3, $9 - $4, $10 - $5, $11 - $6}' >"$d/kernel"
		awk '$1 == "ri" {print $2, $4, $5, $6, $7, $8}' "$d/reader.out" | sort >"$d/ours"
		bad=$(join -a 1 -a 2 -e missing -o 0,1.2,2.2,1.3,2.3,1.4,2.4,1.5,2.5,1.6,2.6 "$d/kernel" "$d/ours" |
			awk '$2 != $3 || $4 != $5 || $6 != $7 || $8 != $9 || $10 != $11')
		ab_figure "resource-image, $AB_KIB KiB, report every $interval ms: $(grep -c . "$d/kernel") threads, $(awk '$1 == "ri" {s += $3} END {print s}' "$d/reader.out") samples delivered, lost $(ab_val lost "$d/reader.out"), CPU $(awk '{s += $2} END {printf "%.3f", s / 1e9}' "$d/kernel") s"
		if [[ -n $bad ]]; then
			fail "resource-image every $interval ms: per thread (tid, cpu_ns kernel/ours, nvcsw, nivcsw, rchar, wchar) differ: $bad"
		else
			echo "  ok: resource-image every $interval ms: every thread's CPU time, switches and I/O add up to the kernel's"
		fi
	done
	ab_figure "ring accounting resource-image: $((SECONDS - t0)) s"
}
register_test test_abuse_ring_accounting_resource_image
