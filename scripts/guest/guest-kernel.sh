#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Print the version of the guest kernel: the newest /lib/modules/<ver> that
# has both a kbuild tree and a bootable image in /boot.  DIAG_GUEST_KVER
# overrides.  Used by the build and by the guest runner so that the module
# is always built against the kernel the guest boots.
set -euo pipefail

if [[ -n "${DIAG_GUEST_KVER:-}" ]]; then
	echo "$DIAG_GUEST_KVER"
	exit 0
fi
ver=$(for d in /lib/modules/*/; do
	v=$(basename "$d")
	[[ -e "$d/build/Makefile" && -e "/boot/vmlinuz-$v" ]] && echo "$v"
done | sort -V | tail -n 1)
if [[ -z "$ver" ]]; then
	echo "no guest kernel: install linux-image-amd64 and linux-headers-amd64 (run: make deps)" >&2
	exit 1
fi
echo "$ver"
