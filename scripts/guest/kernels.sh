#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest kernels of the test matrix, fetched from Debian's packages (or,
# for "debug", built from Debian's linux-source) into a cache outside the
# clone, without making any of them a boot kernel of the host.
#
#   kernels.sh names          the matrix, one name a line
#   kernels.sh prepare NAME   fetch (or build) NAME if it is not cached yet,
#                             then print its shell variables:
#                               KNAME    the matrix name (6.1, 6.12, ...)
#                               KVER     its uname -r
#                               KIMAGE   the bootable image
#                               KMODROOT the root whose lib/modules/KVER has
#                                        its modules (for the initramfs)
#                               KDIR     the kbuild tree to build modules with
#
# Matrix names:
#   6.1      Debian bookworm's default kernel (the package linux-image-amd64
#            depends on)
#   6.12     the newest linux-image-6.12.*+deb12-amd64-unsigned
#   6.12-rt  the same version's PREEMPT_RT flavour
#   debug    6.12 from linux-source-6.12 with KASAN, UBSAN, lockdep, kmemleak
#            and friends (scripts/guest/debug-kernel.sh builds it)
#
# The cache is DIAG_CACHE, else /var/cache/diagnose-tools when it can be
# written, else ~/.cache/diagnose-tools.  One directory per kernel version,
# made complete before it is renamed into place, so an interrupted fetch
# is never taken for a finished one.  Fetching needs apt's package lists
# (apt-get update) but not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
MATRIX=(6.1 6.12 6.12-rt debug)

cache_dir() {
	local d=${DIAG_CACHE:-}
	if [[ -z $d ]]; then
		d=/var/cache/diagnose-tools
		mkdir -p "$d" 2>/dev/null && [[ -w $d ]] ||
			d=${XDG_CACHE_HOME:-$HOME/.cache}/diagnose-tools
	fi
	mkdir -p "$d"
	echo "$d"
}

die() {
	echo "kernels.sh: $*" >&2
	exit 1
}

# newest_package REGEX: the newest package name that apt knows matching REGEX
newest_package() {
	apt-cache pkgnames 2>/dev/null | grep -E "$1" | sort -V | tail -n 1
}

# The Debian package names of matrix kernel NAME: "image headers..."
resolve_packages() {
	local name=$1 img ver abi
	case "$name" in
	6.1)
		img=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -nE 's/^ *Depends: (linux-image-6\.1\.[^ ]*-amd64)$/\1/p' |
			sort -V | tail -n 1)
		[[ -n $img ]] || die "apt knows no linux-image-amd64 (run: apt-get update)"
		ver=${img#linux-image-}			# 6.1.0-NN-amd64
		abi=${ver%-amd64}			# 6.1.0-NN
		echo "$img linux-headers-$ver linux-headers-$abi-common linux-kbuild-6.1"
		;;
	6.12 | 6.12-rt)
		img=$(newest_package '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$')
		[[ -n $img ]] || die "apt knows no linux-image-6.12.*+deb12-amd64-unsigned (run: apt-get update)"
		abi=${img#linux-image-}
		abi=${abi%-amd64-unsigned}		# 6.12.NNN+deb12
		if [[ $name == 6.12 ]]; then
			echo "linux-image-$abi-amd64-unsigned linux-headers-$abi-amd64 linux-headers-$abi-common linux-kbuild-$abi"
		else
			echo "linux-image-$abi-rt-amd64-unsigned linux-headers-$abi-rt-amd64 linux-headers-$abi-common-rt linux-kbuild-$abi"
		fi
		;;
	*) die "unknown kernel '$name' (one of: ${MATRIX[*]})" ;;
	esac
}

# fetch_debian NAME: unpack NAME's packages into the cache; prints its dir
fetch_debian() {
	local name=$1 cache pkgs img kver dir tmp p
	cache=$(cache_dir)
	pkgs=$(resolve_packages "$name")
	img=${pkgs%% *}
	kver=${img#linux-image-}
	kver=${kver%-unsigned}
	dir=$cache/kernels/$kver
	if [[ -e $dir/.complete ]]; then
		echo "$dir"
		return
	fi
	echo "kernels.sh: fetching $name ($kver)" >&2
	mkdir -p "$cache/debs" "$cache/kernels"
	tmp=$(mktemp -d "$cache/kernels/.new-XXXXXX")
	# apt-get download writes into the current directory
	(cd "$cache/debs" && apt-get download -q $pkgs >/dev/null 2>&1) ||
		{ rm -rf "$tmp"; die "cannot download $pkgs"; }
	for p in $pkgs; do
		dpkg -x "$(ls "$cache"/debs/"${p}"_*.deb | sort -V | tail -n 1)" "$tmp"
	done
	# the headers' Makefile includes the -common tree by its absolute
	# path under /usr/src; point it at the copy in the cache instead
	sed -i "s|^include /usr/src/|include $dir/usr/src/|" \
		"$tmp/usr/src/linux-headers-$kver/Makefile"
	depmod -b "$tmp" "$kver"
	touch "$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	echo "$dir"
}

cmd=${1:-}
case "$cmd" in
names)
	printf '%s\n' "${MATRIX[@]}"
	;;
prepare)
	name=${2:?usage: kernels.sh prepare NAME}
	if [[ $name == debug ]]; then
		# prints the same variables itself
		exec "$here/debug-kernel.sh" "$(cache_dir)"
	fi
	dir=$(fetch_debian "$name")
	kver=$(basename "$dir")
	printf 'KNAME=%q\nKVER=%q\nKIMAGE=%q\nKMODROOT=%q\nKDIR=%q\n' \
		"$name" "$kver" "$dir/boot/vmlinuz-$kver" "$dir" \
		"$dir/usr/src/linux-headers-$kver"
	;;
*)
	echo "usage: kernels.sh names | prepare NAME" >&2
	exit 2
	;;
esac
