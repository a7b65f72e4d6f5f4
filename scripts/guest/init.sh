#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PID 1 of the test guest (runs from the initramfs built by mkinitramfs.sh).
#
# Loads the 9p stack, mounts the host's root file system read-only and the
# host's output directory read-write at the same absolute path, then runs
# the job script the host left in that directory inside a chroot of the
# host root.  Everything the job prints, its exit code and the kernel log
# are written back to the output directory.  PID 1 never exits: it powers
# the machine off, so a kernel panic is never mistaken for the end of a job.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for m in $(cat /modules.order); do
	insmod "/modules/$m.ko" || echo "guest-init: insmod $m failed"
done

out=""
repo=""
jobroot=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	diag_out=*) out="${arg#diag_out=}" ;;
	diag_repo=*) repo="${arg#diag_repo=}" ;;
	diag_root=1) jobroot=1 ;;
	esac
done

R=/newroot
opts=trans=virtio,version=9p2000.L,msize=524288,cache=loose
# run.sh --root: the job's own root file system, read-write
if [ -n "$jobroot" ]; then
	mount -t 9p -o "$opts" jobroot "$R" ||
		{ echo "guest-init: cannot mount the job's root"; poweroff -f; }
elif ! mount -t 9p -o "$opts,ro" hostroot "$R"; then
	echo "guest-init: cannot mount host root"
	poweroff -f
fi
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t devtmpfs devtmpfs "$R/dev"
mount -t devpts devpts "$R/dev/pts" 2>/dev/null
mount -t tmpfs tmpfs "$R/dev/shm" 2>/dev/null
mount -t tmpfs tmpfs "$R/tmp"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/var/tmp"
mount -t debugfs debugfs "$R/sys/kernel/debug"
mount -t tracefs tracefs "$R/sys/kernel/tracing"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup" 2>/dev/null
# The job's directory and the output directory come last: either may live
# below one of the tmpfs mounts above (a checkout in /tmp, say).
if [ -n "$repo" ]; then
	mkdir -p "$R$repo" 2>/dev/null
	mount -t 9p -o "$opts,ro" repodir "$R$repo" ||
		echo "guest-init: cannot mount the job directory $repo"
fi
mkdir -p "$R$out" 2>/dev/null
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 outdir "$R$out"; then
	echo "guest-init: cannot mount the output directory $out"
	poweroff -f
fi

echo "guest-init: running $out/job.sh"
chroot "$R" /usr/bin/env -i HOME=/tmp TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	DIAG_OUT="$out" DIAG_IN_GUEST=1 \
	/bin/bash "$out/job.sh" >"$R$out/job.log" 2>&1 </dev/null
echo $? >"$R$out/job.rc"
dmesg >"$R$out/dmesg.txt"
sync
echo "guest-init: job finished, rc $(cat "$R$out/job.rc")"
poweroff -f
