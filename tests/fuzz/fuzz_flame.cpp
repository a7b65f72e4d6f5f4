// SPDX-License-Identifier: GPL-2.0-or-later
// One flame input format (FUZZ_FORMAT: report, json, folded, diff, perf)
// read into a profile, and every writer of the profile.  "diff" reads the
// input as folded stacks twice, once as the baseline: a differential
// profile.  The input's size picks the build options, so that the
// reversed, flame chart, per-pid and per-cgroup paths are fuzzed too.
#include <sstream>

#include "flame/input.h"
#include "flame/profile.h"
#include "flame/render.h"
#include "fuzz_common.h"

#ifndef FUZZ_FORMAT
#error "FUZZ_FORMAT: report, json, folded, diff or perf"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Whether folded text fails to read back as the stacks it was written
// from: a line without a count, or one whose stack ends in a number.
bool ambiguous_folded(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos || sp + 1 == line.size()) return true;
    std::string_view stack = line.substr(0, sp);
    while (!stack.empty() && (stack.back() == ' ' || stack.back() == '\t')) stack.remove_suffix(1);
    size_t end = stack.size();
    while (end && is_digit(stack[end - 1])) --end;
    if (end < stack.size() && end && (stack[end - 1] == ' ' || stack[end - 1] == '\t'))
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string format = STR(FUZZ_FORMAT);
  std::string_view text(reinterpret_cast<const char *>(data), size);
  flame::BuildOptions build;
  build.reverse = size & 1;
  build.flamechart = size & 2;
  flame::ReadOptions read;
  read.format = *flame::parse_input_format(format == "diff" ? "folded" : format);
  read.per_pid = size & 4;
  read.per_cgroup = size & 8;
  flame::Profile profile(build);
  try {
    flame::read_input_text(text, profile, read, "fuzz");
    if (format == "diff") {
      read.baseline = true;
      profile.set_differential();
      flame::read_input_text(text, profile, read, "fuzz");
    }
  } catch (const flame::InputError &) {
    return 0;
  }
  profile.finish();
  fuzz::NullStream out;
  flame::SvgOptions svg;
  svg.min_width = (size & 16) ? 0 : 0.1;
  svg.inverted = size & 32;
  flame::SvgStats st = flame::write_svg(profile, svg, out);
  if (st.bytes != out.buf.bytes) __builtin_trap();
  std::ostringstream folded;
  flame::write_folded(profile, folded);
  flame::write_speedscope(profile, "fuzz", out);
  // the folded output reads back into the same totals, when it can: the
  // format has no escapes, so a frame named "... 12" at the end of a line
  // reads as a differential's baseline count, and a name holding a line
  // break splits its line
  flame::Profile again;
  if (!folded.str().empty() && !profile.differential() && !ambiguous_folded(folded.str())) {
    flame::ReadOptions ro;
    ro.format = flame::InputFormat::kFolded;
    flame::read_input_text(folded.str(), again, ro, "folded output");
    again.finish();
    if (again.total(flame::Profile::kRoot) != profile.total(flame::Profile::kRoot))
      __builtin_trap();
  }
  return 0;
}
