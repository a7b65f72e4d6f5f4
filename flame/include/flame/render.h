// SPDX-License-Identifier: GPL-2.0-or-later
// Writing a finished Profile: interactive SVG, folded stacks, speedscope JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "flame/escape.h"
#include "flame/profile.h"

namespace flame {

enum class Palette { kHot, kMem, kIo };
std::optional<Palette> parse_palette(std::string_view name);

struct SvgOptions {
  std::string title;       // empty: "Flame Graph", "Icicle Graph" or "Flame Chart"
  std::string subtitle;
  std::string countname = "samples";
  std::string font = "Verdana";
  double width = 1200;       // image width, pixels
  double frame_height = 16;  // pixels per stack level
  double font_size = 12;
  double font_width = 0.59;  // average glyph width relative to font_size
  double min_width = 0.1;    // frames narrower than this are not drawn...
  bool min_width_percent = false;  // ... in percent of the total instead of pixels
  Palette palette = Palette::kHot;
  bool inverted = false;  // icicle: roots at the top
  bool negate = false;    // differential: swap red and blue
};

struct SvgStats {
  uint64_t frames = 0;   // frames drawn
  uint64_t omitted = 0;  // frames narrower than min_width (not drawn)
  unsigned depth = 0;    // deepest level drawn
  uint64_t bytes = 0;
};

// The colour of a frame: a hash of its name picks the shade, so a function
// has the same colour in every graph; kernel frames take a hue of their own.
std::string frame_color(std::string_view name, Palette palette);
// Differential colour: red for more, blue for less, white for no change.
std::string diff_color(int64_t delta, uint64_t max_delta, bool negate);

// The profile must be finish()ed.
SvgStats write_svg(const Profile &profile, const SvgOptions &options, std::ostream &out);

// One line per distinct stack, "a;b;c COUNT" (or "a;b;c BASE COUNT" for a
// differential profile), stacks in name order: flamegraph.pl's input and
// the Firefox Profiler's flame graph import.
void write_folded(const Profile &profile, std::ostream &out);

// speedscope's file format (a "sampled" profile, one sample per distinct
// stack, weighted by its count).
void write_speedscope(const Profile &profile, const std::string &name, std::ostream &out);

}  // namespace flame
