// SPDX-License-Identifier: GPL-2.0-or-later
// User stacks of a stream of reports, unwound and symbolized: the glue
// every stack-bearing report writer uses.  It gathers the reports'
// address-space snapshots (DIAG_REC_TASK_MAPS, by mm_key), falls back to
// /proc/PID/maps for an address space without one (the process must still
// live, and the resources be live), unwinds each saved stack copy
// (user_unwind.h) and symbolizes it (symbolizer.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "elf_image.h"
#include "process_maps.h"
#include "records.h"
#include "stack_report.h"
#include "symbolizer.h"
#include "user_unwind.h"

namespace diag {

class ReportResources;

class UserStacks {
 public:
  UserStacks(ReportResources &resources, SymbolizeOptions sym_opts,
             UnwindOptions unwind_opts = {});

  // Takes a report's snapshots; call it for each report before resolving
  // its stacks.  Snapshots of earlier reports stay known.
  void add_snapshots(const DecodedReport &report);

  struct Result {
    std::vector<StackFrame> frames;  // innermost first; empty for kernel threads
    UnwindResult::Method method = UnwindResult::Method::kNone;
    bool truncated = false;          // the copy ended before the stack did
    std::string maps;                // "snapshot", "snapshot+proc", "proc", "none"
  };
  // `stack` is the copy that followed the record's fixed part.
  Result resolve(int32_t tgid, const diag_user_stack &us, std::span<const uint8_t> stack);

 private:
  const AddressSpace *space_for(uint64_t mm_key, int32_t tgid, uint64_t ip, std::string &source);
  ProcessMaps proc_maps(int32_t tgid) const;

  ReportResources &res_;
  Symbolizer symbolizer_;
  UnwindOptions unwind_opts_;
  TaskMapsCollector snapshots_;
  std::map<uint64_t, std::unique_ptr<AddressSpace>> spaces_;
};

}  // namespace diag
