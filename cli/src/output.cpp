// SPDX-License-Identifier: GPL-2.0-or-later
#include "output.h"

namespace diag {

std::string dump_json(const nlohmann::json &j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace diag
