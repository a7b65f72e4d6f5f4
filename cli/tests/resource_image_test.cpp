// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <sstream>

#include "errors.h"
#include "image_records.h"
#include "migrate_causes.h"
#include "migrate_image.h"
#include "resource_image.h"
#include "test_records.h"

namespace diag {
namespace {

using testing::append_record;
using testing::resource;

struct ResourceReportTest : ::testing::Test {
  ResourceReportTest() : settings(sizeof(diag_resource_image_settings), 0) {
    common_settings(settings).tgid = 10;
    reinterpret_cast<diag_resource_image_settings *>(settings.data())->interval_ms = 500;
    auto a = resource(1000000000, 1500000000, 10, 10, 250000000);  // 50% of 500 ms
    a.rss_bytes = 100ull << 20;
    a.rchar = 1 << 20;
    a.wchar = 2048;
    append_record(bytes, a);
    auto b = resource(1600000000, 1610000000, 11, 10, 10000000);  // a 10 ms thread
    b.flags = DIAG_RI_EXITED;
    b.wchar = 4096;
    b.cpus = 0x2;
    append_record(bytes, b);
    auto c = resource(1500000000, 2500000000, 10, 10, 100000000);
    c.rss_bytes = 50ull << 20;
    c.flags = DIAG_RI_RUNNING;
    append_record(bytes, c);
    decoded = decode_records(bytes);
  }
  std::string render(bool json) {
    return testing::render(*make_resource_image_command(), decoded, settings, json);
  }
  std::vector<uint8_t> settings;
  ReportBytes bytes;
  DecodedReport decoded;
};

TEST_F(ResourceReportTest, DerivesPercentagesAndRates) {
  auto s = derive_sample(decoded.records[0].as<diag_resource_record>());
  EXPECT_EQ(s.interval_ns, 500000000u);
  EXPECT_DOUBLE_EQ(s.cpu_percent, 50.0);
  EXPECT_DOUBLE_EQ(s.mem_percent, 10.0);
  EXPECT_DOUBLE_EQ(s.rchar_per_sec, 2.0 * (1 << 20));
  EXPECT_DOUBLE_EQ(s.wchar_per_sec, 4096.0);
  EXPECT_EQ(s.cpus, (std::vector<uint32_t>{0, 1}));
}

TEST_F(ResourceReportTest, TotalsPerTask) {
  auto rep = build_resource_report(decoded);
  ASSERT_EQ(rep.tasks.size(), 2u);
  EXPECT_EQ(rep.tasks[0].pid, 10);
  EXPECT_EQ(rep.tasks[0].samples, 2u);
  EXPECT_EQ(rep.tasks[0].cpu_ns, 350000000u);
  EXPECT_EQ(rep.tasks[0].max_rss_bytes, 100ull << 20);
  EXPECT_EQ(rep.tasks[0].last_rss_bytes, 50ull << 20);
  EXPECT_TRUE(rep.tasks[1].exited);
  EXPECT_FALSE(rep.table_full);
}

TEST_F(ResourceReportTest, TextRowsAndTotals) {
  std::string text = render(false);
  EXPECT_NE(text.find("TIME             TGID     PID      COMM             INTERVAL   CPU%    "
                      "CPU   RSS_KB     MEM%   READ_B      WRITE_B     READ/s      WRITE/s     "
                      "NOTE\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  10       10       app              500.000ms  50.0    0-1   102400     "
                      "10.0   1048576     2048        2.0MiB/s    4.0KiB/s"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("10.000ms   100.0   1     0          0.0    0           4096        0B/s   "
                      "     400.0KiB/s  exited"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("TOTALS"), std::string::npos);
  EXPECT_NE(text.find("LOST TOTAL: 0"), std::string::npos);
}

TEST_F(ResourceReportTest, JsonSamplesAndTasks) {
  auto j = nlohmann::json::parse(render(true));
  EXPECT_EQ(j["function"], "resource-image");
  EXPECT_EQ(j["interval_ms"], 500);
  ASSERT_EQ(j["samples"].size(), 3u);
  EXPECT_EQ(j["samples"][0]["cpu_percent"], 50.0);
  EXPECT_EQ(j["samples"][0]["cpus"], nlohmann::json::array({0, 1}));
  EXPECT_EQ(j["samples"][1]["exited"], true);
  EXPECT_EQ(j["samples"][2]["while_running"], true);
  EXPECT_EQ(j["tasks"][0]["rchar"], 1 << 20);
  EXPECT_EQ(j["table_full"], false);
}

TEST_F(ResourceReportTest, TableFullIsAWarningNotASample) {
  auto full = resource(0, 0, 99, 10, 0);
  full.flags = DIAG_RI_TABLE_FULL;
  append_record(bytes, full);
  decoded = decode_records(bytes);
  auto rep = build_resource_report(decoded);
  EXPECT_TRUE(rep.table_full);
  EXPECT_EQ(rep.samples.size(), 3u);
  EXPECT_NE(render(false).find("WARNING: the task table is full: task 99"), std::string::npos);
}

TEST(ResourceSettings, DefaultsAreExplicit) {
  auto cmd = make_resource_image_command();
  auto s = cmd->encode_settings("pid=4", 4);
  const auto &r = *reinterpret_cast<const diag_resource_image_settings *>(s.data());
  EXPECT_EQ(r.interval_ms, static_cast<uint32_t>(DIAG_RI_INTERVAL_MS_DEFAULT));
  EXPECT_EQ(r.max_tasks, static_cast<uint32_t>(DIAG_RI_TASKS_DEFAULT));
  EXPECT_THROW(cmd->encode_settings("interval=100", 4), UsageError);
  EXPECT_THROW(cmd->encode_settings("pid=4,interval=5", 4), UsageError);
}

// Every function gets --follow: the default stream writes each batch with
// something in it as a report of its own, or one JSON object per line.
TEST(FollowStream, DefaultStreamForEveryFunction) {
  ReportBytes bytes;
  append_record(bytes, testing::migrate(100, 10, 10, "main", 0, 1, DIAG_CAUSE_TRY_TO_WAKE_UP));
  std::vector<uint8_t> settings(sizeof(diag_migrate_image_settings), 0);
  diag_version version{};
  ReportContext ctx{settings, version};
  auto mi = make_migrate_image_command();
  std::ostringstream json;
  auto s = mi->make_stream(ctx, true, json);
  s->begin();
  s->batch(decode_records(bytes));
  s->batch(decode_records(ReportBytes{}));  // nothing: nothing printed
  s->end();
  std::string out = json.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["function"], "migrate-image");
  EXPECT_EQ(j["migrations"], 1);
}

}  // namespace
}  // namespace diag
