#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot the guest kernel under QEMU (software emulation, see
# ../shared/vm-notes.md) and run one job script inside it.
#
# usage: run.sh [--kernel NAME] [--smp N] [--mem MiB] [--numa] [--timeout SEC] [--follow] [--icount]
#               [--accel SPEC] [--cpu MODEL] [--root DIR] OUTDIR JOB.sh [ARGS...]
#
# --root DIR: the job's root file system is DIR, read-write, instead of the
# host's root (e.g. a debootstrapped Debian root to install a package in).
#
# --kernel boots kernel NAME of the test matrix (kernels.sh: 6.1, 6.12,
# 6.12-rt, debug) from the cache; without it, the Debian kernel installed on
# the host (guest-kernel.sh).
#
# --numa gives the guest two NUMA nodes, each a socket with half of the
# CPUs and half of the memory (for NUMA balancing tests; one socket across
# two nodes would make the kernel warn about its topology).
#
# --icount runs the guest with QEMU's instruction counting (single-threaded
# TCG, -icount shift=0): its clocks advance one nanosecond per instruction
# executed, not with the host's time, so timings inside are deterministic
# and do not depend on how busy the host is.  For benchmarks (bench/).
#
# The guest runs on single-threaded TCG (both vCPUs on one host thread, in
# turn).  Under QEMU 7.2's multi-threaded TCG, kernel code that the guest
# patches while another vCPU runs it (static keys, kprobes, ftrace) is
# executed stale: toggling tracepoints kills the guest within about a
# minute ("Oops: int3" at a patch site whose INT3 memory no longer holds,
# or a jump to 0), with no module of ours loaded; single-threaded TCG
# never did (docs/reliability.md).
#
# --accel SPEC and --cpu MODEL replace QEMU's -accel and -cpu arguments
# (defaults: the environment's DIAG_GUEST_ACCEL and DIAG_GUEST_CPU, else
# tcg,thread=single and max), for experiments with the emulator itself.
#
# The guest sees the host's root file system read-only, so every path is the
# same inside and out; the current directory is shared again on its own
# (so it is visible even under the guest's tmpfs /tmp), and OUTDIR
# read-write, each at the same absolute path.
# JOB.sh runs as root in a chroot of the host root with DIAG_OUT=OUTDIR.
# On return OUTDIR holds job.log (the job's output), job.rc (its exit
# code), dmesg.txt (the guest kernel's log) and console.log (the serial
# console).  The exit code is the job's, or 125 when the guest did not
# finish the job (boot failure, panic, timeout).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
smp=2
mem=1024
timeout=900
follow=0
numa=0
kname=""
jobroot=""
accel=(-accel "${DIAG_GUEST_ACCEL:-tcg,thread=single}")
cpu=${DIAG_GUEST_CPU:-max}
while [[ $# -gt 0 ]]; do
	case "$1" in
	--kernel) kname=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--follow) follow=1; shift ;;
	--numa) numa=1; shift ;;
	--icount) accel=(-accel tcg,thread=single -icount shift=0); shift ;;
	--accel) accel=(-accel "$2"); shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--root) jobroot=$(cd "$2" && pwd); shift 2 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [[ $# -lt 2 ]]; then
	echo "usage: run.sh [--kernel NAME] [--smp N] [--mem MiB] [--numa] [--timeout SEC] [--follow] [--icount] [--accel SPEC] [--cpu MODEL] [--root DIR] OUTDIR JOB.sh [ARGS...]" >&2
	exit 2
fi
outdir=$1
job=$2
shift 2

command -v qemu-system-x86_64 >/dev/null ||
	{ echo "qemu-system-x86_64 missing (run: make deps)" >&2; exit 1; }
if [[ -n $kname ]]; then
	kvars=$("$here/kernels.sh" prepare "$kname") || exit 1
	eval "$kvars"
	kver=$KVER
	kernel=$KIMAGE
	modroot=$KMODROOT
else
	kver=$("$here/guest-kernel.sh")
	kernel=/boot/vmlinuz-$kver
	modroot=/
fi
[[ -r $kernel ]] || { echo "cannot read $kernel (run as root)" >&2; exit 1; }

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
job=$(cd "$(dirname "$job")" && pwd)/$(basename "$job")
rm -f "$outdir"/{job.log,job.rc,dmesg.txt,console.log}

# The initramfs depends only on the kernel version and on init.sh: cache it.
cache=${DIAG_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/diagnose-tools}
mkdir -p "$cache"
initrd=$cache/initramfs-$kver-$(cat "$here/init.sh" "$here/mkinitramfs.sh" |
	cksum | cut -d' ' -f1)-$(cksum <<<"$modroot" | cut -d' ' -f1).cpio.gz
[[ -s $initrd ]] || "$here/mkinitramfs.sh" "$kver" "$initrd" "$modroot"

# The job wrapper: run the job from the directory it was started in.
{
	printf '#!/bin/bash\n'
	printf 'cd %q || exit 125\n' "$PWD"
	# DIAG_* settings of the caller (e.g. DIAG_TESTS) reach the job
	while IFS='=' read -r name _; do
		[[ $name == DIAG_OUT || $name == DIAG_IN_GUEST ]] && continue
		printf 'export %s=%q\n' "$name" "${!name}"
	done < <(env | grep -E '^DIAG_[A-Z_]+=' || true)
	printf 'exec %q' "$job"
	(($#)) && printf ' %q' "$@"
	printf '\n'
} >"$outdir/job.sh"
chmod +x "$outdir/job.sh"

cpus=$smp
numa_args=()
if ((numa)); then
	((smp >= 2 && smp % 2 == 0)) || { echo "run.sh: --numa needs an even --smp" >&2; exit 2; }
	half=$((smp / 2))
	cpus=$smp,sockets=2,cores=$half,threads=1
	numa_args=(-object "memory-backend-ram,id=m0,size=$((mem / 2))M"
		-numa "node,nodeid=0,cpus=0-$((half - 1)),memdev=m0"
		-object "memory-backend-ram,id=m1,size=$((mem - mem / 2))M"
		-numa "node,nodeid=1,cpus=$half-$((smp - 1)),memdev=m1")
fi

qemu_pid=""
tail_pid=""
cleanup() {
	[[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null
	[[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null
	return 0
}
trap cleanup EXIT INT TERM

# setsid + stdin from /dev/null: QEMU must not take the terminal (CI has none).
setsid qemu-system-x86_64 \
	"${accel[@]}" -cpu "$cpu" -smp "$cpus" -m "$mem" "${numa_args[@]}" \
	-nographic -no-reboot -monitor none -serial "file:$outdir/console.log" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 diag_out=$outdir diag_repo=$PWD${jobroot:+ diag_root=1}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$PWD",mount_tag=repodir,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$outdir",mount_tag=outdir,security_model=none,multidevs=remap \
	${jobroot:+-virtfs local,path="$jobroot",mount_tag=jobroot,security_model=none,multidevs=remap} \
	</dev/null >"$outdir/qemu.log" 2>&1 &
qemu_pid=$!

if [[ $follow == 1 ]]; then
	touch "$outdir/job.log"
	tail -n +1 -F "$outdir/job.log" 2>/dev/null &
	tail_pid=$!
fi

deadline=$((SECONDS + timeout))
while kill -0 "$qemu_pid" 2>/dev/null; do
	if ((SECONDS >= deadline)); then
		echo "run.sh: guest did not finish within ${timeout}s; killed" >&2
		kill "$qemu_pid" 2>/dev/null
		break
	fi
	sleep 0.5
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
if [[ -n $tail_pid ]]; then
	sleep 0.3
	kill "$tail_pid" 2>/dev/null || true
	tail_pid=""
fi

if [[ ! -s $outdir/job.rc ]]; then
	echo "run.sh: the guest did not complete the job; last console lines:" >&2
	tail -n 30 "$outdir/console.log" >&2 || true
	exit 125
fi
exit "$(cat "$outdir/job.rc")"
