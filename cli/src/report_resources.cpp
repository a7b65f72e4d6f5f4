// SPDX-License-Identifier: GPL-2.0-or-later
#include "report_resources.h"

#include "user_stacks.h"

namespace diag {

ReportResources::ReportResources(Mode mode)
    : mode_(mode), cgroups_(mode == Mode::kLive), elf_(mode == Mode::kLive) {}

ReportResources::~ReportResources() = default;

const KernelSymbols &ReportResources::kernel_symbols() {
  if (!ksyms_) ksyms_ = live() ? KernelSymbols::load() : KernelSymbols();
  return *ksyms_;
}

UserStacks &ReportResources::user_stacks(SymbolizeOptions sym, UnwindOptions unwind) {
  if (!ustacks_ || ustacks_sym_.lines != sym.lines ||
      ustacks_unwind_.frame_pointers_only != unwind.frame_pointers_only ||
      ustacks_unwind_.max_frames != unwind.max_frames) {
    ustacks_ = std::make_unique<UserStacks>(*this, sym, unwind);
    ustacks_sym_ = sym;
    ustacks_unwind_ = unwind;
  }
  return *ustacks_;
}

}  // namespace diag
