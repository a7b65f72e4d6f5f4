// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <sstream>

#include "migrate_causes.h"
#include "migrate_image.h"
#include "test_records.h"

namespace diag {
namespace {

using testing::append_record;
using testing::migrate;

struct Fixture : ::testing::Test {
  Fixture() : settings(sizeof(diag_migrate_image_settings), 0) {
    common_settings(settings).tgid = 10;
    append_record(bytes, migrate(100, 10, 10, "main", 0, 1, DIAG_CAUSE_TRY_TO_WAKE_UP));
    append_record(bytes, migrate(200, 11, 10, "worker", 1, 0, DIAG_CAUSE_MIGRATE_TASK,
                                 DIAG_MIGRATE_SRC_DISALLOWED));
    append_record(bytes, migrate(300, 10, 10, "main", 1, 0, DIAG_CAUSE_PULL_TASK));
    append_record(bytes, migrate(400, 12, 10, "child", 0, 1, DIAG_CAUSE_SCHED_FORK,
                                 DIAG_MIGRATE_FORK_PLACEMENT));
    bytes.real_minus_mono_ns = 1700000000ll * 1000000000ll;
    decoded = decode_records(bytes);
  }
  std::string render(bool json) {
    auto cmd = make_migrate_image_command();
    std::ostringstream out;
    cmd->render_report(decoded, ReportContext{settings, version}, json, out);
    return out.str();
  }
  std::vector<uint8_t> settings;
  diag_version version{};
  ReportBytes bytes;
  DecodedReport decoded;
};

TEST_F(Fixture, GroupsPerThreadInFirstSeenOrder) {
  auto threads = group_migrations(decoded);
  ASSERT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads[0].events.front().pid, 10);
  EXPECT_EQ(threads[0].migrations, 2u);
  EXPECT_EQ(threads[1].events.front().pid, 11);
  EXPECT_EQ(threads[2].migrations, 0u);
  EXPECT_EQ(threads[2].fork_placements, 1u);
}

TEST_F(Fixture, TextHasTheSeedLayout) {
  std::string text = render(false);
  EXPECT_EQ(text.rfind("-----------------MIGRATE_IMAGE---------------------\n", 0), 0u) << text;
  EXPECT_NE(text.find("PID: 10   TGID: 10   COMM: main   Time :[1700000000:000000]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("PRIO: 120        COUNT: 2        FORK_PLACEMENTS: 0"), std::string::npos);
  EXPECT_NE(text.find("Time_Stamp   ocpu   dcpu   PLoad_AVG   Putil_AVG   RSS_KB   READ   "
                      "WRITE   CAUSE"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("100          0      1      110         50          4000     10     20    "
                      "  try_to_wake_up"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("__migrate_task"), std::string::npos);
  EXPECT_NE(text.find("sched_fork"), std::string::npos);
  EXPECT_NE(text.find("LOST TOTAL: 0"), std::string::npos);
}

TEST_F(Fixture, JsonCarriesEveryField) {
  auto j = nlohmann::json::parse(render(true));
  EXPECT_EQ(j["function"], "migrate-image");
  EXPECT_EQ(j["migrations"], 3);  // the fork placement is not a migration
  EXPECT_EQ(j["by_cause"]["try_to_wake_up"], 1);
  EXPECT_EQ(j["by_cause"]["pull_task"], 1);
  ASSERT_EQ(j["tasks"].size(), 3u);
  const auto &e = j["tasks"][0]["events"][0];
  EXPECT_EQ(e["ts_ns"], 100);
  EXPECT_EQ(e["orig_cpu"], 0);
  EXPECT_EQ(e["dest_cpu"], 1);
  EXPECT_EQ(e["rss_bytes"], 4096000);
  EXPECT_EQ(e["cause"], "try_to_wake_up");
  EXPECT_EQ(e["time"], "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(j["tasks"][1]["events"][0]["src_cpu_disallowed"], true);
  EXPECT_EQ(j["tasks"][2]["events"][0]["fork_placement"], true);
  EXPECT_EQ(j["lost"], 0);
}

TEST_F(Fixture, EmptyReportSaysSo) {
  decoded.records.clear();
  EXPECT_NE(render(false).find("no migrations recorded"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(render(true))["tasks"].size(), 0u);
}

TEST(MigrateCauses, NamesComeFromTheUapiList) {
  EXPECT_STREQ(migrate_cause_name(DIAG_CAUSE_TRY_TO_WAKE_UP), "try_to_wake_up");
  EXPECT_STREQ(migrate_cause_name(DIAG_CAUSE_PULL_TASK), "pull_task");
  EXPECT_STREQ(migrate_cause_name(999), "unknown");
  EXPECT_EQ(migrate_cause_by_name("sched_exec"), DIAG_CAUSE_SCHED_EXEC);
  EXPECT_FALSE(migrate_cause_by_name("nope").has_value());
  for (uint32_t c = 0; c < DIAG_NR_CAUSES; ++c)
    EXPECT_STRNE(migrate_cause_name(c), "") << c;
}

TEST(MigrateImageSettings, EncodesTheActivateString) {
  auto cmd = make_migrate_image_command();
  auto s = cmd->encode_settings("tgid=42,comm=worker,verbose=1,buf-kib=64", 4);
  const auto &c = common_settings(s);
  EXPECT_EQ(c.tgid, 42);
  EXPECT_STREQ(c.comm, "worker");
  EXPECT_EQ(c.verbose, 1u);
  EXPECT_EQ(c.buf_kib, 64u);
  auto v = cmd->describe_settings(s);
  EXPECT_EQ(v.lines[1].label, "TGID");
  EXPECT_EQ(v.lines[1].text, "42");
}

}  // namespace
}  // namespace diag
