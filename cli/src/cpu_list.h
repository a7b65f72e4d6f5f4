// SPDX-License-Identifier: GPL-2.0-or-later
// CPU lists as the kernel writes them: "0-16,23".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace diag {

// Parses a CPU list into a sorted, de-duplicated list of CPU numbers.
// Throws UsageError naming the bad part.  CPUs must be < max_cpus.
std::vector<uint32_t> parse_cpu_list(std::string_view text, uint32_t max_cpus);

// The canonical, compressed form of a CPU list ("0-3,8").
std::string format_cpu_list(const std::vector<uint32_t> &cpus);

}  // namespace diag
