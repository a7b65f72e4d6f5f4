// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migration-trace: the light-weight migration trace on the
// BPF backend, driven as the module's debugfs files are
// (docs/migration-trace.md): enable, stop, mark, reset, trace, status; and
// the migration stat as the module's migration_stat/ files are: stat
// [enable|stop|reset|status].  The trace text is the module's
// migration_trace/trace and the stat text its migration_stat/stat, so
// migrate-stats and migrate-extract read them unchanged.
#include "migration_trace_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "bpf_backend/bpf_migration_stat.h"
#include "bpf_backend/bpf_migration_trace.h"
#include "errors.h"
#include "migration_trace.h"
#include "output.h"

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

using Writer = void (*)(const std::function<void(const char *, size_t)> &);

// What `write` makes (the trace or the stat) into FILE ("" for stdout) as
// it is made.
void write_to(Writer write, const std::string &path) {
  if (path.empty()) {
    write([](const char *p, size_t n) { write_all(1, p, n, "stdout"); });
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UsageError("cannot write " + path + ": " + std::strerror(errno));
  try {
    write([&](const char *p, size_t n) { write_all(fd, p, n, path); });
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
                    "stopped); status; stat [enable|stop|reset|status]: the migration stat "
                    "(print it, or drive it)")
        ->required();
    sub->add_option("value", value_,
                    "enable: 1 (the default) or 0; mark: the number (decimal or 0x hexadecimal); "
                    "stat: enable, stop, reset or status (none: print the stat)");
    sub->add_option("--buffer-kib", buffer_kib_,
                    "enable: the buffer per CPU in KiB, 1..1048576 (32 bytes an event)")
        ->capture_default_str();
    sub->add_option("--period-msec", period_msec_,
                    "stat enable: the length of a period in ms, 1..86400000 (the module's "
                    "migration_stat/period_msec)")
        ->capture_default_str();
    sub->add_option("--hours", hours_,
                    "stat enable: the capacity, in hours of 1 s periods (hours x 3600 periods "
                    "of any length), 1..8760 (the module's migration_stat_hours)")
        ->capture_default_str();
    sub->add_option("--format", format_, "status, stat status: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    sub->add_option("-o,--output", output_,
                    "trace, stat: write the trace or the stat to this file, not stdout");
    sub->footer(
        "Tracing stops by itself when a CPU's buffer fills (the header says which CPU and "
        "when); the trace can be read again and again until reset.  migrate-stats reads "
        "this trace when debugfs has none (or save it: migration-trace trace -o t.txt).\n"
        "The stat counts migrations per cause and fork placements per period, cheap enough "
        "to leave running for days; it can be read while it counts (complete periods only) "
        "and stops by itself after its last period; migrate-extract reads it.\n"
        "Exit status: 0 ok, 1 the operation failed, 2 bad usage or value (EINVAL), 3 no BPF "
        "here or not root, 5 a trace or stat is held: reset first (EEXIST), 6 already tracing "
        "or counting (EALREADY), 7 tracing: stop first (EBUSY), 8 not tracing: the mark would "
        "be lost (EPIPE).");
    return sub;
  }

  int run() override {
    static const char *const verbs[] = {"enable", "stop", "mark", "reset", "trace", "status",
                                        "stat"};
    if (std::find(std::begin(verbs), std::end(verbs), verb_) == std::end(verbs))
      throw UsageError("'" + verb_ +
                       "' is not a verb: enable, stop, mark, reset, trace, status or stat");
    const bool has_value = !value_.empty();
    if (verb_ != "enable" && verb_ != "mark" && verb_ != "stat" && has_value)
      throw UsageError(verb_ + " takes no value ('" + value_ + "')");
    if (verb_ != "enable" && buffer_kib_ != mtbpf::kDefaultBufferKib)
      throw UsageError("--buffer-kib is for enable");
    const bool stat_enable = verb_ == "stat" && value_ == "enable";
    if (!stat_enable && (period_msec_ != msbpf::kDefaultPeriodMsec || hours_ != msbpf::kDefaultHours))
      throw UsageError("--period-msec and --hours are for stat enable");
    if (verb_ != "trace" && !(verb_ == "stat" && !has_value) && !output_.empty())
      throw UsageError("-o is for trace and stat");
    if (format_ != "text" && verb_ != "status" && !(verb_ == "stat" && value_ == "status"))
      throw UsageError("--format is for status and stat status (migrate-stats and "
                       "migrate-extract read the trace and the stat with --format json)");
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
        write_to(mtbpf::write_trace, output_);
      } else if (verb_ == "status") {
        print_status(mtbpf::status());
      } else {
        run_stat();
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
  void run_stat() {
    if (value_.empty())
      write_to(msbpf::write_stat, output_);
    else if (value_ == "enable")
      msbpf::enable(period_msec_, hours_);
    else if (value_ == "stop")
      msbpf::stop();
    else if (value_ == "reset")
      msbpf::reset();
    else if (value_ == "status")
      print_stat_status(msbpf::status());
    else
      throw UsageError("stat: '" + value_ + "' is not enable, stop, reset or status");
  }

  void print_stat_status(const msbpf::Status &s) const {
    if (format_ == "json") {
      nlohmann::json j{{"backend", "bpf"}, {"state", s.state}};
      if (s.state != "empty")
        j.update({{"period_msec", s.period_msec}, {"hours", s.hours}, {"nr_cpus", s.nr_cpus},
                  {"periods", s.complete}, {"capacity_periods", s.capacity}, {"lost", s.lost},
                  {"skipped_calls", s.skipped_calls},
                  {"start_ts", s.start_ts}, {"stop_ts", s.stop_ts},
                  {"programs_attached", s.programs}});
      std::cout << dump_json(j, 2) << "\n";
      return;
    }
    std::cout << "state " << s.state << "\n";
    if (s.state == "empty") return;
    std::cout << "period_msec " << s.period_msec << "\n"
              << "hours " << s.hours << "\n"
              << "nr_cpus " << s.nr_cpus << "\n"
              << "periods " << s.complete << " of " << s.capacity << "\n"
              << "lost " << s.lost << "\n"
              << "skipped_calls " << s.skipped_calls << "\n"
              << "start_ts " << mtrace::hex_ts(s.start_ts) << "\n";
    if (s.stop_ts) std::cout << "stop_ts " << mtrace::hex_ts(s.stop_ts) << "\n";
    std::cout << "programs " << (s.programs ? "attached" : "none") << "\n";
  }

  void print_status(const mtbpf::Status &s) const {
    if (format_ == "json") {
      nlohmann::json j{{"backend", "bpf"}, {"state", s.state}};
      if (s.state != "empty") {
        j.update({{"buffer_kib", s.buffer_kib}, {"nr_cpus", s.nr_cpus}, {"events", s.events},
                  {"capacity", s.capacity}, {"lost", s.lost},
                  {"skipped_calls", s.skipped_calls}, {"start_ts", s.start_ts},
                  {"stop_ts", s.stop_ts}, {"programs_attached", s.programs}});
        if (s.full_cpu >= 0) j["full_cpu"] = s.full_cpu;
      }
      std::cout << dump_json(j, 2) << "\n";
      return;
    }
    std::cout << "state " << s.state << "\n";
    if (s.state == "empty") return;
    std::cout << "buffer_kib " << s.buffer_kib << "\n"
              << "nr_cpus " << s.nr_cpus << "\n"
              << "events " << s.events << " of " << s.capacity << "\n"
              << "lost " << s.lost << "\n"
              << "skipped_calls " << s.skipped_calls << "\n"
              << "start_ts " << mtrace::hex_ts(s.start_ts) << "\n";
    if (s.stop_ts) std::cout << "stop_ts " << mtrace::hex_ts(s.stop_ts) << "\n";
    if (s.full_cpu >= 0) std::cout << "full_cpu " << s.full_cpu << "\n";
    std::cout << "programs " << (s.programs ? "attached" : "none") << "\n";
  }

  std::string verb_, value_, output_, format_ = "text";
  uint32_t buffer_kib_ = mtbpf::kDefaultBufferKib;
  uint32_t period_msec_ = msbpf::kDefaultPeriodMsec;
  uint32_t hours_ = msbpf::kDefaultHours;
};

}  // namespace

std::unique_ptr<Command> make_migration_trace_command() {
  return std::make_unique<MigrationTraceCommand>();
}

}  // namespace diag
