// SPDX-License-Identifier: GPL-2.0-or-later
#include "kallsyms.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace diag {
namespace {

TEST(KernelSymbols, FindsTheContainingTextSymbol) {
  std::istringstream in(
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t try_to_wake_up\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T schedule\n"
      "ffffffffc0001000 t probe_migrate_task\t[diagnose]\n");
  auto k = KernelSymbols::parse(in);
  EXPECT_EQ(k.describe(0xffffffff81000123), "try_to_wake_up+0x23");
  EXPECT_EQ(k.describe(0xffffffff81000300), "schedule+0x0");
  EXPECT_EQ(k.describe(0xffffffffc0001010), "probe_migrate_task+0x10 [diagnose]");
  EXPECT_EQ(k.describe(0x1000), "0x1000");
}

// The BPF backend's cause ranges: a function runs to the next symbol; an
// alias at the same address does not end it; a module's namesake is not it.
TEST(KernelSymbols, RangeOfANameRunsToTheNextSymbol) {
  std::istringstream in(
      "ffffffff81000100 t try_to_wake_up\n"
      "ffffffff81000100 t ttwu_alias\n"
      "ffffffff81000180 T __pfx_schedule\n"
      "ffffffff81000190 T schedule\n"
      "ffffffffc0001000 t load_balance\t[some_module]\n");
  auto k = KernelSymbols::parse(in);
  auto r = k.range_of("try_to_wake_up");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 0xffffffff81000100u);
  EXPECT_EQ(r->second, 0xffffffff81000180u);
  EXPECT_FALSE(k.range_of("schedule").has_value()) << "the last symbol has no known end";
  EXPECT_FALSE(k.range_of("load_balance").has_value());
  EXPECT_FALSE(k.range_of("nowhere").has_value());
}

TEST(KernelSymbols, RangeInNamesTheModuleOrAny) {
  std::istringstream in(
      "ffffffff81000100 T vfs_read\n"
      "ffffffff81000180 T vfs_write\n"
      "ffffffffc0001000 t helper\t[mod_a]\n"
      "ffffffffc0001040 t other\t[mod_a]\n"
      "ffffffffc0002000 t helper\t[mod_b]\n"
      "ffffffffc0002080 t last\t[mod_b]\n");
  auto k = KernelSymbols::parse(in);
  auto r = k.range_in("vfs_read", "*");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 0xffffffff81000100u);
  EXPECT_EQ(r->second, 0xffffffff81000180u);
  EXPECT_TRUE(k.range_in("vfs_read", "").has_value()) << "the kernel image";
  EXPECT_FALSE(k.range_in("vfs_read", "mod_a").has_value());
  r = k.range_in("helper", "mod_b");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 0xffffffffc0002000u);
  EXPECT_EQ(r->second, 0xffffffffc0002080u) << "a module symbol ends at the next one";
  r = k.range_in("helper", "*");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 0xffffffffc0001000u) << "the first of that name";
  EXPECT_FALSE(k.range_in("last", "*").has_value()) << "the last symbol has no known end";
  EXPECT_FALSE(k.range_in("nowhere", "*").has_value());
}

TEST(KernelSymbols, ListsDataSymbolsWithAddresses) {
  const std::string path = ::testing::TempDir() + "/kallsyms_lists";
  {
    std::ofstream out(path);
    out << "ffffffff82000000 D __preempt_count\n"
           "0000000000000000 D pcpu_hot\n"
           "ffffffff81000000 T x__preempt_count\n";
  }
  EXPECT_TRUE(KernelSymbols::lists("__preempt_count", path));
  EXPECT_FALSE(KernelSymbols::lists("pcpu_hot", path)) << "a zeroed address is not usable";
  EXPECT_FALSE(KernelSymbols::lists("preempt_count", path)) << "whole names only";
  EXPECT_FALSE(KernelSymbols::lists("__preempt_count", path + ".missing"));
}

TEST(KernelSymbols, ZeroedAddressesGiveAnEmptyTable) {
  std::istringstream in("0000000000000000 T _stext\n0000000000000000 t foo\n");
  EXPECT_TRUE(KernelSymbols::parse(in).empty());
}

}  // namespace
}  // namespace diag
