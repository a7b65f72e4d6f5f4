// SPDX-License-Identifier: GPL-2.0-or-later
#include "cpu_list.h"

#include <algorithm>
#include <charconv>

#include "errors.h"

namespace diag {

namespace {

uint32_t parse_cpu(std::string_view part, std::string_view whole, uint32_t max_cpus) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
  if (part.empty() || ec != std::errc() || end != part.data() + part.size())
    throw UsageError("bad CPU list '" + std::string(whole) + "': '" + std::string(part) +
                     "' is not a CPU number");
  if (value >= max_cpus)
    throw UsageError("bad CPU list '" + std::string(whole) + "': CPU " + std::to_string(value) +
                     " does not exist (CPUs are 0-" + std::to_string(max_cpus - 1) + ")");
  return value;
}

}  // namespace

std::vector<uint32_t> parse_cpu_list(std::string_view text, uint32_t max_cpus) {
  std::vector<uint32_t> cpus;
  if (text.empty()) throw UsageError("empty CPU list");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(pos, comma - pos);
    size_t dash = part.find('-');
    if (dash == std::string_view::npos) {
      cpus.push_back(parse_cpu(part, text, max_cpus));
    } else {
      uint32_t lo = parse_cpu(part.substr(0, dash), text, max_cpus);
      uint32_t hi = parse_cpu(part.substr(dash + 1), text, max_cpus);
      if (lo > hi)
        throw UsageError("bad CPU list '" + std::string(text) + "': range " + std::string(part) +
                         " runs backwards");
      for (uint32_t c = lo; c <= hi; ++c) cpus.push_back(c);
    }
    pos = comma + 1;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(const std::vector<uint32_t> &cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace diag
