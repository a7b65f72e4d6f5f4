// SPDX-License-Identifier: GPL-2.0-or-later
#include "dwarf_scopes.h"

#include <dwarf.h>

#include <algorithm>

namespace diag {

namespace {

bool die_ranges(Dwarf_Die *die, std::vector<std::pair<uint64_t, uint64_t>> &out) {
  Dwarf_Addr base, start, end;
  ptrdiff_t off = 0;
  while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0)
    if (end > start) out.emplace_back(start, end);
  return !out.empty();
}

bool contains(const std::vector<std::pair<uint64_t, uint64_t>> &ranges, uint64_t pc) {
  for (const auto &[lo, hi] : ranges)
    if (pc >= lo && pc < hi) return true;
  return false;
}

}  // namespace

DwarfScopes::Unit DwarfScopes::build(Dwarf_Die *cu) const {
  Unit u;
  // Depth-first over every DIE, with the function or inlined instance
  // that encloses it: inlined instances sit inside lexical blocks, and
  // functions inside namespaces and classes, so nothing is skipped.
  struct Item {
    Dwarf_Die die;
    int64_t encloser;  // node index, -1 outside any function
  };
  std::vector<Item> stack;
  Dwarf_Die die;
  if (dwarf_child(cu, &die) == 0) stack.push_back({die, -1});
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    if (dwarf_siblingof(&it.die, &die) == 0) stack.push_back({die, it.encloser});
    const int tag = dwarf_tag(&it.die);
    int64_t inner = it.encloser;
    if (tag == DW_TAG_subprogram || (tag == DW_TAG_inlined_subroutine && it.encloser >= 0)) {
      Node n{dwarf_dieoffset(&it.die), {}, {}};
      // declarations and instances optimised away have no code
      if (die_ranges(&it.die, n.ranges)) {
        inner = static_cast<int64_t>(u.nodes.size());
        const auto idx = static_cast<uint32_t>(inner);
        if (tag == DW_TAG_subprogram)
          for (const auto &[lo, hi] : n.ranges) u.roots.push_back({lo, hi, idx});
        else
          u.nodes[it.encloser].inlined.push_back(idx);
        u.nodes.push_back(std::move(n));
      }
    }
    if (dwarf_haschildren(&it.die) > 0 && dwarf_child(&it.die, &die) == 0)
      stack.push_back({die, inner});
  }
  std::sort(u.roots.begin(), u.roots.end(),
            [](const Root &a, const Root &b) { return a.lo < b.lo; });
  return u;
}

std::vector<Dwarf_Die> DwarfScopes::chain(Dwarf_Die *cu, uint64_t vaddr) {
  std::vector<Dwarf_Die> out;
  auto [it, added] = units_.try_emplace(dwarf_dieoffset(cu));
  if (added) it->second = build(cu);
  const Unit &u = it->second;

  // functions do not overlap: the last range starting at or before vaddr
  auto r = std::upper_bound(u.roots.begin(), u.roots.end(), vaddr,
                            [](uint64_t pc, const Root &root) { return pc < root.lo; });
  if (r == u.roots.begin() || vaddr >= (r - 1)->hi) return out;
  std::vector<uint32_t> path{(r - 1)->node};
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (uint32_t c : u.nodes[path.back()].inlined)
      if (contains(u.nodes[c].ranges, vaddr)) {
        path.push_back(c);
        deeper = true;
        break;
      }
  }
  for (auto p = path.rbegin(); p != path.rend(); ++p) {
    Dwarf_Die die;
    if (!dwarf_offdie(dwarf_, u.nodes[*p].die, &die)) return {};
    out.push_back(die);
  }
  return out;
}

}  // namespace diag
