// SPDX-License-Identifier: GPL-2.0-or-later
// Reading stacks into a Profile: our stack reports (text and JSON, see
// docs/stack-format.md), folded stacks and `perf script` output.  Inputs
// are streamed: memory grows with the number of distinct stacks, not with
// the number of input lines.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "flame/profile.h"

namespace flame {

enum class InputFormat { kAuto, kReport, kJson, kFolded, kPerf };

// "auto", "report", "json", "folded", "perf"
std::optional<InputFormat> parse_input_format(std::string_view name);
const char *input_format_name(InputFormat f);

// Guesses the format from the first bytes of an input; nullopt if none fits.
std::optional<InputFormat> detect_input_format(std::string_view head);

struct ReadOptions {
  InputFormat format = InputFormat::kAuto;
  bool per_pid = false;     // root frame "comm[pid]" instead of "comm"
  bool per_cgroup = false;  // the cgroup as the root, above the process
  bool baseline = false;    // counts go to the baseline of a differential profile
};

struct ReadStats {
  InputFormat format = InputFormat::kAuto;  // the format read
  uint64_t stacks = 0;                      // stacks added
  uint64_t samples = 0;                     // sum of their counts
  uint64_t ignored_lines = 0;               // lines that were not part of any stack
  bool has_pid = false;                     // the input named processes' pids
  bool has_cgroup = false;                  // ... and cgroups
};

// Bad input: a one-line reason.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads one input ("-" is standard input).  Throws InputError when the file
// cannot be opened, its format cannot be told, or it holds no stack.
ReadStats read_input(const std::string &path, Profile &profile, const ReadOptions &options);
// Same, from a string (tests).
ReadStats read_input_text(std::string_view text, Profile &profile, const ReadOptions &options,
                          const std::string &label = "<text>");

// Cleans one frame of a report or perf script into its flame graph name:
// drops "+0x1f/0x80" offsets, " at FILE:LINE" and " [inlined]"; an
// unresolved symbol becomes "[module]"; kernel frames get "_[k]" and
// inlined frames "_[i]".
std::string frame_name(std::string_view symbol, std::string_view module, bool kernel,
                       bool inlined = false);

}  // namespace flame
