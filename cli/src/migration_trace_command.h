// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migration-trace: the migration trace on the BPF backend.
#pragma once

#include <memory>

#include "command.h"

namespace diag {
std::unique_ptr<Command> make_migration_trace_command();
}  // namespace diag
