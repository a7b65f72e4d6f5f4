// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migration-trace: the light-weight migration trace on the
// BPF backend, driven as the module's debugfs files are
// (docs/migration-trace.md): enable, stop, mark, reset, trace, status.
// The trace text is the module's migration_trace/trace, so migrate-stats
// and migrate-extract read it unchanged.
#include "migration_trace_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

#include "bpf_backend/bpf_migration_trace.h"
#include "errors.h"

namespace diag {

namespace {

// Exit statuses beyond errors.h's, one per refusal of the module, so that
// scripts tell them apart as they tell the module's errnos apart.
enum MtExit : int {
  kExitHeld = 5,         // EEXIST: a trace is held, reset first
  kExitAlready = 6,      // EALREADY: already tracing
  kExitBusy = 7,         // EBUSY: the trace cannot be read while tracing
  kExitNotTracing = 8,   // EPIPE: a mark while not tracing
};

uint64_t parse_number(const std::string &what, const std::string &v) {
  // as the module's kstrtou64(base 0): decimal, 0x hexadecimal, 0 octal
  if (v.empty() || v.size() > 32 || v[0] == '-' || v[0] == '+' || v[0] == ' ')
    throw UsageError(what + ": '" + v + "' is not a number (decimal or 0x hexadecimal)");
  errno = 0;
  char *end = nullptr;
  unsigned long long x = std::strtoull(v.c_str(), &end, 0);
  if (errno || !end || *end)
    throw UsageError(what + ": '" + v + "' is not a number (decimal or 0x hexadecimal)");
  return x;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Writes all of [p, p + n) to fd; `what` names it in errors.
void write_all(int fd, const char *p, size_t n, const std::string &what) {
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      throw std::runtime_error("cannot write " + what + ": " + std::strerror(w < 0 ? errno : EIO));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// The trace into FILE ("" for stdout) as it is made.
void write_trace_to(const std::string &path) {
  if (path.empty()) {
    mtbpf::write_trace([](const char *p, size_t n) { write_all(1, p, n, "the trace to stdout"); });
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UsageError("cannot write " + path + ": " + std::strerror(errno));
  try {
    mtbpf::write_trace([&](const char *p, size_t n) { write_all(fd, p, n, path); });
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0)
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

class MigrationTraceCommand : public Command {
 public:
  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = app.add_subcommand(
        "migration-trace",
        "The light-weight migration trace on the BPF backend: every CPU migration with its "
        "cause, the task names and marks, as debugfs migration_trace/ gives them with the "
        "module (docs/migration-trace.md)");
    sub->add_option("verb", verb_,
                    "enable [1|0]: start (refused while a trace is held: reset first), 0 stops; "
                    "stop; mark NUMBER; reset: stop, empty, free; trace: print it (only while "
                    "stopped); status")
        ->required();
    sub->add_option("value", value_,
                    "enable: 1 (the default) or 0; mark: the number (decimal or 0x hexadecimal)");
    sub->add_option("--buffer-kib", buffer_kib_,
                    "enable: the buffer per CPU in KiB, 1..1048576 (32 bytes an event)")
        ->capture_default_str();
    sub->add_option("-o,--output", output_, "trace: write the trace to this file, not stdout");
    sub->footer(
        "Tracing stops by itself when a CPU's buffer fills (the header says which CPU and "
        "when); the trace can be read again and again until reset.  migrate-stats reads "
        "this trace when debugfs has none (or save it: migration-trace trace -o t.txt).\n"
        "Exit status: 0 ok, 1 the operation failed, 2 bad usage or value (EINVAL), 3 no BPF "
        "here or not root, 5 a trace is held: reset first (EEXIST), 6 already tracing "
        "(EALREADY), 7 tracing: stop first (EBUSY), 8 not tracing: the mark would be lost "
        "(EPIPE).");
    return sub;
  }

  int run() override {
    static const char *const verbs[] = {"enable", "stop", "mark", "reset", "trace", "status"};
    if (std::find(std::begin(verbs), std::end(verbs), verb_) == std::end(verbs))
      throw UsageError("'" + verb_ + "' is not a verb: enable, stop, mark, reset, trace or status");
    const bool has_value = !value_.empty();
    if (verb_ != "enable" && verb_ != "mark" && has_value)
      throw UsageError(verb_ + " takes no value ('" + value_ + "')");
    if (verb_ != "enable" && buffer_kib_ != mtbpf::kDefaultBufferKib)
      throw UsageError("--buffer-kib is for enable");
    if (verb_ != "trace" && !output_.empty()) throw UsageError("-o is for trace");
    try {
      if (verb_ == "enable") {
        uint64_t v = has_value ? parse_number("enable", value_) : 1;
        if (v > 1) throw UsageError("enable: '" + value_ + "' is neither 1 nor 0");
        if (v == 1)
          mtbpf::enable(buffer_kib_);
        else
          mtbpf::stop();
      } else if (verb_ == "stop") {
        mtbpf::stop();
      } else if (verb_ == "mark") {
        if (!has_value) throw UsageError("mark needs a NUMBER");
        mtbpf::mark(parse_number("mark", value_));
      } else if (verb_ == "reset") {
        mtbpf::reset();
      } else if (verb_ == "trace") {
        write_trace_to(output_);
      } else {
        print_status(mtbpf::status());
      }
    } catch (const KernelError &e) {
      int code = kExitFailed;
      switch (e.err()) {
        case EEXIST: code = kExitHeld; break;
        case EALREADY: code = kExitAlready; break;
        case EBUSY: code = kExitBusy; break;
        case EPIPE: code = kExitNotTracing; break;
        case EINVAL: code = kExitUsage; break;
        default: break;
      }
      std::cerr << "diagnose-tools migration-trace: " << verb_ << ": " << e.what() << " ("
                << errno_name(e.err()) << ")\n";
      return code;
    }
    return kExitOk;
  }

 private:
  static void print_status(const mtbpf::Status &s) {
    std::cout << "state " << s.state << "\n";
    if (s.state == "empty") return;
    std::cout << "buffer_kib " << s.buffer_kib << "\n"
              << "nr_cpus " << s.nr_cpus << "\n"
              << "events " << s.events << " of " << s.capacity << "\n"
              << "lost " << s.lost << "\n"
              << "start_ts " << hex(s.start_ts) << "\n";
    if (s.stop_ts) std::cout << "stop_ts " << hex(s.stop_ts) << "\n";
    if (s.full_cpu >= 0) std::cout << "full_cpu " << s.full_cpu << "\n";
    std::cout << "programs " << (s.programs ? "attached" : "none") << "\n";
  }

  std::string verb_, value_, output_;
  uint32_t buffer_kib_ = mtbpf::kDefaultBufferKib;
};

}  // namespace

std::unique_ptr<Command> make_migration_trace_command() {
  return std::make_unique<MigrationTraceCommand>();
}

}  // namespace diag
