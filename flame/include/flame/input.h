// SPDX-License-Identifier: GPL-2.0-or-later
// Reading stacks into a Profile: our stack reports (text and JSON, see
// docs/stack-format.md), folded stacks and `perf script` output.  Inputs
// are streamed (JSON too, through SAX events): memory grows with the number
// of distinct stacks, not with the size of the input.
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

// How `perf script` samples are folded.  The defaults fold as
// stackcollapse-perf.pl does by default (docs/flame.md); each field is one
// of its options.
struct PerfOptions {
  bool pid = false;          // --pid: root frame "comm-PID"
  bool tid = false;          // --tid: root frame "comm-PID/TID"
  bool kernel = false;       // --kernel: kernel frames end in "_[k]"
  bool jit = false;          // --jit: frames of /tmp/perf-PID.map end in "_[j]"
  bool addrs = false;        // --addrs: "[module <addr>]" for unresolved frames
  bool keep_args = false;    // keep argument lists: "f(int)" is not cut to "f"
  std::string event_filter;  // only this event; empty: the first event seen
};

struct ReadOptions {
  InputFormat format = InputFormat::kAuto;
  bool per_pid = false;     // root frame "comm[pid]" instead of "comm"
  bool per_cgroup = false;  // the cgroup as the root, above the process
  bool baseline = false;    // counts go to the baseline of a differential profile
  PerfOptions perf;         // perf script input only
};

struct ReadStats {
  InputFormat format = InputFormat::kAuto;  // the format read
  uint64_t stacks = 0;                      // stacks added
  uint64_t samples = 0;                     // sum of their counts
  uint64_t ignored_lines = 0;               // lines that were not part of any stack
  bool has_pid = false;                     // the input named processes' pids
  bool has_cgroup = false;                  // ... and cgroups
  // perf script input: the event whose samples were kept, and the samples
  // of other events left out (PerfOptions::event_filter)
  std::string event;
  uint64_t other_event_samples = 0;
  std::string other_event;  // the first of those events
};

// Bad input: a one-line reason.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An input that can be read but is malformed or exceeds a limit:
// "FILE:LINE: why" (or "FILE: why").
class FormatError : public InputError {
 public:
  using InputError::InputError;
};

// Limits of the readers (docs/input-limits.md); the profile has its own
// (profile.h).
// one line of a text input, one token (string, number) of a JSON input
inline constexpr size_t kMaxLineBytes = 16u << 20;

// Reads one input ("-" is standard input).  Throws InputError when the file
// cannot be opened or read, FormatError when its format cannot be told, it
// holds no stack, or it is malformed or beyond a limit.
ReadStats read_input(const std::string &path, Profile &profile, const ReadOptions &options);
// Same, from a string (tests).
ReadStats read_input_text(std::string_view text, Profile &profile, const ReadOptions &options,
                          const std::string &label = "<text>");

// Cleans one frame of a report into its flame graph name:
// drops "+0x1f/0x80" offsets, " at FILE:LINE" and " [inlined]"; an
// unresolved symbol becomes "[module]"; kernel frames get "_[k]" and
// inlined frames "_[i]".
std::string frame_name(std::string_view symbol, std::string_view module, bool kernel,
                       bool inlined = false);

}  // namespace flame
