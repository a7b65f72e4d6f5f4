// SPDX-License-Identifier: GPL-2.0-or-later
// The functions the BPF backend has: one entry each (bpf_functions.cpp),
// with what loads its programs (bpf_<function>.cpp, around the shared
// pieces of bpf_loader.h); the backend does the rest alike for all.
#pragma once

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bpf/diag_bpf_abi.h"
#include "uapi/diagnose.h"

namespace diag {

struct BpfFunction {
  uint32_t id;             // enum diag_function_id
  const char *name;        // as the module names it
  uint32_t settings_size;  // the function's settings struct
  uint32_t max_record;     // its largest record
  // Opens, configures, loads and attaches the programs for `settings`
  // (validated, activated set), and pins their links and maps in `dir`.
  // Throws KernelError or EnvironmentError with one line.
  void (*activate)(const void *settings, uint32_t nr_cpus, const std::string &dir);
  // Optional: run before every drain of a report (and for --settings),
  // for records the programs can only make from process context.  Takes
  // the activation's pin directory; throws KernelError with one line.
  void (*sync)(const std::string &dir);
  // Optional: fills the out-fields of the function's settings (read back
  // from the activation's pins as they were activated) for --settings and
  // reports.  Takes the pin directory; must not throw for a counter it
  // cannot read (the field then stays as activated).
  void (*settings_out)(const std::string &dir, void *settings);
};

// The loaders, one per function (bpf_<function>.cpp).
void activate_migrate_image(const void *settings, uint32_t nr_cpus, const std::string &dir);
void sync_migrate_image(const std::string &dir);
void activate_keytime_image(const void *settings, uint32_t nr_cpus, const std::string &dir);
void activate_resource_image(const void *settings, uint32_t nr_cpus, const std::string &dir);
void sync_resource_image(const std::string &dir);
void activate_kprobe(const void *settings, uint32_t nr_cpus, const std::string &dir);
void kprobe_settings_out(const std::string &dir, void *settings);

const std::vector<BpfFunction> &bpf_functions();
// libbpf's messages kept for one-line errors instead of printed
// ($DIAGNOSE_BPF_LOG: printed as well).
void install_libbpf_log();
const BpfFunction *find_bpf_function(uint32_t id);

// The module's checks of the common settings (module/core.c), and the
// default buffer size filled in; throws KernelError(EINVAL) as it refuses.
void validate_bpf_settings(const BpfFunction &fn, diag_common_settings &c, uint32_t nr_cpus);

}  // namespace diag
