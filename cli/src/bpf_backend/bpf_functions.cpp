// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpf_backend/bpf_functions.h"

namespace diag {

static_assert(sizeof(diag_migrate_image_settings) <= DIAG_BPF_SETTINGS_MAX &&
                  sizeof(diag_keytime_image_settings) <= DIAG_BPF_SETTINGS_MAX &&
                  sizeof(diag_resource_image_settings) <= DIAG_BPF_SETTINGS_MAX &&
                  sizeof(diag_kprobe_settings) <= DIAG_BPF_SETTINGS_MAX,
              "the settings map holds every function's settings");

const std::vector<BpfFunction> &bpf_functions() {
  static const std::vector<BpfFunction> functions = {
      {DIAG_FN_MIGRATE_IMAGE, "migrate-image", sizeof(diag_migrate_image_settings),
       sizeof(diag_migrate_record), activate_migrate_image, sync_migrate_image, nullptr},
      {DIAG_FN_KEYTIME_IMAGE, "keytime-image", sizeof(diag_keytime_image_settings),
       sizeof(diag_keytime_record) + DIAG_KT_EXEC_DATA_MAX, activate_keytime_image, nullptr, nullptr},
      {DIAG_FN_RESOURCE_IMAGE, "resource-image", sizeof(diag_resource_image_settings),
       sizeof(diag_resource_record), activate_resource_image, sync_resource_image, nullptr},
      {DIAG_FN_KPROBE, "kprobe", sizeof(diag_kprobe_settings),
       sizeof(diag_kprobe_record) + DIAG_USTACK_KIB_MAX * 1024, activate_kprobe, nullptr,
       kprobe_settings_out},
  };
  return functions;
}

const BpfFunction *find_bpf_function(uint32_t id) {
  for (const BpfFunction &fn : bpf_functions())
    if (fn.id == id) return &fn;
  return nullptr;
}

}  // namespace diag
