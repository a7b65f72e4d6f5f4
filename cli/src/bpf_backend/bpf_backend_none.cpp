// SPDX-License-Identifier: GPL-2.0-or-later
// A build without the BPF toolchain (cmake -DDIAG_BPF=OFF, or clang,
// bpftool, libbpf-dev or the kernel's BTF missing at build time): the
// module is the only backend, and asking for BPF says so.
#include "bpf_backend/bpf_backend.h"

#include "errors.h"

namespace diag {

std::string BpfBackend::unavailable_reason() {
  return "this diagnose-tools was built without its BPF backend (it needs clang, bpftool, "
         "libbpf-dev and the kernel's BTF at build time)";
}

std::unique_ptr<BpfBackend> BpfBackend::open() { throw EnvironmentError(unavailable_reason()); }

bool BpfBackend::active(uint32_t) { return false; }

bool BpfBackend::has(uint32_t) { return false; }

BpfBackend::BpfBackend() = default;

void BpfBackend::call(uint32_t, uint32_t, void *, uint32_t) {
  throw EnvironmentError(unavailable_reason());
}

void BpfBackend::report(uint32_t, ReportBytes &, int *) { throw EnvironmentError(unavailable_reason()); }

}  // namespace diag
