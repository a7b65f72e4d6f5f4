// SPDX-License-Identifier: GPL-2.0-or-later
// A build without the BPF backend (bpf_backend_none.cpp): the migration
// trace has no BPF side, and asking for it says why.
#include "bpf_backend/bpf_migration_trace.h"

#include "bpf_backend/bpf_backend.h"
#include "errors.h"

namespace diag::mtbpf {

namespace {
[[noreturn]] void unavailable() { throw EnvironmentError(BpfBackend::unavailable_reason()); }
}  // namespace

bool present() { return false; }
void enable(uint32_t) { unavailable(); }
void stop() { unavailable(); }
void mark(uint64_t) { unavailable(); }
void reset() { unavailable(); }
std::string trace_text() { unavailable(); }
void write_trace(const std::function<void(const char *, size_t)> &) { unavailable(); }
Status status() { unavailable(); }

}  // namespace diag::mtbpf
