// SPDX-License-Identifier: GPL-2.0-or-later
// The light-weight migration trace on the BPF backend
// (bpf/migration_trace.bpf.c), with the module's migration_trace/
// semantics (docs/migration-trace.md): one trace at a time, system-wide,
// pinned under /sys/fs/bpf/diagnose/migration-trace/ between commands.
// Every refusal is a KernelError with the module's errno:
//   EEXIST    start while a trace is held (reset first)
//   EALREADY  start while tracing
//   EBUSY     reading the trace while tracing
//   EPIPE     a mark while not tracing (or one the full buffer lost)
//   EINVAL    a buffer size out of range
//   ENOMEM    the buffers are over the memory budget
// Other failures: KernelError with the errno, EnvironmentError when the
// machine cannot run the programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace diag::mtbpf {

inline constexpr uint32_t kDefaultBufferKib = 1024;  // the module's default
inline constexpr uint32_t kMaxBufferKib = 1024 * 1024;  // and its maximum

// Whether a trace (running or not) is pinned.
bool present();

// Starts a trace with `buffer_kib` per CPU: loads and attaches the
// programs, writes start_sched_clock on every online CPU, then the names
// of every task alive.
void enable(uint32_t buffer_kib);
// Stops tracing (no-op when not tracing); the programs go, the trace stays.
void stop();
// A mark event by this process on its CPU, now.
void mark(uint64_t value);
// Stops and frees the trace (no-op when there is none).
void reset();
// The trace as migration_trace/trace prints it; a header with state
// "empty" when there is none.
std::string trace_text();
// The same, handed to `sink` in pieces of about 1 MiB as it is made, so a
// trace of any size goes out without being held whole.
void write_trace(const std::function<void(const char *, size_t)> &sink);

struct Status {
  std::string state;  // empty, running, stopped, full
  uint32_t buffer_kib = 0, nr_cpus = 0;
  uint64_t events = 0, lost = 0, capacity = 0;
  uint64_t skipped_calls = 0;  // program calls the kernel skipped (recursion)
  uint64_t start_ts = 0, stop_ts = 0;
  int64_t full_cpu = -1;
  bool programs = false;  // links still pinned
};
Status status();

}  // namespace diag::mtbpf
