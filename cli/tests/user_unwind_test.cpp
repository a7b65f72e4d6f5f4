// SPDX-License-Identifier: GPL-2.0-or-later
// The unwinder and symbolizer on a stack copied from this very process,
// the way the module copies a task's: the registers, then the stack from
// the stack pointer up, with the mappings read from /proc/self/maps.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "capture_stack.h"
#include "process_maps.h"
#include "symbolizer.h"
#include "user_unwind.h"

namespace diag {
namespace {

using diag::testing::capture;
using diag::testing::Captured;

volatile int sink;

__attribute__((noinline)) void chain_inner(Captured &c, size_t max_bytes) {
  capture(c, max_bytes);
  sink = sink + 2;
}

__attribute__((noinline)) void chain_outer(Captured &c, size_t max_bytes) {
  chain_inner(c, max_bytes);
  sink = sink + 3;
}

// A template at namespace scope inlined into a real function: its
// abstract definition is not inside inl_host, so only the physical nesting
// of the inlined instance leads from it to inl_host.
template <int N>
__attribute__((always_inline)) inline void inl_step(Captured &c) {
  chain_inner(c, 16384);
  sink = sink + N;
}

__attribute__((noinline)) void inl_host(Captured &c) {
  inl_step<7>(c);
  sink = sink + 1;
}

#pragma GCC push_options
#pragma GCC optimize("no-omit-frame-pointer")
__attribute__((noinline)) void fp_capture(Captured &c) {
  capture(c, 16384);
  sink = sink + 4;
}
__attribute__((noinline)) void fp_inner(Captured &c) {
  fp_capture(c);
  sink = sink + 5;
}
__attribute__((noinline)) void fp_outer(Captured &c) {
  fp_inner(c);
  sink = sink + 6;
}
#pragma GCC pop_options

std::vector<std::string> names(const std::vector<StackFrame> &frames) {
  std::vector<std::string> out;
  for (const auto &f : frames) out.push_back(f.symbol);
  return out;
}

// index of the first frame whose symbol contains `what`, or -1
int find(const std::vector<std::string> &v, const std::string &what) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].find(what) != std::string::npos) return static_cast<int>(i);
  return -1;
}

// A captured stack of this process, unwound and symbolized against its own
// maps (with lines: file:line and inlined frames).
struct Unwound {
  UnwindResult u;
  std::vector<StackFrame> stack;
  std::vector<std::string> frames;  // the stack's names
};

Unwound unwind_self(const Captured &c, bool frame_pointers_only = false, bool lines = false) {
  ElfCache cache;
  AddressSpace space(ProcessMaps::from_proc(getpid()), cache);
  UnwindOptions opts;
  opts.frame_pointers_only = frame_pointers_only;
  Unwound out;
  out.u = unwind_user_stack(space, UserStackCopy{c.regs, c.sp, c.stack}, opts);
  Symbolizer sym(SymbolizeOptions{lines});
  out.stack = sym.symbolize_stack(space, out.u.ips);
  out.frames = names(out.stack);
  return out;
}

TEST(UserUnwind, CfiUnwindsACopiedStackInCallOrder) {
  Captured c;
  chain_outer(c, 16384);
  Unwound w = unwind_self(c);
  const auto &frames = w.frames;
  EXPECT_EQ(w.u.method, UnwindResult::Method::kCfi);
  int a = find(frames, "diag::testing::capture(");
  int b = find(frames, "chain_inner(");
  int d = find(frames, "chain_outer(");
  int t = find(frames, "CfiUnwindsACopiedStackInCallOrder");
  ASSERT_GE(a, 0) << ::testing::PrintToString(frames);
  EXPECT_EQ(b, a + 1) << ::testing::PrintToString(frames);
  EXPECT_EQ(d, a + 2) << ::testing::PrintToString(frames);
  EXPECT_EQ(t, a + 3) << ::testing::PrintToString(frames);
  EXPECT_GE(find(frames, "main"), t);
  EXPECT_FALSE(w.u.truncated);
}

