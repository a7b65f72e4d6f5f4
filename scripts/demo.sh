#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: a real migrate-image report from a real kernel.  Uses the host
# kernel when it can load modules (root, CONFIG_MODULES, a matching
# diagnose.ko); else the host kernel through the BPF backend when it runs
# BPF (root, BTF); otherwise boots the bundled guest kernel under QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."

host_can_load() {
	[[ $(id -u) == 0 && -e /proc/modules ]] || return 1
	modinfo -F vermagic module/diagnose.ko 2>/dev/null | grep -q "^$(uname -r) "
}

if host_can_load; then
	echo "# running on the host kernel"
	exec scripts/demo-job.sh
fi
if build/diagnose-tools migrate-image --backend bpf --settings >/dev/null 2>&1; then
	echo "# this kernel cannot load modules: running on the host kernel with the BPF backend"
	DIAGNOSE_BACKEND=bpf exec scripts/demo-job.sh
fi
echo "# this kernel cannot load modules and cannot run the BPF backend ($(
	build/diagnose-tools migrate-image --backend bpf --settings 2>&1 >/dev/null | sed 's/^[^:]*: //'
)): booting the guest kernel $(scripts/guest/guest-kernel.sh) under QEMU (about 10 s)"
scripts/guest/run.sh --follow build/demo scripts/demo-job.sh
