// SPDX-License-Identifier: GPL-2.0-or-later
#include "cpu_list.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace diag {
namespace {

TEST(CpuList, ParsesRangesAndSingles) {
  EXPECT_EQ(parse_cpu_list("0-3,8", 64), (std::vector<uint32_t>{0, 1, 2, 3, 8}));
  EXPECT_EQ(parse_cpu_list("5", 64), (std::vector<uint32_t>{5}));
}

TEST(CpuList, SortsAndRemovesDuplicates) {
  EXPECT_EQ(parse_cpu_list("3,1-2,2", 64), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(CpuList, RefusesBadInput) {
  EXPECT_THROW(parse_cpu_list("", 64), UsageError);
  EXPECT_THROW(parse_cpu_list("a", 64), UsageError);
  EXPECT_THROW(parse_cpu_list("3-1", 64), UsageError);
  EXPECT_THROW(parse_cpu_list("1,", 64), UsageError);
  EXPECT_THROW(parse_cpu_list("-1", 64), UsageError);
  try {
    parse_cpu_list("0-4", 4);
    FAIL();
  } catch (const UsageError &e) {
    EXPECT_NE(std::string(e.what()).find("CPU 4 does not exist (CPUs are 0-3)"),
              std::string::npos);
  }
}

TEST(CpuList, FormatsCompressed) {
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({}), "");
}

}  // namespace
}  // namespace diag