TEST(UserUnwind, ShortCopyIsTruncatedNotWrong) {
  Captured c;
  chain_outer(c, 256);
  Unwound w = unwind_self(c);
  ASSERT_FALSE(w.frames.empty());
  EXPECT_NE(w.frames[0].find("capture("), std::string::npos)
      << ::testing::PrintToString(w.frames);
  EXPECT_TRUE(w.u.truncated);
}

TEST(UserUnwind, FramePointerWalk) {
  Captured c;
  fp_outer(c);
  Unwound w = unwind_self(c, true);
  const auto &frames = w.frames;
  EXPECT_EQ(w.u.method, UnwindResult::Method::kFramePointer);
  // frame 0 is where the registers were taken (capture, built without
  // frame pointers, so the chain starts at its caller's frame and skips
  // fp_capture: the known blind spot of frame-pointer walks), then the
  // chain of frame pointers
  ASSERT_GE(frames.size(), 4u) << ::testing::PrintToString(frames);
  EXPECT_NE(frames[0].find("capture("), std::string::npos) << ::testing::PrintToString(frames);
  EXPECT_NE(frames[1].find("fp_inner("), std::string::npos) << ::testing::PrintToString(frames);
  EXPECT_NE(frames[2].find("fp_outer("), std::string::npos) << ::testing::PrintToString(frames);
  EXPECT_NE(frames[3].find("FramePointerWalk"), std::string::npos)
      << ::testing::PrintToString(frames);
}

TEST(Symbolizer, UnknownAddressesNeverCrash) {
  ElfCache cache;
  ProcessMaps pm = ProcessMaps::parse_proc_maps(
      0,
      "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 \n"
      "7f0000002000-7f0000003000 r-xp 00001000 08:01 12345 /nonexistent/libgone.so\n");
  AddressSpace space(std::move(pm), cache);
  Symbolizer sym;
  std::vector<StackFrame> out;
  sym.symbolize(space, 0x7f0000000010, false, out);
  sym.symbolize(space, 0x7f0000002010, false, out);
  sym.symbolize(space, 0x10, false, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].symbol, "[unknown]+0x10");
  EXPECT_EQ(out[0].module, "[anon]");
  EXPECT_EQ(out[1].symbol, "[unknown]+0x1010");
  EXPECT_EQ(out[1].module, "libgone.so");
  EXPECT_EQ(out[2].symbol, "[unknown]");
  EXPECT_EQ(out[2].module, "[unknown]");
}

TEST(Symbolizer, LinesGiveFileAndLineOfThisTest) {
  Captured c;
  chain_outer(c, 16384);
  Unwound w = unwind_self(c, false, true);
  bool found = false;
  for (const auto &f : w.stack)
    if (f.symbol.find("chain_inner(") != std::string::npos && f.file &&
        f.file->find("user_unwind_test.cpp") != std::string::npos && f.line && *f.line > 0)
      found = true;
  EXPECT_TRUE(found) << ::testing::PrintToString(w.frames);
}

TEST(Symbolizer, InlinedFrameIsFollowedByTheFunctionItWasInlinedInto) {
  Captured c;
  inl_host(c);
  Unwound w = unwind_self(c, false, true);
  const auto &frames = w.stack;
  const auto &v = w.frames;
  int step = find(v, "inl_step<7>");
  ASSERT_GE(step, 0) << ::testing::PrintToString(v);
  EXPECT_TRUE(frames[step].inlined);
  ASSERT_LT(step + 1, static_cast<int>(frames.size())) << ::testing::PrintToString(v);
  EXPECT_NE(frames[step + 1].symbol.find("inl_host("), std::string::npos)
      << ::testing::PrintToString(v);
  EXPECT_FALSE(frames[step + 1].inlined);
  EXPECT_EQ(frames[step].addr, frames[step + 1].addr);
}

}  // namespace
}  // namespace diag
