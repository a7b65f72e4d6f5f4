#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the "debug" kernel of the test matrix: Debian's linux-source-6.12
# configured from `make allnoconfig` plus debug-kernel.config (KASAN, UBSAN,
# lockdep, DEBUG_OBJECTS, kmemleak, KFENCE and what the guest and the suite
# need, all built in), cached so that a machine builds it once.
#
# usage: debug-kernel.sh CACHE_DIR      (kernels.sh prepare debug calls it)
#
# Prints, like kernels.sh prepare, one shell assignment a line on stdout:
#   KNAME=debug KVER KIMAGE KMODROOT KDIR
# Progress goes to stderr.
#
# The cached kernel lives in CACHE_DIR/kernels/KVER-HASH/, HASH taken over
# the source package's version, the config fragment and the compiler, so a
# change to any of them builds a new one:
#   boot/vmlinuz-KVER        the image
#   boot/config-KVER, boot/System.map-KVER
#   lib/modules/KVER/        modules.builtin and depmod's indexes (there
#                            are no loadable modules: the initramfs finds
#                            the 9p stack "builtin")
#   build/                   the tree to build external modules against
#                            (scripts/package/install-extmod-build: headers,
#                            generated files, kbuild scripts, objtool,
#                            Module.symvers; no kernel objects)
#   build.log                the build's output
# It is assembled in a temporary directory and renamed into place when
# complete; a lock keeps two callers from building it at once.  The
# package's .deb stays in CACHE_DIR/debs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: debug-kernel.sh CACHE_DIR}
frag=$here/debug-kernel.config
pkg=linux-source-6.12
# bump when the layout of the cached directory changes
format=1

die() {
	echo "debug-kernel.sh: $*" >&2
	exit 1
}
say() { echo "debug-kernel.sh: $*" >&2; }

pkgver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[[ -n $pkgver && $pkgver != "(none)" ]] ||
	die "apt knows no $pkg (run: apt-get update)"
command -v gcc >/dev/null || die "gcc missing (run: make deps)"
cc_version=$(gcc --version | head -n 1)
localversion=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$frag")
kver=${pkgver%%-*}$localversion				# 6.12.NNN-diag-debug
hash=$(printf '%s\n' "$format" "$pkgver" "$cc_version" | cat - "$frag" |
	sha256sum | cut -c1-12)
dir=$cache/kernels/$kver-$hash

print_vars() {
	printf 'KNAME=%q\nKVER=%q\nKIMAGE=%q\nKMODROOT=%q\nKDIR=%q\n' \
		debug "$kver" "$dir/boot/vmlinuz-$kver" "$dir" "$dir/build"
}

if [[ -e $dir/.complete ]]; then
	print_vars
	exit 0
fi

mkdir -p "$cache/debs" "$cache/kernels"
exec 9>"$cache/kernels/.debug-kernel.lock"
flock 9
# another caller may have built it while this one waited
if [[ -e $dir/.complete ]]; then
	print_vars
	exit 0
fi

start=$SECONDS
tmp=$(mktemp -d "$cache/kernels/.new-debug-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/build.log
# step WHAT COMMAND...: run COMMAND with its output in the log; on failure
# show the log's end and stop
step() {
	local what=$1
	shift
	say "$what ($((SECONDS - start)) s)"
	echo "== $what" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "$what failed (log above)"
	fi
}

say "building $kver from $pkg $pkgver with $(nproc) jobs (a cold build takes about 20 minutes)"
deb=$(ls "$cache/debs/${pkg}_${pkgver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
if [[ -z $deb ]]; then
	# apt-get download writes into the current directory
	step "downloading $pkg $pkgver" \
		bash -c 'cd "$1" && apt-get download -q "$2=$3"' _ "$cache/debs" "$pkg" "$pkgver"
	deb=$(ls "$cache/debs/${pkg}_${pkgver//:/%3a}_"*.deb | head -n 1)
fi
step "unpacking $(basename "$deb")" dpkg -x "$deb" "$tmp/pkg"
tarball=$(ls "$tmp"/pkg/usr/src/linux-source-*.tar.xz)
step "unpacking $(basename "$tarball")" tar -xf "$tarball" -C "$tmp"
rm -rf "$tmp/pkg"
src=$(ls -d "$tmp"/linux-source-*/)
src=${src%/}

# everything that is not in the fragment is off; a symbol of the fragment
# that Kconfig could not give its value (a dependency missing, a renamed
# option) stops the build
step "configuring" env KCONFIG_ALLCONFIG="$frag" make -C "$src" allnoconfig
bad=$(grep -E '^(CONFIG_|# CONFIG_)' "$frag" | while read -r line; do
	if [[ $line == "# "* ]]; then
		sym=${line#\# }
		sym=${sym%% *}
		grep -q "^$sym=" "$src/.config" && echo "  want $sym off, have $(grep "^$sym=" "$src/.config")"
	else
		grep -qxF "$line" "$src/.config" ||
			echo "  want $line, have $(grep "^${line%%=*}=" "$src/.config" || echo "${line%%=*} unset")"
	fi
done)
[[ -z $bad ]] || die "the configuration lacks what debug-kernel.config asks for:"$'\n'"$bad"
release=$(make -s -C "$src" kernelrelease)
[[ $release == "$kver" ]] || die "the kernel calls itself $release, not $kver"

step "compiling" make -C "$src" -j"$(nproc)" all
mkdir -p "$tmp/boot"
cp "$src/arch/x86/boot/bzImage" "$tmp/boot/vmlinuz-$kver"
cp "$src/.config" "$tmp/boot/config-$kver"
cp "$src/System.map" "$tmp/boot/System.map-$kver"
# no loadable modules, but modules.builtin tells modprobe (and so the
# initramfs) that the 9p stack needs none
step "installing modules.builtin" \
	make -C "$src" modules_install INSTALL_MOD_PATH="$tmp" DEPMOD=true
step "depmod" depmod -b "$tmp" "$kver"
# the tree external modules are built against, without the kernel's objects
step "installing the kbuild tree" env -C "$src" srctree=. SRCARCH=x86 CC=gcc \
	HOSTCC=gcc MAKE=make sh scripts/package/install-extmod-build "$tmp/build"
cp "$src/.config" "$src/System.map" "$tmp/build/"
ln -sfn ../../../build "$tmp/lib/modules/$kver/build"
rm -f "$tmp/lib/modules/$kver/source"
rm -rf "$src"
# the kbuild tree must build a module on its own, with the sources gone
mkdir "$tmp/smoke"
printf '%s\n' '#include <linux/module.h>' 'MODULE_LICENSE("GPL");' >"$tmp/smoke/smoke.c"
echo 'obj-m := smoke.o' >"$tmp/smoke/Kbuild"
step "building a module against the kbuild tree" make -C "$tmp/build" M="$tmp/smoke" modules
rm -rf "$tmp/smoke"

say "built $kver in $((SECONDS - start)) s"
echo "built in $((SECONDS - start)) s" >>"$log"
touch "$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
print_vars
