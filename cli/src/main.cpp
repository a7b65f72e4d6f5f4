// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools: the command-line half of diagnose-tools.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli_docs.h"
#include "command.h"
#include "errors.h"
#include "output.h"
#include "status_command.h"
#include "uapi/diagnose.h"

int main(int argc, char **argv) {
  CLI::App app{"diagnose-tools: see why a process behaves as it does (CPU migrations, kernel "
               "paths, user stacks).\nEvery function takes --activate='k=v,...', --settings, "
               "--report [--format json], --deactivate."};
  app.name("diagnose-tools");
  app.require_subcommand(1);
  // handled before parsing: it needs no subcommand
  const std::string version_help =
      "print the versions of the CLI, of the loaded module and of their ABI";
  app.add_flag("--version", version_help);
  app.footer("Exit status: 0 ok, 1 the module refused or the operation failed (reason printed), "
             "2 bad usage, 3 module not loaded, not root, or ABI mismatch, 4 an input file is "
             "malformed or exceeds a limit (docs/input-limits.md).");

  auto commands = diag::make_commands();
  commands.push_back(diag::make_status_command(commands));
  std::vector<std::pair<CLI::App *, diag::Command *>> subs;
  for (auto &c : commands) subs.emplace_back(c->setup(app), c.get());

  if (argc == 2 && std::string(argv[1]) == "--version") return diag::print_versions();
  int rc = 0;
  if (diag::run_doc_generator(app, commands, argc, argv, &rc)) return rc;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    // one line, and the usage-error exit status
    std::cerr << "diagnose-tools: " << diag::printable(e.what()) << " (see --help)\n";
    return diag::kExitUsage;
  }

  for (auto &[sub, command] : subs) {
    if (!sub->parsed()) continue;
    // one line each, whatever bytes the message carries
    auto say = [&](const std::exception &e) {
      std::cerr << "diagnose-tools " << sub->get_name() << ": " << diag::printable(e.what())
                << '\n';
    };
    try {
      return command->run();
    } catch (const diag::UsageError &e) {
      say(e);
      return diag::kExitUsage;
    } catch (const diag::EnvironmentError &e) {
      say(e);
      return diag::kExitEnvironment;
    } catch (const diag::MalformedInput &e) {
      say(e);
      return diag::kExitMalformed;
    } catch (const std::bad_alloc &e) {
      std::cerr << "diagnose-tools " << sub->get_name()
                << ": out of memory (an input larger than this machine can hold?)\n";
      return diag::kExitFailed;
    } catch (const std::exception &e) {
      say(e);
      return diag::kExitFailed;
    }
  }
  return diag::kExitUsage;
}
