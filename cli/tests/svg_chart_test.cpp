// SPDX-License-Identifier: GPL-2.0-or-later
#include "svg_chart.h"

#include <gtest/gtest.h>

namespace diag {
namespace {

size_t count(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

TEST(SvgChart, NiceTicksCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 10), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0, 9.3), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  auto t = nice_ticks(3, 1234);
  EXPECT_LE(t.front(), 3);
  EXPECT_GE(t.back(), 1234);
  EXPECT_EQ(t[1] - t[0], 500);
  auto flat = nice_ticks(5, 5);  // a flat range still has an axis
  EXPECT_GE(flat.size(), 2u);
  EXPECT_LE(flat.front(), 5);
  EXPECT_GT(flat.back(), 5);
}

TEST(SvgChart, HasAxesLabelsLegendAndOneLinePerSeries) {
  Chart c;
  c.title = "CPU migrations <per second>";
  c.x_label = "time since the start (s)";
  c.y_label = "migrations per second";
  c.series.push_back({"migrate", {{0, 10}, {1, 30}, {2, 20}}});
  c.series.push_back({"try_to_wake_up", {{0, 5}, {1, 25}, {2, 0}}});
  c.series.push_back({"lonely", {{1, 7}}});
  std::string svg = render_svg(c);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("CPU migrations &lt;per second&gt;"), std::string::npos);
  EXPECT_NE(svg.find("time since the start (s)"), std::string::npos);
  EXPECT_NE(svg.find("migrations per second"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 1u);
  EXPECT_NE(svg.find(">try_to_wake_up</text>"), std::string::npos);
  EXPECT_NE(svg.find(">lonely</text>"), std::string::npos);
  EXPECT_NE(svg.find(">30</text>"), std::string::npos);  // the top y tick
  EXPECT_EQ(count(svg, "<g"), count(svg, "</g>"));
  EXPECT_EQ(count(svg, "<svg"), 1u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(SvgChart, DropsFlatSeriesOnlyBesideOthers) {
  Chart c;
  c.series.push_back({"zero", {{0, 0}, {1, 0}}});
  c.series.push_back({"some", {{0, 0}, {1, 3}}});
  EXPECT_EQ(drop_flat_series(c), 1u);
  ASSERT_EQ(c.series.size(), 1u);
  EXPECT_EQ(c.series[0].name, "some");
  Chart z;
  z.series.push_back({"zero", {{0, 0}}});
  EXPECT_EQ(drop_flat_series(z), 0u);  // all flat: keep them, the chart says so
  EXPECT_EQ(z.series.size(), 1u);
}

TEST(SvgChart, EmptyChartIsStillADocument) {
  Chart c;
  c.title = "nothing";
  std::string svg = render_svg(c);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace diag
