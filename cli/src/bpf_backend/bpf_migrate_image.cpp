// SPDX-License-Identifier: GPL-2.0-or-later
// migrate-image on the BPF backend: bpf/migrate_image.bpf.c, with the
// deciding functions of the cause table resolved in this kernel.
#include <cerrno>
#include <memory>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"
#include "migrate_image.skel.h"

namespace diag {

void activate_migrate_image(const void *settings, uint32_t nr_cpus, const std::string &dir) {
  const auto &s = *static_cast<const diag_migrate_image_settings *>(settings);
  reset_libbpf_log();
  std::unique_ptr<migrate_image_bpf, SkelDeleter<migrate_image_bpf>> skel(
      migrate_image_bpf__open(), {migrate_image_bpf__destroy});
  if (!skel) load_failed("opening the migrate-image BPF object", errno);
  set_filter(skel->rodata, s.common);
  set_cause_ranges(skel->data_causes);
  bpf_map__set_max_entries(skel->maps.records,
                           static_cast<uint32_t>(ring_bytes(s.common.buf_kib, nr_cpus)));
  size_move_table(skel->maps.expected);
  load_attach(skel->skeleton);
  pin(skel->skeleton, skel->maps.settings, settings, sizeof(s), dir);
  // every watched task's moves expected from now on (move_gap.bpf.h)
  expect_every_move(dir, "on_report");
}

// Runs the task iterator once: the moves no program saw and nothing
// counted yet go into the lost counts the report reads next (a failure
// is a warning: the report still reads).
void sync_migrate_image(const std::string &dir) { count_unseen_moves(dir, "on_report"); }

}  // namespace diag
