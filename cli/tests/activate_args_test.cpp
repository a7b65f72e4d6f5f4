// SPDX-License-Identifier: GPL-2.0-or-later
#include "activate_args.h"

#include <gtest/gtest.h>

#include "errors.h"

namespace diag {
namespace {

using K = KeySpec::Kind;

const std::vector<KeySpec> kKeys = {
    {"pid", K::kInteger, 0, 4194304, 0, ""},
    {"comm", K::kString, 0, 0, 15, ""},
    {"cpu", K::kCpuList, 0, 0, 0, ""},
    {"dump-style", K::kInteger, 0, 1, 0, ""},
    {"probe", K::kString, 0, 0, 127, ""},
};

std::string error_of(const std::string &text) {
  try {
    parse_activate(text, kKeys);
  } catch (const UsageError &e) {
    return e.what();
  }
  return "";
}

TEST(ActivateArgs, ParsesKeysInOrder) {
  auto a = parse_activate("pid=42,comm=worker", kKeys);
  EXPECT_EQ(a.integer("pid", 0), 42);
  EXPECT_EQ(a.string("comm"), "worker");
  EXPECT_EQ(a.order(), (std::vector<std::string>{"pid", "comm"}));
  EXPECT_FALSE(a.has("cpu"));
  EXPECT_EQ(a.integer("dump-style", 7), 7);
}

TEST(ActivateArgs, EmptyStringHasNoKeys) {
  auto a = parse_activate("", kKeys);
  EXPECT_TRUE(a.order().empty());
}

TEST(ActivateArgs, CpuListKeepsItsCommas) {
  auto a = parse_activate("cpu=0-16,23,probe=do_sys_open", kKeys);
  EXPECT_EQ(a.string("cpu"), "0-16,23");
  EXPECT_EQ(a.string("probe"), "do_sys_open");
}

TEST(ActivateArgs, UnderscoreAndDashAreTheSame) {
  auto a = parse_activate("dump_style=1", kKeys);
  EXPECT_EQ(a.integer("dump-style", 0), 1);
}

TEST(ActivateArgs, WhitespaceAroundItemsIsIgnored) {
  auto a = parse_activate(" pid = 7 , comm=a ", kKeys);
  EXPECT_EQ(a.integer("pid", 0), 7);
  EXPECT_EQ(a.string("comm"), "a");
}

TEST(ActivateArgs, UnknownKeyNamesTheValidOnes) {
  std::string e = error_of("pdi=3");
  EXPECT_NE(e.find("unknown key 'pdi'"), std::string::npos) << e;
  EXPECT_NE(e.find("valid keys: pid, comm"), std::string::npos) << e;
}

TEST(ActivateArgs, NonNumericValueIsRefused) {
  EXPECT_NE(error_of("pid=abc").find("'pid' must be an integer, got 'abc'"), std::string::npos);
  EXPECT_NE(error_of("pid=12x").find("must be an integer"), std::string::npos);
  EXPECT_NE(error_of("pid=").find("must be an integer"), std::string::npos);
}

TEST(ActivateArgs, OutOfRangeValueIsRefused) {
  EXPECT_NE(error_of("pid=-1").find("must be in 0..4194304"), std::string::npos);
  EXPECT_NE(error_of("pid=99999999999999999999999").find("must be in"), std::string::npos);
  EXPECT_NE(error_of("dump-style=2").find("must be in 0..1"), std::string::npos);
}

TEST(ActivateArgs, OverlongStringIsRefused) {
  std::string e = error_of("comm=abcdefghijklmnopq");
  EXPECT_NE(e.find("'comm' is longer than 15 characters"), std::string::npos) << e;
  EXPECT_EQ(error_of("comm=abcdefghijklmno"), "");  // exactly 15
}

TEST(ActivateArgs, MalformedItemsAreRefused) {
  EXPECT_NE(error_of("pid").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of("=3").find("missing key"), std::string::npos);
  EXPECT_NE(error_of("pid=1,,comm=a").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("pid=1,pid=2").find("given twice"), std::string::npos);
  EXPECT_NE(error_of("cpu=0-x").find("not a CPU number"), std::string::npos);
}

TEST(ActivateArgs, TrailingCommaIsTolerated) {
  EXPECT_EQ(parse_activate("pid=1,", kKeys).integer("pid", 0), 1);
}

}  // namespace
}  // namespace diag
