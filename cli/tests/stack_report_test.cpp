// SPDX-License-Identifier: GPL-2.0-or-later
#include "stack_report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace diag {
namespace {

KernelSymbols test_symbols() {
  std::istringstream in(
      "ffffffff81000100 T do_sys_openat2\n"
      "ffffffff81000200 T __x64_sys_openat\n"
      "ffffffffc0001000 t xfs_file_open\t[xfs]\n");
  return KernelSymbols::parse(in);
}

TEST(StackReport, KernelFramesAreSymbolizedWithTheirModule) {
  diag_kernel_stack s{};
  s.nr = 3;
  s.ips[0] = 0xffffffffc0001010;
  s.ips[1] = 0xffffffff81000172;
  s.ips[2] = 0x10;
  auto frames = kernel_frames(s, test_symbols());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].symbol, "xfs_file_open+0x10");
  EXPECT_EQ(frames[0].module, "[xfs]");
  EXPECT_EQ(frames[1].symbol, "do_sys_openat2+0x72");
  EXPECT_EQ(frames[1].module, "[kernel.kallsyms]");
  EXPECT_EQ(frames[2].symbol, "[unknown]");
}

TEST(StackReport, TextBlockFollowsTheContract) {
  StackBlock b;
  b.header = {"KPROBE HIT: PID: 7[app]"};
  b.kernel = {{0xffffffff81000172, "do_sys_openat2+0x72", "[kernel.kallsyms]", {}, {}, false}};
  b.user = {{0x401000, "ns::f<int>(int) const", "app", std::string("app.cc"), 12, true}};
  b.process = "app";
  b.chain = {{7, "app"}, {1, "systemd"}};
  b.count = 3;
  std::ostringstream out;
  write_stack_block(b, out);
  EXPECT_EQ(out.str(),
            "KPROBE HIT: PID: 7[app]\n"
            "    KERNEL STACK:\n"
            "#@        0xffffffff81000172 do_sys_openat2+0x72  ([kernel.kallsyms])\n"
            "    USER STACK:\n"
            "#~        0x0000000000401000 ns::f<int>(int) const at app.cc:12 [inlined] (app)\n"
            "#*        0xffffffffffffff app (UNKNOWN)\n"
            "    PROCESS CHAIN:\n"
            "#^        0xffffffffffffff app[7] (UNKNOWN)\n"
            "#^        0xffffffffffffff systemd[1] (UNKNOWN)\n"
            "#%        3\n"
            "##\n");
  auto j = stack_block_json(b);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["kernel_stack"][0]["symbol"], "do_sys_openat2+0x72");
  EXPECT_EQ(j["user_stack"][0]["file"], "app.cc");
  EXPECT_EQ(j["user_stack"][0]["inlined"], true);
  EXPECT_EQ(j["process_chain"][1]["comm"], "systemd");
}

}  // namespace
}  // namespace diag
