#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build build/diagnose-tools_<version>_amd64.deb: the CLI, its man pages
# and completion (make install-cli), the ABI header, and the module's
# sources for DKMS in /usr/src/diagnose-<version>; the dependencies of the
# CLI from dpkg-shlibdeps.  The postinst builds the module with DKMS for
# every kernel whose headers are installed and fails the installation,
# naming the build log, when a build fails.
#
# usage: packaging/build-deb.sh [--lintian]   (prints the .deb's path)
#        --lintian: also run lintian on it; an error fails (warnings are shown)
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -nE 's/^#define DIAG_MODULE_VERSION\s+"([^"]+)".*/\1/p' module/core.h)
arch=amd64
[[ $(dpkg --print-architecture) == "$arch" ]] ||
	{ echo "build-deb.sh: diagnose.ko is x86-64 only; this machine is $(dpkg --print-architecture)" >&2; exit 1; }
changelog_version=$(sed -nE '1s/^diagnose-tools \(([^)]+)\).*/\1/p' packaging/changelog)
[[ $changelog_version == "$version" ]] ||
	{ echo "build-deb.sh: packaging/changelog is at $changelog_version, the module at $version: add a changelog entry" >&2; exit 1; }
for t in dpkg-shlibdeps dpkg-deb; do
	command -v $t >/dev/null || { echo "build-deb.sh: $t missing (Debian package dpkg-dev)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
make -s install-cli DESTDIR="$root" PREFIX=/usr \
	BASHCOMPDIR=/usr/share/bash-completion/completions \
	ZSHCOMPDIR=/usr/share/zsh/vendor-completions >&2
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$root/usr/bin/diagnose-tools"
gzip -9n "$root"/usr/share/man/man*/*

# the module's sources for DKMS: the tracked files only, never build products
src=$root/usr/src/diagnose-$version
git ls-files module uapi | while read -r f; do
	install -D -m 644 "$f" "$src/$f"
done
sed "s/@VERSION@/$version/" packaging/dkms.conf >"$src/dkms.conf"
chmod 644 "$src/dkms.conf"

doc=$root/usr/share/doc/diagnose-tools
install -d "$doc"
install -m 644 packaging/copyright "$doc/copyright"
gzip -9n <packaging/changelog >"$doc/changelog.gz"
install -m 644 README.md "$doc/"
install -m 644 docs/*.md "$doc/"

# what the CLI links, as dpkg-shlibdeps sees it (it needs a debian/control)
mkdir -p "$work/src/debian"
printf 'Source: diagnose-tools\n\nPackage: diagnose-tools\nArchitecture: %s\n' "$arch" \
	>"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/diagnose-tools" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: diagnose-tools
Version: $version
Architecture: $arch
Maintainer: diagnose-tools developers <maintainers@users.noreply.b-seed-e5b488d7.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: dkms (>= 3), make, gcc, kmod, $shlibs
Recommends: linux-headers-amd64
Section: admin
Priority: optional
Description: see why a Linux process behaves as it does
 diagnose.ko (built by DKMS) records CPU migrations and their causes,
 kernel probe hits with kernel and user stacks, process life events and
 resource use; diagnose-tools drives it and reports in text and JSON,
 and draws flame graphs.
CONTROL

# DKMS: add the sources, build and install for every kernel whose headers
# are there; a failed build fails the installation and says where the log is
cat >"$root/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
VERSION=$version
POSTINST
cat >>"$root/DEBIAN/postinst" <<'POSTINST'
if [ "$1" = configure ]; then
	if ! dkms status -m diagnose -v "$VERSION" | grep -q .; then
		dkms add -m diagnose -v "$VERSION"
	fi
	built=0
	for dir in /lib/modules/*/build; do
		[ -e "$dir/Makefile" ] || continue
		kver=$(basename "$(dirname "$dir")")
		rc=0
		dkms build -m diagnose -v "$VERSION" -k "$kver" || rc=$?
		if [ "$rc" = 77 ]; then
			echo "diagnose-tools: diagnose.ko does not support kernel $kver (x86-64 only); skipped" >&2
			continue
		fi
		if [ "$rc" != 0 ]; then
			echo "diagnose-tools: ERROR: DKMS could not build diagnose.ko for kernel $kver." >&2
			echo "diagnose-tools: the build log is /var/lib/dkms/diagnose/$VERSION/build/make.log" >&2
			exit 1
		fi
		dkms install -m diagnose -v "$VERSION" -k "$kver" --force
		built=$((built + 1))
	done
	if [ "$built" = 0 ]; then
		echo "diagnose-tools: no kernel headers installed: install linux-headers-$(uname -r);" \
			"DKMS then builds diagnose.ko by itself" >&2
	else
		echo "diagnose-tools: diagnose.ko built for $built kernel(s); load it with: modprobe diagnose"
	fi
fi
POSTINST
cat >"$root/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
VERSION=$version
PRERM
cat >>"$root/DEBIAN/prerm" <<'PRERM'
case "$1" in
remove | upgrade | deconfigure)
	# unload it if nothing uses it, then take it out of every kernel
	if [ -e /sys/module/diagnose ]; then
		modprobe -r diagnose 2>/dev/null ||
			echo "diagnose-tools: diagnose.ko is in use and stays loaded until reboot" >&2
	fi
	if dkms status -m diagnose -v "$VERSION" | grep -q .; then
		dkms remove -m diagnose -v "$VERSION" --all
	fi
	;;
esac
PRERM
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"

out=build/diagnose-tools_${version}_${arch}.deb
mkdir -p build
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
if [[ ${1:-} == --lintian ]]; then
	command -v lintian >/dev/null || { echo "build-deb.sh: lintian missing (Debian package lintian)" >&2; exit 1; }
	lintian --fail-on error "$out" >&2
fi
echo "$out"
