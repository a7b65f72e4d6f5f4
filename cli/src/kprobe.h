// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools kprobe: every hit of one kernel function, with who hit it
// and through which kernel and user call paths.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "function_command.h"
#include "stack_report.h"

namespace diag {

// One stack block of a kprobe report: a hit, or identical hits aggregated.
struct KprobeBlock {
  StackBlock block;
  uint64_t first_ts_ns = 0, last_ts_ns = 0;
  std::set<uint16_t> cpus;
};

struct KprobeReportOptions {
  bool lines = false;      // file:line and inlined frames
  bool aggregate = true;   // identical stacks of a task as one block
  bool frame_pointers_only = false;
};

// Builds the blocks of a decoded kprobe report, in order of first hit,
// with the session's symbol tables and snapshots (or live ones of its own).
std::vector<KprobeBlock> kprobe_blocks(const DecodedReport &report, const KprobeReportOptions &opts,
                                       ReportResources &resources, uint64_t *hits);
std::vector<KprobeBlock> kprobe_blocks(const DecodedReport &report, const KprobeReportOptions &opts,
                                       uint64_t *hits);

std::unique_ptr<FunctionCommand> make_kprobe_command();

}  // namespace diag
