// SPDX-License-Identifier: GPL-2.0-or-later
// resource-image report model, shared by its writers and tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "function_command.h"
#include "records.h"

namespace diag {

// One sample with the figures people read, derived from the record.
struct ResourceSample {
  diag_resource_record rec{};
  uint64_t interval_ns = 0;
  double cpu_percent = 0;     // CPU time / interval
  double mem_percent = 0;     // RSS / RAM
  double rchar_per_sec = 0;   // bytes read / interval
  double wchar_per_sec = 0;
  std::vector<uint32_t> cpus; // CPUs it ran on in the interval
};

ResourceSample derive_sample(const diag_resource_record &rec);

// Totals of one task over a report.
struct ResourceTaskTotals {
  int32_t pid = 0, tgid = 0;
  std::string comm;
  uint64_t samples = 0;
  uint64_t first_start_ns = 0, last_end_ns = 0;
  uint64_t cpu_ns = 0, rchar = 0, wchar = 0, read_bytes = 0, write_bytes = 0;
  uint64_t max_rss_bytes = 0, last_rss_bytes = 0;
  bool exited = false;
};

struct ResourceReport {
  std::vector<ResourceSample> samples;
  std::vector<ResourceTaskTotals> tasks;  // in order of first sample
  bool table_full = false;                // some task could not be tracked
};

ResourceReport build_resource_report(const DecodedReport &report);

std::unique_ptr<FunctionCommand> make_resource_image_command();

}  // namespace diag
