// SPDX-License-Identifier: GPL-2.0-or-later
// How untrusted strings reach output.  Process names, exec arguments,
// paths, cgroup and symbol names, and whatever a file held are bytes the
// CLI does not control: JSON output replaces invalid UTF-8 with U+FFFD
// (dump_json, the one way every command writes JSON), and text output shows
// control characters and invalid UTF-8 as \xNN (printable).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "flame/escape.h"

namespace diag {

// j.dump(indent), with invalid UTF-8 in strings replaced instead of thrown.
std::string dump_json(const nlohmann::json &j, int indent = -1);

// The text form of untrusted bytes (flame::text_escaped: one line, bytes
// that are not printable UTF-8 as \xNN, a backslash as \\).
inline std::string printable(std::string_view s) { return flame::text_escaped(s); }

}  // namespace diag
