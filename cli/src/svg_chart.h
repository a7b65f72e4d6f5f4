// SPDX-License-Identifier: GPL-2.0-or-later
// Line charts as standalone SVG: axes with ticks and units, a legend, one
// line per series.  Used by every --plot option.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace diag {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct Chart {
  std::string title;
  std::string x_label;  // with its unit: "time since start (s)"
  std::string y_label;  // with its unit: "migrations per second"
  std::vector<ChartSeries> series;
};

// The SVG document.  The y axis starts at 0.
std::string render_svg(const Chart &chart);

// Round tick positions covering [lo, hi]: steps of 1, 2 or 5 x 10^k, about
// `target` of them; the first tick <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Leaves out the series that are zero everywhere when others are not (a
// legend of twenty flat lines hides the two that matter); returns how
// many it left out.
size_t drop_flat_series(Chart &chart);

// Writes the chart to path; throws std::runtime_error when it cannot.
void write_svg_file(const std::string &path, const Chart &chart);

}  // namespace diag
