#!/usr/bin/env bash
# Install every Debian package that the build, the tests, the guest and the
# benchmarks need.  Idempotent: packages already present are left alone.
# usage: scripts/deps.sh [--check]   (--check: only say what is missing)
set -euo pipefail

packages=(
	# build: C++ CLI
	build-essential cmake pkg-config libcli11-dev nlohmann-json3-dev
	libgtest-dev googletest libunwind-dev libdw-dev libelf-dev elfutils
	# fuzzing (tests/fuzz): clang with libFuzzer and the sanitizer runtimes
	clang libclang-rt-14-dev
	# build: kernel module against the guest kernel's headers
	linux-headers-amd64 kmod bc flex bison libssl-dev
	# guest: kernel, emulator, initramfs
	linux-image-amd64 qemu-system-x86 busybox-static cpio xz-utils
	# guest tests and benchmarks: oracles and helpers
	linux-perf python3 procps util-linux
	# flame: browser test (headless Chromium driven from node), bench
	# (/usr/bin/time; libdevel-nytprof-perl ships the reference flamegraph.pl)
	chromium nodejs time libdevel-nytprof-perl
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if [[ ${1:-} == --check ]]; then
	if ((${#missing[@]})); then
		echo "missing packages: ${missing[*]} (run: make deps)" >&2
		exit 1
	fi
	exit 0
fi

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	echo "deps: installing ${missing[*]} needs root (sudo make deps)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
