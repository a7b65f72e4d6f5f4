#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build build/diagnose-tools_<version>_<arch>.deb: the CLI in /usr/bin and
# the module sources for DKMS in /usr/src/diagnose-<version>.
# usage: packaging/build-deb.sh   (after make cli)
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -nE 's/^#define DIAG_MODULE_VERSION\s+"([^"]+)".*/\1/p' module/core.h)
arch=$(dpkg --print-architecture)
bin=build/cli/diagnose-tools
[[ -x $bin ]] || { echo "build the CLI first (make cli)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 755 "$bin" "$root/usr/bin/diagnose-tools"
src=$root/usr/src/diagnose-$version
mkdir -p "$src"
# the tracked sources only, never build products
git ls-files module uapi | while read -r f; do
	install -D -m 644 "$f" "$src/$f"
done
sed "s/@VERSION@/$version/" packaging/dkms.conf >"$src/dkms.conf"
install -D -m 644 uapi/diagnose.h "$root/usr/include/diagnose/diagnose.h"
mkdir -p "$root/usr/share/doc/diagnose-tools"
cp README.md docs/*.md "$root/usr/share/doc/diagnose-tools/"

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: diagnose-tools
Version: $version
Architecture: $arch
Maintainer: diagnose-tools developers <maintainers@users.noreply.b-seed-e5b488d7.example>
Depends: dkms, libc6, libstdc++6, libunwind8, libdw1
Section: admin
Priority: optional
Description: see why a Linux process behaves as it does
 diagnose.ko (built by DKMS) records CPU migrations and their causes,
 kernel probe hits with kernel and user stacks, and process images;
 diagnose-tools drives it and reports in text and JSON.
CONTROL
cat >"$root/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
dkms add -m diagnose -v $version >/dev/null 2>&1 || true
dkms build -m diagnose -v $version && dkms install -m diagnose -v $version || true
POSTINST
cat >"$root/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
dkms remove -m diagnose -v $version --all >/dev/null 2>&1 || true
PRERM
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
out=build/diagnose-tools_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
echo "$out"
