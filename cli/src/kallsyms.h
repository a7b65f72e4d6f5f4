// SPDX-License-Identifier: GPL-2.0-or-later
// Kernel addresses to names, from /proc/kallsyms (module symbols included).
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace diag {

class KernelSymbols {
 public:
  struct Symbol {
    uint64_t addr;
    std::string name;
    std::string module;  // empty for the kernel image
  };

  // Reads /proc/kallsyms; an unreadable or zeroed file gives an empty table
  // (addresses then print as hex).
  static KernelSymbols load(const std::string &path = "/proc/kallsyms");
  static KernelSymbols parse(std::istream &in);

  // The text symbol containing addr, or nullptr.
  const Symbol *find(uint64_t addr) const;
  // "name+0x1a", "name+0x1a [module]", or "0xffffffff81000000".
  std::string describe(uint64_t addr) const;
  bool empty() const { return symbols_.empty(); }
  // [start, end) of the kernel image's text symbol `name` (the first of
  // that name): from its address to the next symbol's.
  std::optional<std::pair<uint64_t, uint64_t>> range_of(const std::string &name) const;
  // [start, end) of the first text symbol `name` of `module` ("" for the
  // kernel image, "*" for any), to the next symbol's address; nullopt when
  // there is none (or it is the last symbol, whose end is not known).
  // Whether /proc/kallsyms lists `name` (a symbol of any type, with an
  // address: data symbols only with CONFIG_KALLSYMS_ALL).
  static bool lists(const std::string &name, const std::string &path = "/proc/kallsyms");
  std::optional<std::pair<uint64_t, uint64_t>> range_in(const std::string &name,
                                                        const std::string &module) const;

 private:
  std::vector<Symbol> symbols_;  // sorted by address
};

}  // namespace diag
