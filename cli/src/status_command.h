// SPDX-License-Identifier: GPL-2.0-or-later
// `diagnose-tools status` and `diagnose-tools --version`.
#pragma once

#include <memory>
#include <vector>

#include "command.h"

namespace diag {

// status reads the functions' settings through their commands, which must
// outlive it.
std::unique_ptr<Command> make_status_command(
    const std::vector<std::unique_ptr<Command>> &commands);

// --version: the CLI's version and ABI, and the loaded module's.
int print_versions();

}  // namespace diag
