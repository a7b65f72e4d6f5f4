#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What each use of the tree needs, and installing it (Debian packages).
#
# usage: scripts/deps.sh [--check] [GROUP]
#   GROUP  build   compiler, kernel headers for KDIR, the CLI's libraries
#          cli     the CLI's part of build;  module: the module's part
#          demo    build, plus the QEMU guest when this kernel cannot load
#                  modules (no browser, no test-only packages)
#          test    everything: build, guest, tests, benchmarks (default)
#   --check  install nothing; one line per missing piece naming its Debian
#            package, exit 1 if anything is missing
#
# The build groups are checked by what the build really uses (a header, a
# pkg-config module, a command), so they pass on a machine that has them
# from elsewhere; the others by installed Debian packages.  Idempotent:
# packages already present are left alone.
set -euo pipefail

check=0
if [[ ${1:-} == --check ]]; then
	check=1
	shift
fi
group=${1:-test}
KDIR=${KDIR:-}

# --- what the build uses, with the package that provides it --------------
# Each check prints "WHAT (Debian package PKG)" when it fails.
missing_build=()
missing_pkgs=()
need() { # need PKG WHAT CMD...: PKG provides WHAT when CMD succeeds
	local pkg=$1 what=$2
	shift 2
	"$@" >/dev/null 2>&1 && return 0
	missing_build+=("$what (Debian package $pkg)")
	missing_pkgs+=("$pkg")
}
has_header() { # has_header LANG HEADER
	command -v "${CXX:-g++}" >/dev/null || return 1
	echo "#include <$2>" | "${CXX:-g++}" -x "$1" -E - -o /dev/null
}
check_module() {
	need make "make" command -v make
	need gcc "gcc" command -v gcc
	if [[ -z $KDIR || ! -e $KDIR/Makefile ]]; then
		# the kernel KDIR names (/lib/modules/<kver>/build), else the running one
		local kver=$(uname -r)
		[[ $KDIR =~ ^/lib/modules/([^/]+)/build/?$ ]] && kver=${BASH_REMATCH[1]}
		missing_build+=("kernel headers for $kver${KDIR:+ (no kbuild tree at $KDIR)} (Debian package linux-headers-$kver, or KDIR=/path/to/kernel/build)")
		missing_pkgs+=("linux-headers-$kver")
	fi
}
check_cli() {
	need make "make" command -v make
	need g++ "g++ (C++20)" command -v "${CXX:-g++}"
	need cmake "cmake" command -v cmake
	need pkg-config "pkg-config" command -v pkg-config
	need libcli11-dev "CLI11 headers" has_header c++ CLI/CLI.hpp
	need nlohmann-json3-dev "nlohmann/json headers" has_header c++ nlohmann/json.hpp
	need libunwind-dev "libunwind" pkg-config --exists libunwind-generic
	need libdw-dev "libdw (elfutils)" pkg-config --exists libdw
}

# --- Debian packages per group --------------------------------------------
build_pkgs=(build-essential cmake pkg-config libcli11-dev nlohmann-json3-dev
	libunwind-dev libdw-dev libelf-dev kmod
	# the BPF backend (built when these are there): clang -target bpf,
	# llvm-strip, bpftool gen skeleton, libbpf
	clang llvm bpftool libbpf-dev)
# the QEMU guest: kernel and its headers, emulator, initramfs
# (pahole from dwarves: 6.12's kbuild writes BTF into the modules)
guest_pkgs=(linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static
	cpio xz-utils kmod dwarves)
test_pkgs=(
	# unit tests
	libgtest-dev googletest
	# fuzzing (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
	clang libclang-rt-14-dev
	# guest kernels of the matrix (kernels.sh), the debug kernel's build
	bc flex bison libssl-dev
	# guest tests and benchmarks: oracles and helpers (bpftrace: the BPF
	# backend's peer in bench/)
	linux-perf python3 procps util-linux elfutils bpftrace
	# packaging test: the .deb, its lint, the debootstrap root
	dpkg-dev lintian debootstrap groff-base
	# flame: browser test (headless Chromium driven from node), bench
	# (/usr/bin/time; libdevel-nytprof-perl ships the reference flamegraph.pl)
	chromium nodejs time libdevel-nytprof-perl
)

host_loads_modules() { [[ -e /proc/modules ]]; }

case "$group" in
build | cli | module)
	[[ $group != module ]] && check_cli
	[[ $group != cli ]] && check_module
	if ((check)); then
		((${#missing_build[@]} == 0)) && exit 0
		for m in "${missing_build[@]}"; do echo "missing: $m" >&2; done
		echo "(install them: sudo apt-get install ${missing_pkgs[*]}; or sudo make deps-build)" >&2
		exit 1
	fi
	packages=("${build_pkgs[@]}")
	[[ $group != cli ]] && [[ -z $KDIR || ! -e $KDIR/Makefile ]] &&
		packages+=("linux-headers-$(uname -r)")
	;;
demo)
	packages=("${build_pkgs[@]}")
	if host_loads_modules; then
		packages+=("linux-headers-$(uname -r)")
	else
		packages+=("${guest_pkgs[@]}")
	fi
	;;
test) packages=("${build_pkgs[@]}" "${guest_pkgs[@]}" "${test_pkgs[@]}") ;;
*)
	echo "usage: scripts/deps.sh [--check] [build|cli|module|demo|test]" >&2
	exit 2
	;;
esac

# --- by package: check or install -----------------------------------------
missing=()
for p in "${packages[@]}"; do
	[[ " ${missing[*]} " == *" $p "* ]] && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if ((check)); then
	if ((${#missing[@]})); then
		echo "missing packages for $group: ${missing[*]} (run: sudo make deps)" >&2
		exit 1
	fi
	exit 0
fi

if ((${#missing[@]} == 0)); then
	echo "deps ($group): all ${#packages[@]} packages present"
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	echo "deps ($group): installing ${missing[*]} needs root (sudo $0 $group)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
