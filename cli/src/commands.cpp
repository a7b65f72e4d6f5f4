// SPDX-License-Identifier: GPL-2.0-or-later
// The list of subcommands.  A new subcommand adds one line here.
#include "command.h"
#include "kprobe.h"
#include "flame_command.h"
#include "keytime_image.h"
#include "migrate_image.h"
#include "migration_trace.h"
#include "migration_trace_command.h"
#include "resource_image.h"

namespace diag {

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_migrate_image_command());
  commands.push_back(make_kprobe_command());
  commands.push_back(make_migrate_stats_command());
  commands.push_back(make_migrate_extract_command());
  commands.push_back(make_migration_trace_command());
  commands.push_back(make_keytime_image_command());
  commands.push_back(make_resource_image_command());
  commands.push_back(make_flame_command());
  return commands;
}

}  // namespace diag
