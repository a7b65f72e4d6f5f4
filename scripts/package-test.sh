#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package installed, used and removed as an administrator would:
#   1. build it (packaging/build-deb.sh); lintian errors or warnings fail
#   2. in a debootstrapped Debian bookworm root (cached as a tarball in
#      /var/cache/diagnose-tools), with linux-headers-<guest kernel>: first
#      the package with its module source broken, whose installation must
#      fail naming the DKMS log; then `apt-get install ./diagnose-tools.deb`:
#      DKMS builds diagnose.ko
#   3. boot the guest kernel with that root (scripts/guest/run.sh --root)
#      and run scripts/package-test-job.sh there: modprobe diagnose, one
#      function checked against the kernel's own counters, then apt-get
#      purge and proof that the module and the files are gone
# Needs root, network (debootstrap and apt) and about 10 minutes on a fresh
# machine (debootstrap ~4 min, apt and DKMS ~3 min, the guest ~2 min).
# usage: scripts/package-test.sh [OUTDIR]   (default build/package-test)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build/package-test}" && cd "${1:-build/package-test}" && pwd)
mirror=${DIAG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=/var/cache/diagnose-tools/pkgroot-bookworm-minbase.tar.gz
step() { echo "== $* ($((SECONDS))s)"; }

for t in debootstrap lintian dpkg-shlibdeps qemu-system-x86_64; do
	command -v $t >/dev/null || { echo "package-test: $t missing (run: sudo make deps)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "package-test: must run as root (chroot, debootstrap)" >&2; exit 1; }

step "build the package"
make -s cli progs >/dev/null
deb=$(packaging/build-deb.sh --lintian)
echo "$deb: $(du -k "$deb" | cut -f1) KiB, lintian clean"
dpkg-deb -f "$deb" Depends Architecture

kver=$(scripts/guest/guest-kernel.sh)
step "a Debian root with the package and linux-headers-$kver"
if [[ ! -s $cache ]]; then
	tmp=$(mktemp -d /var/tmp/pkgroot.XXXXXX)
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$out/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$out/debootstrap.log"; exit 1; }
	mkdir -p "$(dirname "$cache")"
	tar -C "$tmp" -czf "$cache.tmp" . && mv "$cache.tmp" "$cache"
	rm -rf "$tmp"
fi
root=$out/root
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$cache"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
cp "$deb" "$root/tmp/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
in_root apt-get update >"$out/apt.log" 2>&1 || { tail -n 20 "$out/apt.log"; exit 1; }
in_root apt-get install -y --no-install-recommends "linux-headers-$kver" >>"$out/apt.log" 2>&1 ||
	{ tail -n 20 "$out/apt.log"; exit 1; }

# A module that does not build must fail the installation, loudly, naming
# the log: the same package with one line of the module's source broken.
step "a DKMS build failure fails the installation"
version=$(dpkg-deb -f "$deb" Version)
rm -rf "$out/broken"
dpkg-deb -R "$deb" "$out/broken"
echo '#error broken on purpose by scripts/package-test.sh' \
	>>"$out/broken/usr/src/diagnose-$version/module/main.c"
dpkg-deb --root-owner-group -b "$out/broken" "$root/tmp/broken.deb" >/dev/null
rc=0
in_root apt-get install -y --no-install-recommends /tmp/broken.deb >"$out/apt-broken.log" 2>&1 || rc=$?
grep -E "^diagnose-tools:|^E: " "$out/apt-broken.log" || true
log=$(sed -n 's/^diagnose-tools: the build log is //p' "$out/apt-broken.log")
if ((rc == 0)) || [[ -z $log || ! -s $root$log ]] || ! grep -q "broken on purpose" "$root$log"; then
	echo "package-test: a failed DKMS build did not fail the installation with its log (apt rc $rc, log '$log')" >&2
	exit 1
fi
echo "apt-get failed (rc $rc) and $log says: $(grep -m1 "broken on purpose" "$root$log")"
in_root dpkg --purge diagnose-tools >>"$out/apt-broken.log" 2>&1 ||
	{ tail -n 20 "$out/apt-broken.log"; exit 1; }

step "the package itself"
if ! in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" \
	>>"$out/apt.log" 2>&1; then
	tail -n 40 "$out/apt.log"
	echo "package-test: installing the package failed" >&2
	exit 1
fi
grep -E "^diagnose-tools:|DKMS|dkms" "$out/apt.log" | tail -n 8
in_root dkms status diagnose
umount "$root/proc"
trap - EXIT
[[ -e $root/lib/modules/$kver/updates/dkms/diagnose.ko ]] ||
	{ echo "package-test: DKMS installed no diagnose.ko for $kver" >&2; exit 1; }

step "boot $kver with that root"
rc=0
scripts/guest/run.sh --root "$root" --timeout 900 "$out/guest" scripts/package-test-job.sh || rc=$?
cat "$out/guest/job.log"
if grep -qE "$(<tests/kernel-bad.re)" "$out/guest/dmesg.txt" 2>/dev/null; then
	echo "package-test: the guest kernel log has warnings:"
	grep -E -A5 "$(<tests/kernel-bad.re)" "$out/guest/dmesg.txt" | head -20
	rc=1
fi
step "done, rc $rc"
exit "$rc"
