// SPDX-License-Identifier: GPL-2.0-or-later
// A diagnose-tools subcommand.
#pragma once

#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

namespace diag {

class Command {
 public:
  virtual ~Command() = default;
  // Adds the subcommand and its options to the application.
  virtual CLI::App *setup(CLI::App &app) = 0;
  // Runs after a successful parse when this subcommand was chosen; returns
  // the exit code (errors.h).  May throw UsageError, EnvironmentError or
  // KernelError.
  virtual int run() = 0;
};

// Every subcommand, in --help order (commands.cpp).
std::vector<std::unique_ptr<Command>> make_commands();

}  // namespace diag
