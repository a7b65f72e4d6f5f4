// SPDX-License-Identifier: GPL-2.0-or-later
// Errors the CLI reports, and the exit codes scripts can rely on.
#pragma once

#include <stdexcept>
#include <string>

namespace diag {

// Exit codes (documented in docs/exit-codes.md and --help).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,     // the kernel refused or the operation failed
  kExitUsage = 2,      // bad command line or --activate string
  kExitEnvironment = 3,  // module not loaded, not root, ABI mismatch
};

// A problem with what the user typed.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The environment cannot serve the request (no module, no permission...).
class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The module refused a call: errno plus the module's own one-line reason.
class KernelError : public std::runtime_error {
 public:
  KernelError(int err, const std::string &what) : std::runtime_error(what), err_(err) {}
  int err() const { return err_; }

 private:
  int err_;
};

// "EBUSY", "ENODATA", ...: errno names for messages and docs.
std::string errno_name(int err);

}  // namespace diag
