// SPDX-License-Identifier: GPL-2.0-or-later
// migrate-image report model, shared by its writers and tests.
#pragma once

#include <memory>
#include <vector>

#include "function_command.h"
#include "records.h"

namespace diag {

// The migrations of one thread, in time order.
struct MigrateImageThread {
  std::vector<diag_migrate_record> events;
  uint64_t migrations = 0;       // counted like se.nr_migrations
  uint64_t fork_placements = 0;  // first placements of new tasks, not migrations
};

// Groups a report's migrate records per thread, threads in order of their
// first record.
std::vector<MigrateImageThread> group_migrations(const DecodedReport &report);

std::unique_ptr<FunctionCommand> make_migrate_image_command();

}  // namespace diag
