// SPDX-License-Identifier: GPL-2.0-or-later
// The light-weight migration trace in user space: parsers of the kernel's
// migration_trace/trace and migration_stat/stat text (and of stat files
// that migrate-stats --period writes), the analysis behind migrate-stats,
// and the stat writer.  The formats are described in
// docs/migration-trace.md and by `migrate-stats --help_format`.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "errors.h"

namespace diag::mtrace {

constexpr const char *kTracePath = "/sys/kernel/debug/migration_trace/trace";
constexpr const char *kStatPath = "/sys/kernel/debug/migration_stat/stat";

// A line the parser cannot read or that exceeds a limit: "FILE:LINE: why".
class FormatError : public MalformedInput {
 public:
  using MalformedInput::MalformedInput;
};

// Limits of the trace and stat formats (docs/input-limits.md), beyond the
// line length and CPU limits of errors.h.
inline constexpr uint64_t kMaxInputBytes = 1ull << 30;  // a trace or stat file
inline constexpr uint32_t kMaxStatFields = 65536;       // "# field N": 1..this
inline constexpr uint64_t kMaxPeriods = 1000000;        // rows of --period
inline constexpr uint64_t kMaxStatValues = 1ull << 25;  // rows x fields of a stat
inline constexpr uint32_t kMaxPeriodMsec = 86400000;    // one day
inline constexpr int64_t kMaxWallSec = 9223372035;      // wall-clock ns fit in 64 bits

// Reads FILE, or stdin for "-", or the live debugfs file for "" (turning
// the kernel's refusals into one-line errors).  Throws UsageError,
// EnvironmentError, MalformedInput (larger than kMaxInputBytes) or
// std::runtime_error.
std::string read_input(const std::string &file, const char *live_path);
// How messages name that input: FILE, "<stdin>" or the live path.
std::string input_label(const std::string &file, const char *live_path);

// ---- trace ----

enum class EventType { kMigrate, kForkPlacement, kComm, kMark, kStart };

struct Event {
  uint64_t ts = 0;       // CLOCK_MONOTONIC ns (the trace's field 1)
  uint32_t cpu = 0;      // CPU whose buffer holds the event
  EventType type = EventType::kMigrate;
  uint32_t kind = 0;     // cause number of a migration, else the event kind
  int32_t pid = -1;
  uint32_t from = 0, to = 0;  // migrations and fork placements
  uint64_t mark = 0;          // marks
  int64_t wall_sec = 0;       // start_sched_clock
  uint32_t wall_usec = 0;
  std::string comm;           // copy_process, set_task_comm, task_list
};

struct TraceHeader {
  std::string version;
  uint32_t nr_cpus = 0;
  std::map<uint32_t, std::string> causes;  // "# cause N NAME"
  std::map<uint32_t, std::string> kinds;   // "# loc N NAME"
  std::string state;                       // running, stopped, full, empty
  std::optional<uint64_t> start_ts, stop_ts, full_ts;
  std::optional<uint32_t> full_cpu;
  uint64_t lost = 0;
  std::optional<uint64_t> skipped_calls;  // the BPF backend's line, when present
};

struct Trace {
  TraceHeader header;
  std::vector<Event> events;  // sorted by timestamp (stable)

  std::string cause_name(uint32_t cause) const;
};

// Parses a trace; events need not be sorted (`sort trace` works too).
// Throws FormatError naming `label` and the line.
Trace parse_trace(std::string_view text, const std::string &label = "<trace>");

// ---- analysis (migrate-stats) ----

struct Filters {
  std::optional<uint64_t> begin_mark, end_mark;
  std::optional<double> begin_sec, end_sec;
  std::optional<uint64_t> begin_ts, end_ts;
  std::set<int32_t> pids, exclude_pids;
  std::set<std::string> comms, exclude_comms;
  std::set<uint32_t> causes, exclude_causes;
  std::set<uint32_t> cpus, exclude_cpus;
};

struct Migration {
  uint64_t ts;
  uint32_t cpu, from, to;
  int32_t pid;
  uint32_t cause;        // the cause number, or the fork_placement kind
  bool fork_placement;
  std::string comm;      // the task's name at that moment ("" if unknown)
};

struct Analysis {
  const Trace *trace = nullptr;
  uint64_t start = 0;  // trace start: the first start_sched_clock (else first event)
  uint64_t begin = 0;  // window after begin filters
  uint64_t end = 0;    // window after end filters (the trace's stop when none)
  bool has_wall = false;
  int64_t wall_ns_at_start = 0;  // CLOCK_REALTIME ns at `start`
  std::vector<Migration> moves;  // in the window and the filters, in time order
  uint64_t migrations = 0;       // moves that are migrations
  uint64_t fork_placements = 0;
  uint64_t dropped_after_full = 0;  // events after the buffer filled, ignored

  double rel_sec(uint64_t ts) const { return (double)(int64_t)(ts - start) / 1e9; }
};

// Applies the window and the filters; throws UsageError when a begin/end
// mark is not in the trace or the window is empty.
Analysis analyze(const Trace &trace, const Filters &filters);

// What --stats shows.
struct Summary {
  std::map<uint32_t, uint64_t> by_cause;      // migrations per cause number
  // migrations [from][to] for the trace's CPUs, when there are at most
  // kMatrixCpus of them (else empty: see pairs)
  static constexpr uint32_t kMatrixCpus = 256;
  std::vector<std::vector<uint64_t>> matrix;
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> pairs;  // (from, to) -> migrations
  struct Task {
    int32_t pid;
    std::string comm;  // latest name seen
    uint64_t migrations;
  };
  std::vector<Task> tasks;  // most migrations first
};
Summary summarize(const Analysis &a);

// A timestamp as the trace and the stat print it: 0x and 16 hex digits.
std::string hex_ts(uint64_t ts);

// How migrate-stats prints a timestamp.
enum class TsMode { kRaw, kRelative, kAbsolute };
std::string format_ts(const Analysis &a, uint64_t ts, TsMode mode);

// ---- stat files ----

struct StatFile {
  std::string version;
  uint32_t period_msec = 0;
  int64_t gtod_sec = 0;
  uint32_t gtod_usec = 0;
  uint32_t ts_field = 1;
  std::map<uint32_t, std::string> fields;  // field number -> name
  std::vector<std::string> other_header;   // other "#" lines, kept as they are
  // One row per period; column i is field i + 1 (the timestamp column
  // holds seconds since the start).
  std::vector<std::vector<double>> rows;

  uint32_t min_field() const;  // smallest data field (not the timestamp)
  uint32_t max_field() const;
  std::optional<uint32_t> field_num(const std::string &name) const;
  // (seconds, value per second) of a data field.
  std::vector<std::pair<double, double>> extract(uint32_t field) const;
};

StatFile parse_stat(std::string_view text, const std::string &label = "<stat>");
// A count as an integer, a rate with three decimals.
std::string format_value(double v);
void write_stat(const StatFile &stat, std::ostream &out);

// Which series migrate-stats --period writes.
struct PeriodGroups {
  bool all = false, cause = false, cpu = false, cpu_pair = false;
};

// Counts the analysis' migrations per period of period_ms, from the window
// begin; only complete periods, as the kernel's stat.  Fork placements
// are not migrations and are not counted.
StatFile period_stat(const Analysis &a, uint32_t period_ms, const PeriodGroups &groups);

// The text `--help_format` prints.
extern const char *const kFormatHelp;

}  // namespace diag::mtrace

namespace diag {
std::unique_ptr<Command> make_migrate_stats_command();
std::unique_ptr<Command> make_migrate_extract_command();
}  // namespace diag
