// SPDX-License-Identifier: GPL-2.0-or-later
// Man pages, shell completion and a JSON description of the command line,
// all generated from the CLI11 application and the functions' --activate
// key tables, so they cannot drift from what the CLI accepts.
//
// Hidden options of the installed tool (not in --help):
//   diagnose-tools --dump-cli-spec               the JSON description
//   diagnose-tools --generate-man DIR            every man page into DIR
//   diagnose-tools --generate-completion bash|zsh
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.h"

namespace diag {

// The command line as data: subcommands, their options and --activate keys.
nlohmann::json cli_spec(const CLI::App &app,
                        const std::vector<std::unique_ptr<Command>> &commands);

// name -> roff text of every man page (diagnose-tools.8,
// diagnose-tools-<subcommand>.8, diagnose-migration-trace.7).
std::map<std::string, std::string> man_pages(const nlohmann::json &spec);

void write_bash_completion(const nlohmann::json &spec, std::ostream &out);
void write_zsh_completion(const nlohmann::json &spec, std::ostream &out);

// Handles the hidden options above when argv[1] is one of them: sets *rc
// and returns true.
bool run_doc_generator(const CLI::App &app, const std::vector<std::unique_ptr<Command>> &commands,
                       int argc, char **argv, int *rc);

}  // namespace diag
