// SPDX-License-Identifier: GPL-2.0-or-later
// Unwinding of user stacks that the module copied at a hit: the user
// registers at the task's last kernel entry plus a bounded copy of its
// stack from the stack pointer up (struct diag_user_stack).  libunwind's
// remote API does the work with our accessors: stack reads come from the
// copy, code and .eh_frame reads from the ELF files the AddressSpace maps,
// and procedure info from each object's .eh_frame_hdr search table.  Where
// an object has no CFI, libunwind follows the frame-pointer chain; and when
// CFI unwinding yields no caller at all, we walk the frame pointers
// ourselves.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "process_maps.h"
#include "uapi/diagnose.h"

namespace diag {

struct UserStackCopy {
  const uint64_t *regs = nullptr;  // DIAG_UREGS_NR registers, DWARF numbering
  uint64_t sp = 0;                 // user address of stack[0]
  std::span<const uint8_t> stack;
};

struct UnwindResult {
  enum class Method { kNone, kCfi, kFramePointer };
  // Innermost first.  ips[0] is where the task was; the others are return
  // addresses (symbolize them at ip - 1).
  std::vector<uint64_t> ips;
  Method method = Method::kNone;
  // The walk needed stack beyond the copy (raise ustack-kib).
  bool truncated = false;
};

const char *unwind_method_name(UnwindResult::Method m);

struct UnwindOptions {
  bool frame_pointers_only = false;  // skip CFI (to compare, or for JITs)
  size_t max_frames = 128;
};

UnwindResult unwind_user_stack(const AddressSpace &space, const UserStackCopy &copy,
                               const UnwindOptions &opts = {});

// Frame-pointer walk only (also the fallback of unwind_user_stack).
UnwindResult unwind_frame_pointers(const UserStackCopy &copy, size_t max_frames = 128);

}  // namespace diag
