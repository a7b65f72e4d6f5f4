// SPDX-License-Identifier: GPL-2.0-or-later
// The inline chain at an address: the inlined instances that contain it,
// innermost first, out to the function they were inlined into, from
// DWARF (elfutils libdw).
//
// libdw's dwarf_getscopes() + dwarf_getscopes_die() answer the same, but
// walk the compile unit's DIE tree twice for every address; a stack of
// thousands of distinct addresses then costs thousands of walks.  Here
// each compile unit is walked once, on its first address, into the ranges
// of its functions (sorted) and, under each, its inlined instances; an
// address then costs a binary search and a descent through the few
// instances that nest at it.  Not thread-safe.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace diag {

class DwarfScopes {
 public:
  explicit DwarfScopes(Dwarf *dwarf) : dwarf_(dwarf) {}

  // DW_TAG_inlined_subroutine DIEs containing vaddr, innermost first,
  // then the DW_TAG_subprogram they are in; empty when the unit has no
  // function there.  cu is the unit's DIE (dwarf_addrdie).
  std::vector<Dwarf_Die> chain(Dwarf_Die *cu, uint64_t vaddr);

 private:
  struct Node {
    Dwarf_Off die;  // offset in .debug_info
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [lo, hi)
    std::vector<uint32_t> inlined;  // instances directly inside this one
  };
  struct Root {
    uint64_t lo, hi;
    uint32_t node;
  };
  struct Unit {
    std::vector<Node> nodes;
    std::vector<Root> roots;  // every range of every function, by lo
  };
  Unit build(Dwarf_Die *cu) const;

  Dwarf *dwarf_;
  std::unordered_map<Dwarf_Off, Unit> units_;  // by the unit DIE's offset
};

}  // namespace diag
