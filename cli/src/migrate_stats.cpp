// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migrate-stats: analysis of a migration trace
// (debugfs migration_trace/trace), replacing the seed's perl script.
#include <unistd.h>

#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bpf_backend/bpf_migration_trace.h"
#include "cpu_list.h"
#include "errors.h"
#include "migration_trace.h"
#include "output.h"
#include "svg_chart.h"
#include "text_table.h"

namespace diag {

namespace {

using namespace mtrace;

uint64_t parse_u64(const std::string &opt, const std::string &v) {
  try {
    size_t used = 0;
    if (!v.empty() && v[0] == '-') throw std::invalid_argument(v);
    uint64_t x = std::stoull(v, &used, 0);
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::exception &) {
    throw UsageError(opt + ": '" + v + "' is not a number (decimal or 0x hexadecimal)");
  }
}

double parse_seconds(const std::string &opt, const std::string &v) {
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used != v.size() || !std::isfinite(x)) throw std::invalid_argument(v);
    if (std::fabs(x) > 9e9) throw std::out_of_range(v);  // what 64-bit ns can hold
    return x;
  } catch (const std::exception &) {
    throw UsageError(opt + ": '" + v + "' is not a number of seconds");
  }
}

std::vector<std::string> split_commas(const std::vector<std::string> &values) {
  std::vector<std::string> out;
  for (const auto &v : values) {
    size_t i = 0;
    while (i <= v.size()) {
      size_t j = v.find(',', i);
      if (j == std::string::npos) j = v.size();
      out.push_back(v.substr(i, j - i));
      i = j + 1;
    }
  }
  return out;
}

