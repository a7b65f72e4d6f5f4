// SPDX-License-Identifier: GPL-2.0-or-later
// The migration stat on the BPF backend (bpf/migration_stat.bpf.c), with
// the module's migration_stat/ semantics (docs/migration-trace.md):
// migrations per cause and fork placements per period, one stat at a
// time, system-wide, pinned under /sys/fs/bpf/diagnose/migration-stat/
// between commands.  The period and the capacity are given at the start
// (the module's period_msec file and migration_stat_hours parameter).
// Every refusal is a KernelError with the module's errno:
//   EEXIST    start while the stat holds data (reset first)
//   EALREADY  start while counting
//   EINVAL    a period or capacity out of range
//   ENOMEM    the counters are over the memory budget
// Other failures: KernelError with the errno, EnvironmentError when the
// machine cannot run the programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace diag::msbpf {

inline constexpr uint32_t kDefaultPeriodMsec = 1000;     // the module's defaults
inline constexpr uint32_t kMaxPeriodMsec = 86400000;     // and limits: one day
inline constexpr uint32_t kDefaultHours = 1;
inline constexpr uint32_t kMaxHours = 8760;

// Whether a stat (counting or not) is pinned.
bool present();

// Starts counting in periods of `period_msec`, for `hours` * 3600 periods.
void enable(uint32_t period_msec, uint32_t hours);
// Stops counting (no-op when not counting); the programs go, the counts stay.
void stop();
// Stops and frees the stat (no-op when there is none).
void reset();
// The stat as migration_stat/stat prints it (a header, then one line per
// complete period), handed to `sink` in pieces as it is made.
void write_stat(const std::function<void(const char *, size_t)> &sink);
// The same, whole.
std::string stat_text();

struct Status {
  std::string state;  // empty, running, stopped, full
  uint32_t period_msec = 0, hours = 0, nr_cpus = 0;
  uint64_t capacity = 0, complete = 0, lost = 0;
  uint64_t skipped_calls = 0;  // program calls the kernel skipped (recursion)
  uint64_t start_ts = 0, stop_ts = 0;
  bool programs = false;  // links still pinned
};
Status status();

}  // namespace diag::msbpf
