// SPDX-License-Identifier: GPL-2.0-or-later
// The ioctl client for /dev/diagnose.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "uapi/diagnose.h"

namespace diag {

// Everything one report call brought back: the raw record stream plus
// the module's counters.
struct ReportBytes {
  std::vector<uint8_t> data;  // records, merged in timestamp order
  uint64_t lost_total = 0;    // records lost since activation, all CPUs
  int64_t real_minus_mono_ns = 0;
  uint32_t nr_cpus = 0;
  bool empty() const { return data.empty() && lost_total == 0; }
};

class Device {
 public:
  // Opens /dev/diagnose (or $DIAGNOSE_DEVICE) and checks the module's ABI.
  // Throws EnvironmentError with one line saying what is wrong.
  static Device open();
  Device(Device &&other) noexcept;
  Device &operator=(Device &&) = delete;
  ~Device();

  const diag_version &version() const { return version_; }

  // One function x verb call.  Throws KernelError carrying the errno and
  // the module's reason.
  void call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size);

  // Drains the function's buffers into `out` (appending), in as many calls
  // as it takes.  Throws KernelError when a call fails; what earlier calls
  // drained is then in `out` already, and `rounds` says how many succeeded,
  // so that the caller can keep it (the module does not give it back).
  void report(uint32_t function, ReportBytes &out, int *rounds = nullptr);

 private:
  explicit Device(int fd) : fd_(fd) {}
  int fd_ = -1;
  diag_version version_{};
};

}  // namespace diag
