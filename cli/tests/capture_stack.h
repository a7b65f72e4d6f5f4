// SPDX-License-Identifier: GPL-2.0-or-later
// Captures this process's own registers and stack the way the module
// captures a task's (struct diag_user_stack): the user-stack unit tests
// unwind and symbolize it against /proc/self/maps.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <vector>

#include "uapi/diagnose.h"

namespace diag::testing {

struct Captured {
  uint64_t regs[DIAG_UREGS_NR] = {};
  uint64_t sp = 0;
  std::vector<uint8_t> stack;
};

inline volatile int capture_sink;

// Registers at this call, then up to max_bytes of stack from the stack
// pointer, never past the end of the stack mapping (like the module).
__attribute__((noinline)) inline void capture(Captured &c, size_t max_bytes) {
  ucontext_t uc;
  getcontext(&uc);
  const greg_t *g = uc.uc_mcontext.gregs;
  const int order[DIAG_UREGS_NR] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
                                    REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                    REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};
  for (int i = 0; i < DIAG_UREGS_NR; ++i) c.regs[i] = static_cast<uint64_t>(g[order[i]]);
  c.sp = c.regs[DIAG_UREG_SP];
  FILE *f = std::fopen("/proc/self/maps", "r");
  char line[512];
  uint64_t end = c.sp;
  while (f && std::fgets(line, sizeof(line), f)) {
    unsigned long long lo, hi;
    if (std::sscanf(line, "%llx-%llx", &lo, &hi) == 2 && c.sp >= lo && c.sp < hi) end = hi;
  }
  if (f) std::fclose(f);
  size_t n = std::min<uint64_t>(max_bytes, end - c.sp);
  c.stack.assign(reinterpret_cast<const uint8_t *>(c.sp),
                 reinterpret_cast<const uint8_t *>(c.sp) + n);
  capture_sink = capture_sink + 1;
}

}  // namespace diag::testing
