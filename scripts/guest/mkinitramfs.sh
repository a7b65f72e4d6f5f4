#!/usr/bin/env bash
# Build the guest's initramfs: busybox-static, the 9p/virtio modules of the
# guest kernel in dependency order, and init.sh as /init.
#
# usage: mkinitramfs.sh KVER OUTPUT.cpio.gz
set -euo pipefail

kver=$1
output=$2
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

# Resolve the dependency order of the 9p stack from modinfo, depth first,
# so that no module is inserted before the ones it needs.
declare -A seen=()
order=()
add_module() {
	local m=$1 dep
	[[ -n ${seen[$m]:-} ]] && return
	seen[$m]=1
	for dep in $(modinfo -k "$kver" -F depends "$m" | tr ',' ' '); do
		add_module "$dep"
	done
	# modules built into the kernel have no file; nothing to insert
	local f
	f=$(modinfo -k "$kver" -F filename "$m" 2>/dev/null || true)
	[[ $f == /* ]] || return 0
	case "$f" in
	*.ko.xz) xz -dc "$f" >"$work/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$work/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$work/modules/$m.ko" ;;
	*) cp "$f" "$work/modules/$m.ko" ;;
	esac
	order+=("$m")
}
for m in virtio_pci 9pnet_virtio 9p; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" >"$work/modules.order"

(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$output.tmp"
mv "$output.tmp" "$output"
