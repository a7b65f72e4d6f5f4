#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the guest's initramfs: busybox-static, the 9p/virtio modules of the
# guest kernel in dependency order, and init.sh as /init.
#
# usage: mkinitramfs.sh KVER OUTPUT.cpio.gz [MODROOT]
# MODROOT is the root whose lib/modules/KVER holds the kernel's modules
# (default /, the host's own).
set -euo pipefail

kver=$1
output=$2
modroot=${3:-/}
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
# the initramfs has no libc: busybox must be the static build
if [[ ! -x $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
	echo "static busybox missing (package busybox-static; run: make deps)" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$work/bin/busybox"
cp "$here/init.sh" "$work/init"
chmod 755 "$work/init"

# The 9p stack's modules in the order modprobe would insert them (each
# after the ones it needs); "builtin" lines need nothing.  A module that
# two of them need is inserted once.
declare -A seen=()
order=()
for top in virtio_pci 9pnet_virtio 9p; do
	while read -r verb f _; do
		[[ $verb == insmod ]] || continue
		m=$(basename "$f")
		m=${m%%.ko*}
		[[ -n ${seen[$m]:-} ]] && continue
		seen[$m]=1
		case "$f" in
		*.ko.xz) xz -dc "$f" >"$work/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$work/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$f" >"$work/modules/$m.ko" ;;
		*) cp "$f" "$work/modules/$m.ko" ;;
		esac
		order+=("$m")
	done < <(modprobe --show-depends -d "$modroot" -S "$kver" "$top")
done
printf '%s\n' "${order[@]+"${order[@]}"}" >"$work/modules.order"

(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$output.tmp"
mv "$output.tmp" "$output"