std::string percent(uint64_t n, uint64_t total) {
  char buf[16];
  snprintf(buf, sizeof(buf), "%.2f%%", total ? 100.0 * n / total : 0.0);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[40];
  snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

class MigrateStatsCommand : public Command {
 public:
  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = app.add_subcommand(
        "migrate-stats",
        "Analyse a migration trace (debugfs migration_trace/trace): migrations per cause, "
        "CPU to CPU, per task, per period, as rows, tables, stat files or an SVG chart");
    sub->add_option("file", file_,
                    "saved trace, '-' for stdin (default: the live " + std::string(kTracePath) +
                        ", readable once tracing is stopped, or without it the BPF backend's "
                        "migration-trace)");
    auto *rel = sub->add_flag("--ts_rel", ts_rel_, "timestamps in seconds since the trace start");
    sub->add_flag("--ts_abs", ts_abs_, "timestamps as wall-clock seconds since the epoch")
        ->excludes(rel);
    sub->add_flag("--migrate", migrate_, "one row per migration: TS CPU FROM TO PID COMM CAUSE");
    sub->add_flag("--fork", fork_,
                  "with --migrate, also list fork placements (cause fork_placement; not "
                  "migrations)");
    sub->add_flag("--stats", stats_,
                  "duration, migrations per cause, FROM x TO CPU matrix, busiest tasks "
                  "(the default)");
    sub->add_option("--begin_mark", begin_mark_, "ignore events before the first mark N");
    sub->add_option("--end_mark", end_mark_, "ignore events after the first mark N");
    sub->add_option("--begin_sec", begin_sec_, "ignore events before S seconds since the start");
    sub->add_option("--end_sec", end_sec_, "ignore events after S seconds since the start");
    sub->add_option("--begin_ts", begin_ts_, "ignore events before trace timestamp TS");
    sub->add_option("--end_ts", end_ts_, "ignore events after trace timestamp TS");
    sub->add_option("--pid", pids_, "only these tasks (comma-separated, repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--exclude_pid", xpids_, "not these tasks")
        ->allow_extra_args(false);
    sub->add_option("--comm", comms_, "only tasks named so at the migration (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--exclude_comm", xcomms_, "not tasks named so")
        ->allow_extra_args(false);
    sub->add_option("--cause", causes_, "only these causes (name or number, repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--exclude_cause", xcauses_, "not these causes")
        ->allow_extra_args(false);
    sub->add_option("--cpu", cpus_, "only migrations from or to these CPUs (e.g. 0-3,8)")
        ->allow_extra_args(false);
    sub->add_option("--exclude_cpu", xcpus_, "not migrations from or to these CPUs")
        ->allow_extra_args(false);
    sub->add_option("--period", period_,
                    "write a stat file (migrate-extract's input) counting migrations per "
                    "period of MSEC ms")
        ->check(CLI::Range(1u, 86400000u));
    sub->add_flag("--period_all", groups_.all, "with --period: field migrate, all migrations");
    sub->add_flag("--period_cause", groups_.cause, "with --period: one field per cause");
    sub->add_flag("--period_cpu", groups_.cpu,
                  "with --period: fields from_cpu_N and to_cpu_N per CPU");
    sub->add_flag("--period_cpu_pair", groups_.cpu_pair,
                  "with --period: one field cpu_A_to_B per CPU pair that occurs");
    sub->add_option("--plot", plot_,
                    "draw the --period series (default: all migrations per second) as an SVG "
                    "chart to this file");
    sub->add_option("--format", format_, "output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    sub->add_flag("--help_format", help_format_, "explain the trace, stat and output formats");
    sub->footer(
        "The window is the whole trace (from the first start_sched_clock to the stop) narrowed "
        "by the begin/end filters; include filters keep what matches any value, exclude filters "
        "drop what matches any.\nExit status: 0 ok, 1 the trace cannot be read (e.g. tracing "
        "is running), 2 bad usage, 3 no module or not root, 4 a malformed trace or one beyond "
        "a limit (docs/input-limits.md).");
    return sub;
  }

  int run() override {
    if (help_format_) {
      std::cout << kFormatHelp;
      return kExitOk;
    }
    bool any_group = groups_.all || groups_.cause || groups_.cpu || groups_.cpu_pair;
    if (any_group && !period_) throw UsageError("--period_* options need --period MSEC");
    if (period_ && (migrate_ || stats_))
      throw UsageError("--period writes a stat file; use it without --migrate and --stats");
    if (fork_ && !migrate_) throw UsageError("--fork lists fork placements in --migrate rows");
    if (period_ && !any_group) groups_.all = true;
    const bool json = format_ == "json";

    Trace trace;
    if (file_.empty() && ::access(kTracePath, F_OK) != 0 && mtbpf::present()) {
      // no module trace here, but the BPF backend's (migration-trace):
      // read that, with the same refusal while tracing
      trace = parse_trace(mtbpf::trace_text(), "the BPF migration trace");
    } else {
      trace = parse_trace(read_input(file_, kTracePath), input_label(file_, kTracePath));
    }
    Filters f = filters(trace);
    Analysis a = analyze(trace, f);
    if (a.dropped_after_full)
      std::cerr << "migrate-stats: the buffer of CPU "
                << (trace.header.full_cpu ? std::to_string(*trace.header.full_cpu) : "?")
                << " filled; " << a.dropped_after_full
                << " later events of other CPUs are ignored\n";

    const bool default_stats = !migrate_ && !stats_ && !period_ && plot_.empty();
    nlohmann::json j;
    if (json) j["trace"] = trace_json(a);
    if (migrate_) json ? void(j["migrations"] = migrate_json(a)) : migrate_text(a);
    if (stats_ || default_stats) json ? void(j["stats"] = stats_json(a)) : stats_text(a);
    if (period_) {
      StatFile s = period_stat(a, period_, groups_);
      if (json)
        j["period"] = period_json(s);
      else
        write_stat(s, std::cout);
    }
    if (!plot_.empty()) plot(a);
    if (json && j.size() > 1) std::cout << dump_json(j, 2) << '\n';
    return kExitOk;
  }

 private:
  Filters filters(const Trace &trace) const {
    Filters f;
    if (!begin_mark_.empty()) f.begin_mark = parse_u64("--begin_mark", begin_mark_);
    if (!end_mark_.empty()) f.end_mark = parse_u64("--end_mark", end_mark_);
    if (!begin_sec_.empty()) f.begin_sec = parse_seconds("--begin_sec", begin_sec_);
    if (!end_sec_.empty()) f.end_sec = parse_seconds("--end_sec", end_sec_);
    if (!begin_ts_.empty()) f.begin_ts = parse_u64("--begin_ts", begin_ts_);
    if (!end_ts_.empty()) f.end_ts = parse_u64("--end_ts", end_ts_);
    for (const auto &p : split_commas(pids_)) f.pids.insert(parse_u64("--pid", p));
    for (const auto &p : split_commas(xpids_)) f.exclude_pids.insert(parse_u64("--exclude_pid", p));
    f.comms.insert(comms_.begin(), comms_.end());
    f.exclude_comms.insert(xcomms_.begin(), xcomms_.end());
    for (const auto &c : split_commas(causes_)) f.causes.insert(cause_number(trace, "--cause", c));
    for (const auto &c : split_commas(xcauses_))
      f.exclude_causes.insert(cause_number(trace, "--exclude_cause", c));
    const uint32_t ncpu = std::max<uint32_t>(trace.header.nr_cpus, 1);
    for (const auto &c : cpus_)
      for (uint32_t cpu : parse_cpu_list(c, ncpu)) f.cpus.insert(cpu);
    for (const auto &c : xcpus_)
      for (uint32_t cpu : parse_cpu_list(c, ncpu)) f.exclude_cpus.insert(cpu);
    return f;
  }

  static uint32_t cause_number(const Trace &t, const std::string &opt, const std::string &v) {
    for (auto &[n, name] : t.header.causes)
      if (name == v) return n;
    for (auto &[n, name] : t.header.kinds)
      if (name == v && name == "fork_placement") return n;
    if (!v.empty() && std::isdigit((unsigned char)v[0])) {
      uint64_t n = parse_u64(opt, v);
      if (t.header.causes.count(n)) return n;
    }
    std::string known;
    for (auto &[n, name] : t.header.causes) known += (known.empty() ? "" : ", ") + name;
    throw UsageError(opt + ": '" + v + "' is not a cause of this trace (" + known + ")");
  }

  TsMode ts_mode(const Analysis &a) const {
    if (ts_abs_) {
      if (!a.has_wall)
        throw UsageError("--ts_abs needs the trace's start_sched_clock events");
      return TsMode::kAbsolute;
    }
    return ts_rel_ ? TsMode::kRelative : TsMode::kRaw;
  }

  void migrate_text(const Analysis &a) const {
    const TsMode mode = ts_mode(a);
    std::string line;
    for (const auto &m : a.moves) {
      if (m.fork_placement && !fork_) continue;
      line = format_ts(a, m.ts, mode);
      line += ' ' + std::to_string(m.cpu) + ' ' + std::to_string(m.from) + ' ' +
              std::to_string(m.to) + ' ' + std::to_string(m.pid) + ' ' +
              (m.comm.empty() ? std::string("?") : printable(m.comm)) + ' ' +
              printable(a.trace->cause_name(m.cause));
      std::cout << line << '\n';
    }
  }

  nlohmann::json migrate_json(const Analysis &a) const {
    const TsMode mode = ts_mode(a);
    nlohmann::json rows = nlohmann::json::array();
    for (const auto &m : a.moves) {
      if (m.fork_placement && !fork_) continue;
      nlohmann::json r = {{"ts", format_ts(a, m.ts, mode)},
                          {"ts_ns", m.ts},
                          {"cpu", m.cpu},
                          {"from", m.from},
                          {"to", m.to},
                          {"pid", m.pid},
                          {"comm", m.comm},
                          {"cause", a.trace->cause_name(m.cause)}};
      if (fork_) r["fork_placement"] = m.fork_placement;
      rows.push_back(std::move(r));
    }
    return rows;
  }

  nlohmann::json trace_json(const Analysis &a) const {
    const auto &h = a.trace->header;
    nlohmann::json t = {{"version", h.version},
                        {"nr_cpus", h.nr_cpus},
                        {"state", h.state},
                        {"lost", h.lost},
                        {"start_ts_ns", a.start},
                        {"window",
                         {{"begin_ts_ns", a.begin},
                          {"end_ts_ns", a.end},
                          {"begin_sec", a.rel_sec(a.begin)},
                          {"end_sec", a.rel_sec(a.end)},
                          {"duration_sec", (a.end - a.begin) / 1e9}}}};
    if (h.full_cpu) t["full_cpu"] = *h.full_cpu;
    if (h.skipped_calls) t["skipped_calls"] = *h.skipped_calls;
    if (a.has_wall) t["start_wall"] = format_ts(a, a.start, TsMode::kAbsolute);
    return t;
  }

  void stats_text(const Analysis &a) const {
    const auto &h = a.trace->header;
    const double dur = (a.end - a.begin) / 1e9;
    Summary s = summarize(a);
    std::cout << "trace: version " << (h.version.empty() ? "?" : printable(h.version)) << ", "
              << h.nr_cpus << " CPUs, state " << (h.state.empty() ? "?" : printable(h.state))
              << ", lost " << h.lost << " events";
    if (h.skipped_calls) std::cout << ", " << *h.skipped_calls << " program calls skipped";
    std::cout << '\n';
    if (h.full_cpu)
      std::cout << "note: tracing stopped itself when the buffer of CPU " << *h.full_cpu
                << " filled\n";
    std::cout << "window: " << fixed(a.rel_sec(a.begin), 6) << " s to "
              << fixed(a.rel_sec(a.end), 6) << " s since the start (" << fixed(dur, 6) << " s)";
    if (a.has_wall) std::cout << ", start at " << format_ts(a, a.start, TsMode::kAbsolute);
    std::cout << "\nmigrations: " << a.migrations << " ("
              << fixed(dur > 0 ? a.migrations / dur : 0, 1) << " per second)\n"
              << "fork placements (not migrations): " << a.fork_placements << "\n\n";

    TextTable causes({"CAUSE", "NUMBER", "COUNT", "PERCENT"});
    for (auto &[n, count] : s.by_cause)
      causes.add_row({printable(a.trace->cause_name(n)), std::to_string(n), std::to_string(count),
                      percent(count, a.migrations)});
    causes.print(std::cout);

    if (s.matrix.empty() && h.nr_cpus) {
      // too many CPUs for a table: the pairs that occur
      std::cout << "\nmigrations from CPU to CPU (" << h.nr_cpus
                << " CPUs, too many for a table; pairs that occur):\n";
      TextTable pairs({"FROM", "TO", "COUNT"});
      for (const auto &[p, n] : s.pairs)
        pairs.add_row({std::to_string(p.first), std::to_string(p.second), std::to_string(n)});
      pairs.print(std::cout);
    } else {
      std::cout << "\nmigrations from CPU (rows) to CPU (columns):\n";
      std::vector<std::string> head = {"FROM\\TO"};
      for (uint32_t c = 0; c < s.matrix.size(); ++c) head.push_back(std::to_string(c));
      head.push_back("TOTAL");
      TextTable matrix(head);
      for (uint32_t r = 0; r < s.matrix.size(); ++r) {
        std::vector<std::string> row = {std::to_string(r)};
        uint64_t total = 0;
        for (uint32_t c = 0; c < s.matrix.size(); ++c) {
          row.push_back(r == c ? "-" : std::to_string(s.matrix[r][c]));
          total += s.matrix[r][c];
        }
        row.push_back(std::to_string(total));
        matrix.add_row(row);
      }
      matrix.print(std::cout);
    }

    std::cout << "\ntasks with the most migrations:\n";
    TextTable tasks({"PID", "COMM", "MIGRATIONS", "PERCENT"});
    for (size_t i = 0; i < s.tasks.size() && i < 10; ++i)
      tasks.add_row({std::to_string(s.tasks[i].pid),
                     s.tasks[i].comm.empty() ? "?" : printable(s.tasks[i].comm),
                     std::to_string(s.tasks[i].migrations),
                     percent(s.tasks[i].migrations, a.migrations)});
    tasks.print(std::cout);
    if (s.tasks.size() > 10) std::cout << "(" << s.tasks.size() - 10 << " more tasks)\n";
  }

  nlohmann::json stats_json(const Analysis &a) const {
    Summary s = summarize(a);
    nlohmann::json causes = nlohmann::json::array();
    for (auto &[n, count] : s.by_cause)
      causes.push_back({{"cause", a.trace->cause_name(n)}, {"number", n}, {"count", count}});
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto &[p, n] : s.pairs) pairs.push_back({{"from", p.first}, {"to", p.second}, {"count", n}});
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto &t : s.tasks)
      tasks.push_back({{"pid", t.pid}, {"comm", t.comm}, {"migrations", t.migrations}});
    return {{"migrations", a.migrations},
            {"fork_placements", a.fork_placements},
            {"duration_sec", (a.end - a.begin) / 1e9},
            {"by_cause", causes},
            {"from_to", s.matrix},
            {"from_to_pairs", pairs},
            {"tasks", tasks}};
  }

  static nlohmann::json period_json(const StatFile &s) {
    nlohmann::json fields = nlohmann::json::array();
    for (auto &[n, name] : s.fields)
      if (n != s.ts_field) fields.push_back({{"field", n}, {"name", name}});
    return {{"period_msec", s.period_msec},
            {"gettimeofday", {s.gtod_sec, s.gtod_usec}},
            {"fields", fields},
            {"rows", s.rows}};
  }

  void plot(const Analysis &a) {
    PeriodGroups g = groups_;
    uint32_t period = period_ ? period_ : 1000;
    if (!(g.all || g.cause || g.cpu || g.cpu_pair)) g.all = true;
    StatFile s = period_stat(a, period, g);
    Chart chart;
    chart.title = "CPU migrations per second, " + std::to_string(period) + " ms periods";
    chart.x_label = "time since the window start (s)";
    chart.y_label = "migrations per second";
    for (uint32_t f = s.min_field(); f && f <= s.max_field(); ++f)
      if (s.fields.count(f)) chart.series.push_back({s.fields.at(f), s.extract(f)});
    size_t flat = drop_flat_series(chart);
    write_svg_file(plot_, chart);
    std::cerr << "migrate-stats: wrote " << plot_ << " (" << chart.series.size()
              << " series, " << s.rows.size() << " periods";
    if (flat) std::cerr << "; " << flat << " series that are zero throughout left out";
    std::cerr << ")\n";
  }

  std::string file_, format_ = "text", plot_;
  bool ts_rel_ = false, ts_abs_ = false, migrate_ = false, fork_ = false, stats_ = false;
  bool help_format_ = false;
  std::string begin_mark_, end_mark_, begin_sec_, end_sec_, begin_ts_, end_ts_;
  std::vector<std::string> pids_, xpids_, comms_, xcomms_, causes_, xcauses_, cpus_, xcpus_;
  uint32_t period_ = 0;
  PeriodGroups groups_;
};

}  // namespace

std::unique_ptr<Command> make_migrate_stats_command() {
  return std::make_unique<MigrateStatsCommand>();
}

}  // namespace diag
