// SPDX-License-Identifier: GPL-2.0-or-later
// Names of the migration causes, from the one list in uapi/diagnose.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "uapi/diagnose.h"

namespace diag {

// "try_to_wake_up", ...; "unknown" for numbers this CLI does not know.
const char *migrate_cause_name(uint32_t cause);
// One line saying what the path is.
const char *migrate_cause_description(uint32_t cause);
// The number of a cause name, if it is one.
std::optional<uint32_t> migrate_cause_by_name(std::string_view name);

}  // namespace diag
