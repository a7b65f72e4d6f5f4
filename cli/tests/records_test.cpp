// SPDX-License-Identifier: GPL-2.0-or-later
#include "records.h"

#include <gtest/gtest.h>

#include "test_records.h"

namespace diag {
namespace {

using testing::append_record;
using testing::lost;
using testing::migrate;

TEST(Records, DecodesInTimestampOrderAndCountsLost) {
  ReportBytes bytes;
  bytes.lost_total = 7;
  append_record(bytes, lost(1, 5));
  append_record(bytes, migrate(300, 10, 10, "a", 0, 1, DIAG_CAUSE_TRY_TO_WAKE_UP));
  append_record(bytes, migrate(100, 11, 10, "b", 1, 0, DIAG_CAUSE_PULL_TASK));
  append_record(bytes, lost(1, 2));
  auto d = decode_records(bytes);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].header->ts_ns, 100u);
  EXPECT_EQ(d.records[1].header->ts_ns, 300u);
  EXPECT_EQ(d.records[0].as<diag_migrate_record>().pid, 11);
  EXPECT_EQ(d.lost_by_cpu.at(1), 7u);
  EXPECT_EQ(d.lost_total, 7u);
}

TEST(Records, RefusesBadSizes) {
  ReportBytes bytes;
  auto r = migrate(1, 1, 1, "a", 0, 1, 1);
  r.hdr.size = 12;  // not a multiple of 8
  append_record(bytes, r);
  EXPECT_THROW(decode_records(bytes), std::runtime_error);

  ReportBytes truncated;
  append_record(truncated, migrate(1, 1, 1, "a", 0, 1, 1));
  truncated.data.resize(truncated.data.size() - 8);
  EXPECT_THROW(decode_records(truncated), std::runtime_error);

  ReportBytes zero;
  zero.data.resize(16, 0);
  EXPECT_THROW(decode_records(zero), std::runtime_error);
}

TEST(Records, ShorterRecordsAreZeroExtended) {
  ReportBytes bytes;
  auto r = migrate(1, 9, 9, "a", 0, 1, 1);
  r.hdr.size = 48;  // as if from an older module
  append_record(bytes, r);
  bytes.data.resize(48);
  auto d = decode_records(bytes);
  ASSERT_EQ(d.records.size(), 1u);
  auto m = d.records[0].as<diag_migrate_record>();
  EXPECT_EQ(m.pid, 9);
  EXPECT_EQ(m.caller, 0u);
}

TEST(Records, FormatsTimes) {
  // mono 1.5 s + offset 1700000000 s
  EXPECT_EQ(format_seed_time(1500000000ull, 1700000000ll * 1000000000ll), "[1700000001:500000]");
  EXPECT_EQ(format_iso_time(1500000000ull, 1700000000ll * 1000000000ll),
            "2023-11-14T22:13:21.500000Z");
}

}  // namespace
}  // namespace diag
