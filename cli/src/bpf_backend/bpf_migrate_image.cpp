// SPDX-License-Identifier: GPL-2.0-or-later
// migrate-image on the BPF backend: bpf/migrate_image.bpf.c, with the
// deciding functions of the cause table resolved in this kernel.
#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"
#include "kallsyms.h"
#include "migrate_image.skel.h"

namespace diag {

namespace {

// The deciding functions of DIAG_MIGRATE_CAUSE_SITES in this kernel,
// sorted, from /proc/kallsyms.
std::vector<diag_cause_range> cause_ranges() {
  struct Site {
    const char *sym;
    uint32_t cause;
  };
  static const Site sites[] = {
#define CAUSE_SITE(sym, cause) {sym, cause},
      DIAG_MIGRATE_CAUSE_SITES(CAUSE_SITE)
#undef CAUSE_SITE
  };
  KernelSymbols ksyms = KernelSymbols::load();
  if (ksyms.empty())
    throw EnvironmentError(
        "/proc/kallsyms shows no addresses (kernel.kptr_restrict?): the BPF backend needs them "
        "to tell why tasks migrate");
  std::vector<diag_cause_range> ranges;
  for (const Site &s : sites) {
    auto r = ksyms.range_of(s.sym);
    if (!r) continue;
    diag_cause_range c{};
    c.start = r->first;
    c.end = r->second;
    c.cause = s.cause;
    ranges.push_back(c);
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const diag_cause_range &a,
                                                    const diag_cause_range &b) {
    return a.start < b.start;
  });
  // aliases of one function: keep the first
  ranges.erase(std::unique(ranges.begin(), ranges.end(),
                           [](const diag_cause_range &a, const diag_cause_range &b) {
                             return a.start == b.start;
                           }),
               ranges.end());
  if (ranges.size() > DIAG_BPF_MAX_CAUSE_RANGES) ranges.resize(DIAG_BPF_MAX_CAUSE_RANGES);
  return ranges;
}

}  // namespace

void activate_migrate_image(const void *settings, uint32_t nr_cpus, const std::string &dir) {
  const auto &s = *static_cast<const diag_migrate_image_settings *>(settings);
  reset_libbpf_log();
  std::unique_ptr<migrate_image_bpf, SkelDeleter<migrate_image_bpf>> skel(
      migrate_image_bpf__open(), {migrate_image_bpf__destroy});
  if (!skel) load_failed("opening the migrate-image BPF object", errno);
  set_filter(skel->rodata, s.common);
  std::vector<diag_cause_range> ranges = cause_ranges();
  std::copy(ranges.begin(), ranges.end(), skel->data_causes->cause_ranges);
  skel->data_causes->nr_cause_ranges = static_cast<uint32_t>(ranges.size());
  bpf_map__set_max_entries(skel->maps.records,
                           static_cast<uint32_t>(ring_bytes(s.common.buf_kib, nr_cpus)));
  load_attach(skel->skeleton);
  pin(skel->skeleton, skel->maps.settings, settings, sizeof(s), dir);
}

}  // namespace diag
