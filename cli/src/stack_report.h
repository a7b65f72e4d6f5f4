// SPDX-License-Identifier: GPL-2.0-or-later
// Stack reports in the one format every stack-bearing function prints
// (docs/stack-format.md): text blocks of #@ / #~ / #* / #^ / #% / ## lines,
// and JSON objects in a top-level "stacks" array.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kallsyms.h"
#include "uapi/diagnose.h"

namespace diag {

struct StackFrame {
  uint64_t addr = 0;
  std::string symbol;  // "[unknown]" (+0xoff) when unresolved
  std::string module;  // "[kernel.kallsyms]", "[xfs]", "libc.so.6", ...
  std::optional<std::string> file;
  std::optional<int> line;
  bool inlined = false;
};

struct ProcessLink {
  int32_t pid = 0;
  std::string comm;
};

// One hit, or one set of identical hits aggregated.
struct StackBlock {
  std::vector<std::string> header;    // label lines printed before the frames
  std::vector<StackFrame> kernel;     // innermost first
  std::vector<StackFrame> user;       // innermost first
  std::string process;                // root frame in flame graphs: comm
  std::vector<ProcessLink> chain;     // nearest ancestor first
  uint64_t count = 1;
  nlohmann::json fields = nlohmann::json::object();  // pid, tgid, comm, cpu, ts_ns, cgroup...
};

// Kernel frames of a captured stack, symbolized from kallsyms.
std::vector<StackFrame> kernel_frames(const diag_kernel_stack &stack, const KernelSymbols &ksyms);

// The text block; names, paths and header lines' values must already be
// printable() where the caller put them into header lines.
void write_stack_block(const StackBlock &block, std::ostream &out);
nlohmann::json stack_block_json(const StackBlock &block);

}  // namespace diag
