// SPDX-License-Identifier: GPL-2.0-or-later
// The BPF backend: the functions as BPF programs (bpf/*.bpf.c) where the
// kernel cannot load diagnose.ko but runs BPF.  An activation outlives the
// command that made it: its programs' links and maps are pinned under
// /sys/fs/bpf/diagnose/<function>/, where --report, --settings and
// --deactivate of later commands find them.
#pragma once

#include <memory>
#include <string>

#include "device.h"

namespace diag {

class BpfBackend : public Backend {
 public:
  // Throws EnvironmentError with one line when this machine cannot run
  // the programs (built without them, not root, no BTF, no bpffs).
  static std::unique_ptr<BpfBackend> open();
  // "" when open() would succeed, else why not (one line).
  static std::string unavailable_reason();
  // Whether `function` is active on BPF now.
  static bool active(uint32_t function);
  // Whether `function` has a BPF implementation in this build.
  static bool has(uint32_t function);

  const char *name() const override { return "bpf"; }
  void call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size) override;
  void report(uint32_t function, ReportBytes &out, int *rounds = nullptr) override;

 private:
  BpfBackend();
};

}  // namespace diag
