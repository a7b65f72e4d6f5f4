// SPDX-License-Identifier: GPL-2.0-or-later
#include "svg_chart.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "flame/escape.h"

namespace diag {

namespace {

// Tableau 10: distinguishable, and readable on white.
const char *const kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
// After ten series the colours come again, with another dash pattern.
const char *const kDashes[] = {"", "7,3", "2,2", "9,3,2,3"};
constexpr int kWidth = 960, kLeft = 90, kRight = 30, kTop = 56, kPlotHeight = 400;
constexpr int kLegendCol = 230, kLegendRow = 20;

std::string escape(const std::string &s) {
  std::string out;
  flame::append_xml_escaped(out, s);
  return out;
}

std::string num(double v) {
  char buf[32];
  if (std::fabs(v) < 1e-9) v = 0;
  snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string coord(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  // what a chart can show: finite values whose range is a finite double
  constexpr double kMax = 1e300;
  if (!std::isfinite(lo)) lo = 0;
  if (!std::isfinite(hi)) hi = lo;
  lo = std::clamp(lo, -kMax, kMax);
  hi = std::clamp(hi, -kMax, kMax);
  target = std::clamp(target, 2, 100);
  // a range narrower than the doubles around it can tell apart (say 1e17
  // .. 1e17 + 1) gets the smallest one they can: ticks must be distinct
  double scale = std::max(std::fabs(lo), std::fabs(hi));
  double min_range = std::max(1e-300, scale * 1e-12);
  if (!(hi - lo >= min_range)) hi = lo + std::max(min_range, scale > 0 ? 0.0 : 1.0);
  double raw = (hi - lo) / (target - 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  double first = std::floor(lo / step) * step;
  // by index, not by adding: at most a few more than `target`
  for (int i = 0; i <= 2 * target + 2; ++i) {
    double t = first + i * step;
    ticks.push_back(t);
    if (t >= hi - step * 0.001) break;
  }
  if (ticks.size() < 2) ticks.push_back(first + step);
  return ticks;
}

std::string render_svg(const Chart &chart) {
  double xmin = 0, xmax = 0, ymax = 0;
  bool any = false;
  for (const auto &s : chart.series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (!any) xmin = xmax = x;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymax = std::max(ymax, y);
      any = true;
    }
  auto xt = nice_ticks(xmin, xmax);
  auto yt = nice_ticks(0, ymax > 0 ? ymax : 1);
  const double x0 = xt.front(), x1 = xt.back(), y1 = yt.back();
  const int plot_w = kWidth - kLeft - kRight;
  const int per_row = std::max(1, plot_w / kLegendCol);
  const int legend_rows = ((int)chart.series.size() + per_row - 1) / per_row;
  const int legend_top = kTop + kPlotHeight + 62;
  const int height = legend_top + legend_rows * kLegendRow + 16;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * plot_w; };
  auto py = [&](double y) { return kTop + kPlotHeight - y / y1 * kPlotHeight; };

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << kWidth << ' ' << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kWidth / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">"
    << escape(chart.title) << "</text>\n";

  // grid, ticks and tick labels
  o << "<g class=\"grid\" stroke=\"#e0e0e0\">\n";
  for (double t : yt)
    o << "<line x1=\"" << kLeft << "\" y1=\"" << coord(py(t)) << "\" x2=\"" << kLeft + plot_w
      << "\" y2=\"" << coord(py(t)) << "\"/>\n";
  for (double t : xt)
    o << "<line x1=\"" << coord(px(t)) << "\" y1=\"" << kTop << "\" x2=\"" << coord(px(t))
      << "\" y2=\"" << kTop + kPlotHeight << "\"/>\n";
  o << "</g>\n<g class=\"axes\" stroke=\"black\">\n"
    << "<line x1=\"" << kLeft << "\" y1=\"" << kTop + kPlotHeight << "\" x2=\"" << kLeft + plot_w
    << "\" y2=\"" << kTop + kPlotHeight << "\"/>\n"
    << "<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\""
    << kTop + kPlotHeight << "\"/>\n</g>\n";
  o << "<g class=\"x-ticks\" text-anchor=\"middle\">\n";
  for (double t : xt)
    o << "<text x=\"" << coord(px(t)) << "\" y=\"" << kTop + kPlotHeight + 18 << "\">" << num(t)
      << "</text>\n";
  o << "</g>\n<g class=\"y-ticks\" text-anchor=\"end\">\n";
  for (double t : yt)
    o << "<text x=\"" << kLeft - 8 << "\" y=\"" << coord(py(t) + 4) << "\">" << num(t)
      << "</text>\n";
  o << "</g>\n";
  o << "<text class=\"x-label\" x=\"" << kLeft + plot_w / 2 << "\" y=\""
    << kTop + kPlotHeight + 42 << "\" text-anchor=\"middle\">" << escape(chart.x_label)
    << "</text>\n";
  o << "<text class=\"y-label\" transform=\"translate(20," << kTop + kPlotHeight / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(chart.y_label) << "</text>\n";

  // series
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto &s = chart.series[i];
    const char *color = kColors[i % std::size(kColors)];
    const char *dash = kDashes[(i / std::size(kColors)) % std::size(kDashes)];
    o << "<g class=\"series\" data-name=\"" << escape(s.name) << "\">\n";
    std::vector<std::pair<double, double>> pts;
    for (auto [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) pts.emplace_back(x, y);
    if (pts.size() == 1) {
      o << "<circle cx=\"" << coord(px(pts[0].first)) << "\" cy=\"" << coord(py(pts[0].second))
        << "\" r=\"3\" fill=\"" << color << "\"/>\n";
    } else if (!pts.empty()) {
      o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\"";
      if (*dash) o << " stroke-dasharray=\"" << dash << "\"";
      o << " points=\"";
      for (size_t p = 0; p < pts.size(); ++p)
        o << (p ? " " : "") << coord(px(pts[p].first)) << ',' << coord(py(pts[p].second));
      o << "\"/>\n";
    }
    o << "</g>\n";
  }

  // legend
  o << "<g class=\"legend\">\n";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    int x = kLeft + (int)(i % per_row) * kLegendCol;
    int y = legend_top + (int)(i / per_row) * kLegendRow;
    const char *dash = kDashes[(i / std::size(kColors)) % std::size(kDashes)];
    o << "<line x1=\"" << x << "\" y1=\"" << y - 4 << "\" x2=\"" << x + 16 << "\" y2=\"" << y - 4
      << "\" stroke=\"" << kColors[i % std::size(kColors)] << "\" stroke-width=\"3\"";
    if (*dash) o << " stroke-dasharray=\"" << dash << "\"";
    o << "/><text x=\"" << x + 22 << "\" y=\"" << y << "\">" << escape(chart.series[i].name)
      << "</text>\n";
  }
  o << "</g>\n</svg>\n";
  return o.str();
}

size_t drop_flat_series(Chart &chart) {
  auto flat = [](const ChartSeries &s) {
    return std::all_of(s.points.begin(), s.points.end(),
                       [](const auto &p) { return p.second == 0; });
  };
  size_t n = std::count_if(chart.series.begin(), chart.series.end(), flat);
  if (n == chart.series.size()) return 0;
  chart.series.erase(std::remove_if(chart.series.begin(), chart.series.end(), flat),
                     chart.series.end());
  return n;
}

void write_svg_file(const std::string &path, const Chart &chart) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  out << render_svg(chart);
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

}  // namespace diag
