#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kbuild tree to build diagnose.ko against: the running kernel's when it
# is installed, else the newest installed one (the guest kernel on hosts
# that cannot load modules).
set -euo pipefail
running=/lib/modules/$(uname -r)/build
if [[ -e $running/Makefile ]]; then
	echo "$running"
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
ver=$("$here/guest/guest-kernel.sh")
echo "/lib/modules/$ver/build"
