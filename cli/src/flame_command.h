// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools flame (the rendering itself lives in flame/).
#pragma once

#include <memory>

#include "command.h"

namespace diag {

std::unique_ptr<Command> make_flame_command();

}  // namespace diag
