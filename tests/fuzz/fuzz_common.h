// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers of the libFuzzer targets (tests/fuzz/run.sh builds and runs them
// with AddressSanitizer and UndefinedBehaviorSanitizer).
//
// A target feeds its input to one reader and to everything that writes
// what the reader produced.  What the code documents as the answer to bad
// input (MalformedInput, UsageError, flame::InputError...) is a rejection;
// any other exception, a crash, a sanitizer report, a hang (-timeout) or
// an allocation beyond -malloc_limit_mb is a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <CLI/CLI.hpp>

#include "command.h"
#include "errors.h"

namespace fuzz {

// An ostream that counts and drops what it is given.
class NullBuf : public std::streambuf {
 public:
  size_t bytes = 0;

 protected:
  int overflow(int c) override {
    ++bytes;
    return c == traits_type::eof() ? 0 : c;
  }
  std::streamsize xsputn(const char *, std::streamsize n) override {
    bytes += static_cast<size_t>(n);
    return n;
  }
};

struct NullStream : std::ostream {
  NullStream() : std::ostream(&buf) {}
  NullBuf buf;
};

// The input as a file the commands can open: an in-memory file, named
// /proc/self/fd/N.
class MemFile {
 public:
  MemFile(const uint8_t *data, size_t size) {
    fd_ = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd_ < 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  const std::string &path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// The one refusal of an input that is a plain std::runtime_error (exit
// status 1, not 4): a trace file that holds no events at all.
inline bool is_refusal(const std::exception &e) {
  return std::string_view(e.what()).find("the trace has no events") != std::string_view::npos;
}

// Runs `diagnose-tools ARGS...` in this process with standard output and
// error dropped; returns its exit status.  Errors are caught as main()
// catches them: a documented rejection is a status, anything else aborts.
inline int run_cli(const std::vector<std::string> &args) {
  CLI::App app{"fuzz"};
  auto commands = diag::make_commands();
  std::vector<std::pair<CLI::App *, diag::Command *>> subs;
  for (auto &c : commands) subs.emplace_back(c->setup(app), c.get());
  std::vector<const char *> argv = {"diagnose-tools"};
  for (const auto &a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char **>(argv.data()));
  } catch (const CLI::ParseError &) {
    return diag::kExitUsage;
  }
  NullStream out, err;
  std::streambuf *old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf *old_err = std::cerr.rdbuf(err.rdbuf());
  int rc = -1;
  try {
    for (auto &[sub, cmd] : subs)
      if (sub->parsed()) rc = cmd->run();
  } catch (const diag::UsageError &) {
    rc = diag::kExitUsage;
  } catch (const diag::MalformedInput &) {
    rc = diag::kExitMalformed;
  } catch (const diag::EnvironmentError &) {
    rc = diag::kExitEnvironment;
  } catch (const std::runtime_error &e) {
    // main() prints any error and exits 1; of plain runtime errors, only
    // the documented refusal of a trace without events is an answer to an
    // input (the others are for files that cannot be read or written)
    if (typeid(e) != typeid(std::runtime_error) || !is_refusal(e)) {
      std::cout.rdbuf(old_out);
      std::cerr.rdbuf(old_err);
      throw;
    }
    rc = diag::kExitFailed;
  } catch (...) {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    throw;  // a finding: libFuzzer reports the uncaught exception
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return rc;
}

}  // namespace fuzz
