// SPDX-License-Identifier: GPL-2.0-or-later
// Where a function runs: diagnose.ko behind /dev/diagnose (Device, here)
// or BPF programs (bpf/bpf_backend.h); the CLI talks to both through
// Backend, in the module's terms (function x verb, settings structs,
// uapi/ records), so that nothing above it knows which one it has.
#pragma once

#include <cstdint>
#include <memory>
#include <cstring>
#include <string>
#include <string_view>
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

class Backend {
 public:
  virtual ~Backend() = default;
  // "module" or "bpf", as --backend names it.
  virtual const char *name() const = 0;
  // ABI, CPU ids, the functions this backend has, its version string.
  const diag_version &version() const { return version_; }

  // One function x verb call.  Throws KernelError carrying the errno and
  // the backend's reason.
  virtual void call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size) = 0;

  // Drains the function's buffers into `out` (appending), in as many calls
  // as it takes.  Throws KernelError when a call fails; what earlier calls
  // drained is then in `out` already, and `rounds` says how many succeeded,
  // so that the caller can keep it (the backend does not give it back).
  virtual void report(uint32_t function, ReportBytes &out, int *rounds = nullptr) = 0;

 protected:
  diag_version version_{};
};

// The ioctl client for /dev/diagnose.
class Device : public Backend {
 public:
  // Opens /dev/diagnose (or $DIAGNOSE_DEVICE) and checks the module's ABI.
  // Throws EnvironmentError with one line saying what is wrong.
  static std::unique_ptr<Device> open();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;
  ~Device() override;

  const char *name() const override { return "module"; }
  void call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size) override;
  void report(uint32_t function, ReportBytes &out, int *rounds = nullptr) override;

  // The device node the module serves ($DIAGNOSE_DEVICE or /dev/diagnose).
  static std::string path();

 private:
  explicit Device(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// "bpf" or "module": which backend reported with this version (rescue
// files and reports keep the version, not the backend).
inline const char *backend_of(const diag_version &v) {
  return std::string_view(v.module_version, strnlen(v.module_version, sizeof(v.module_version)))
                 .starts_with("bpf")
             ? "bpf"
             : "module";
}

// --backend: which of the two a command uses.
enum class BackendChoice { kAuto, kModule, kBpf };
// "auto", "module", "bpf" (UsageError otherwise).
BackendChoice parse_backend_choice(const std::string &text);
// --backend when given, else $DIAGNOSE_BACKEND, else auto.
BackendChoice backend_choice(const std::string &option);

// The backend for `function`:
//   module: /dev/diagnose, loading the module (modprobe) when it is
//           installed but not loaded and `may_load_module` (activations);
//   bpf:    the BPF programs, when the kernel runs them;
//   auto:   the one where `function` is active now; else the module when
//           /dev/diagnose exists or it can be loaded (as above); else BPF when the
//           kernel allows it; else EnvironmentError naming why neither works.
std::unique_ptr<Backend> open_backend(BackendChoice choice, uint32_t function,
                                      bool may_load_module);

}  // namespace diag
