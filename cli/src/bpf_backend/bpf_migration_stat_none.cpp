// SPDX-License-Identifier: GPL-2.0-or-later
// A build without the BPF backend (bpf_backend_none.cpp): the migration
// stat has no BPF side, and asking for it says why.
#include "bpf_backend/bpf_migration_stat.h"

#include "bpf_backend/bpf_backend.h"
#include "errors.h"

namespace diag::msbpf {

namespace {
[[noreturn]] void unavailable() { throw EnvironmentError(BpfBackend::unavailable_reason()); }
}  // namespace

bool present() { return false; }
std::string stat_text() { unavailable(); }
void enable(uint32_t, uint32_t) { unavailable(); }
void stop() { unavailable(); }
void reset() { unavailable(); }
void write_stat(const std::function<void(const char *, size_t)> &) { unavailable(); }
Status status() { unavailable(); }

}  // namespace diag::msbpf
