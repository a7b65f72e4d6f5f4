// SPDX-License-Identifier: GPL-2.0-or-later
#include "kallsyms.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace diag {

KernelSymbols KernelSymbols::load(const std::string &path) {
  std::ifstream in(path);
  if (!in) return {};
  return parse(in);
}

KernelSymbols KernelSymbols::parse(std::istream &in) {
  KernelSymbols table;
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    const char *p = line.c_str();
    char *end = nullptr;
    uint64_t addr = std::strtoull(p, &end, 16);
    if (end == p || addr == 0 || end[0] != ' ' || !end[1] || end[2] != ' ') continue;
    char type = end[1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    std::string rest(end + 3);
    std::string module;
    size_t tab = rest.find('\t');
    if (tab != std::string::npos) {
      module = rest.substr(tab + 1);
      rest.resize(tab);
      if (module.size() >= 2 && module.front() == '[' && module.back() == ']')
        module = module.substr(1, module.size() - 2);
    }
    table.symbols_.push_back({addr, std::move(rest), std::move(module)});
  }
  std::stable_sort(table.symbols_.begin(), table.symbols_.end(),
                   [](const Symbol &a, const Symbol &b) { return a.addr < b.addr; });
  return table;
}

const KernelSymbols::Symbol *KernelSymbols::find(uint64_t addr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                             [](uint64_t a, const Symbol &s) { return a < s.addr; });
  if (it == symbols_.begin()) return nullptr;
  --it;
  // a gap wider than 1 MiB means addr lies past the last symbol we know
  if (addr - it->addr > (1u << 20)) return nullptr;
  return &*it;
}

std::optional<std::pair<uint64_t, uint64_t>> KernelSymbols::range_of(
    const std::string &name) const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].name != name || !symbols_[i].module.empty()) continue;
    for (size_t j = i + 1; j < symbols_.size(); ++j) {
      if (symbols_[j].addr == symbols_[i].addr) continue;  // an alias
      // past the image's last symbol: its end is not known
      if (!symbols_[j].module.empty()) return std::nullopt;
      return std::make_pair(symbols_[i].addr, symbols_[j].addr);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

bool KernelSymbols::lists(const std::string &name, const std::string &path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff82a1b2c4 D name" (no module: kallsyms lists the image first)
    if (line.size() < name.size() + 3 || line.compare(line.size() - name.size(), name.size(), name))
      continue;
    if (line[line.size() - name.size() - 1] != ' ') continue;
    return std::strtoull(line.c_str(), nullptr, 16) != 0;
  }
  return false;
}

std::optional<std::pair<uint64_t, uint64_t>> KernelSymbols::range_in(
    const std::string &name, const std::string &module) const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].name != name || (module != "*" && symbols_[i].module != module)) continue;
    for (size_t j = i + 1; j < symbols_.size(); ++j)
      if (symbols_[j].addr != symbols_[i].addr) return std::make_pair(symbols_[i].addr, symbols_[j].addr);
    return std::nullopt;
  }
  return std::nullopt;
}

std::string KernelSymbols::describe(uint64_t addr) const {
  char buf[32];
  const Symbol *s = find(addr);
  if (!s) {
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(addr));
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "+0x%llx", static_cast<unsigned long long>(addr - s->addr));
  std::string out = s->name + buf;
  if (!s->module.empty()) out += " [" + s->module + "]";
  return out;
}

}  // namespace diag
