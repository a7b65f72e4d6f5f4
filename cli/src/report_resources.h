// SPDX-License-Identifier: GPL-2.0-or-later
// What report writers look up besides the records: kernel symbols, cgroup
// names, ELF images with their symbol caches, and the address-space
// snapshots of user stacks.  A one-shot report makes one; --report --follow
// keeps one for the whole session, so nothing is loaded again per batch
// (and a snapshot that came in an earlier batch still serves the stacks of
// a later one); tests and the fuzzers make an offline one, which looks at
// nothing outside the records.
#pragma once

#include <memory>
#include <optional>

#include "cgroups.h"
#include "elf_image.h"
#include "kallsyms.h"
#include "symbolizer.h"
#include "user_unwind.h"

namespace diag {

class UserStacks;

class ReportResources {
 public:
  enum class Mode { kLive, kOffline };
  explicit ReportResources(Mode mode = Mode::kLive);
  ~ReportResources();
  ReportResources(const ReportResources &) = delete;
  ReportResources &operator=(const ReportResources &) = delete;

  // Live: /proc/kallsyms, the cgroup2 mount, ELF files and /proc/PID/maps
  // of processes that still live.  Offline: none of them.
  bool live() const { return mode_ == Mode::kLive; }

  // Read on first use; empty offline.
  const KernelSymbols &kernel_symbols();
  // Used instead of /proc/kallsyms (tests).
  void set_kernel_symbols(KernelSymbols symbols) { ksyms_ = std::move(symbols); }
  CgroupNames &cgroups() { return cgroups_; }
  ElfCache &elf_cache() { return elf_; }
  // The user stacks of every report of this session with these options
  // (made again if the options change).
  UserStacks &user_stacks(SymbolizeOptions sym, UnwindOptions unwind);

 private:
  Mode mode_;
  std::optional<KernelSymbols> ksyms_;
  CgroupNames cgroups_;
  ElfCache elf_;
  std::unique_ptr<UserStacks> ustacks_;
  SymbolizeOptions ustacks_sym_;
  UnwindOptions ustacks_unwind_;
};

}  // namespace diag
