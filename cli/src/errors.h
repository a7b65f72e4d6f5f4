// SPDX-License-Identifier: GPL-2.0-or-later
// Errors the CLI reports, and the exit codes scripts can rely on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace diag {

// Exit codes (documented in docs/input-limits.md and --help).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,     // the kernel refused or the operation failed
  kExitUsage = 2,      // bad command line or --activate string
  kExitEnvironment = 3,  // module not loaded, not root, ABI mismatch
  kExitMalformed = 4,  // an input file is malformed or exceeds a limit
};

// The limits every reader of files enforces (docs/limits.md).
inline constexpr size_t kMaxLineBytes = 16u << 20;  // one line of a text input
inline constexpr uint32_t kMaxCpus = 8192;          // CPU ids: the largest NR_CPUS

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

// An input that is malformed or exceeds a documented limit: one line naming
// the file, the line number when there is one, and what is wrong.
class MalformedInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "FILE:LINE: why" (or "FILE: why" for line 0), the shape of every
// MalformedInput message.
std::string input_error(const std::string &file, size_t line, const std::string &why);

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
