// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migrate-extract: header tags and per-second series of a
// stat file (debugfs migration_stat/stat, or migrate-stats --period),
// replacing the seed's perl script and its placeholder graphing program.
#include <unistd.h>

#include <charconv>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bpf_backend/bpf_migration_stat.h"
#include "errors.h"
#include "migration_trace.h"
#include "output.h"
#include "svg_chart.h"

namespace diag {

namespace {

using namespace mtrace;

class MigrateExtractCommand : public Command {
 public:
  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = app.add_subcommand(
        "migrate-extract",
        "Read a migration stat file (debugfs migration_stat/stat or migrate-stats --period): "
        "its fields, and any field as per-second values over time, as text or an SVG chart");
    sub->add_option("file", file_,
                    "stat file, '-' for stdin (default: the live " + std::string(kStatPath) +
                        ", else the BPF backend's: migration-trace stat)");
    auto *max = sub->add_flag("--max_field", max_field_, "print the largest data field number");
    auto *min = sub->add_flag("--min_field", min_field_, "print the smallest data field number");
    auto *name = sub->add_option("--field_name", field_name_, "print the name of field N");
    auto *num = sub->add_option("--field_num", field_num_, "print the number of field NAME");
    auto *ext = sub->add_option("--extract", extract_args_,
                                "print 'TS VALUE' rows of field N (or NAME, e.g. migrate): TS "
                                "in seconds since the start, VALUE per second (repeat for more "
                                "columns)")
                    ->allow_extra_args(false);
    for (CLI::Option *o : {max, min, name, num})
      for (CLI::Option *other : {max, min, name, num, ext})
        if (o != other) o->excludes(other);
    sub->add_option("--plot", plot_,
                    "draw the --extract fields (default: every data field) per second as an "
                    "SVG chart to this file");
    sub->add_option("--format", format_, "output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    sub->footer(
        "`diagnose-tools migrate-stats --help_format` explains the stat format.\n"
        "Exit status: 0 ok, 1 the stat cannot be read, 2 bad usage or an unknown field, 3 no "
        "module or not root, 4 a malformed stat file or one beyond a limit "
        "(docs/input-limits.md).");
    return sub;
  }

  int run() override {
    const bool query = max_field_ || min_field_ || field_name_ || !field_num_.empty();
    if (!query && extract_args_.empty() && plot_.empty())
      throw UsageError(
          "say what to extract: --max_field, --min_field, --field_name N, --field_num NAME, "
          "--extract N or --plot FILE");
    StatFile s;
    if (file_.empty() && ::access(kStatPath, F_OK) != 0 && msbpf::present()) {
      // no module stat here, but the BPF backend's (migration-trace stat)
      s = parse_stat(msbpf::stat_text(), "the BPF migration stat");
    } else {
      s = parse_stat(read_input(file_, kStatPath), input_label(file_, kStatPath));
    }
    for (const std::string &arg : extract_args_) extract_.push_back(resolve_field(s, arg));
    const bool json = format_ == "json";

    if (max_field_ || min_field_) {
      uint32_t f = max_field_ ? s.max_field() : s.min_field();
      if (!f) throw UsageError("the stat file has no data fields");
      print(json, max_field_ ? "max_field" : "min_field", f);
    } else if (field_name_) {
      check_field(s, *field_name_);
      print(json, "field_name", s.fields.at(*field_name_));
    } else if (!field_num_.empty()) {
      auto f = s.field_num(field_num_);
      if (!f) throw UsageError("no field named '" + field_num_ + "' in the stat file");
      print(json, "field_num", *f);
    } else if (!extract_.empty()) {
      write_extract(s, json);
    }
    if (!plot_.empty()) plot(s);
    return kExitOk;
  }

 private:
  static void check_field(const StatFile &s, uint32_t f) {
    if (f == s.ts_field)
      throw UsageError("field " + std::to_string(f) + " is the timestamp, not data");
    if (!s.fields.count(f))
      throw UsageError("no field " + std::to_string(f) + " in the stat file (fields " +
                       std::to_string(s.min_field()) + ".." + std::to_string(s.max_field()) +
                       ")");
  }

  // A field given by number or by name, checked to be a data field.
  static uint32_t resolve_field(const StatFile &s, const std::string &arg) {
    uint32_t f = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), f);
    if (ec != std::errc() || end != arg.data() + arg.size()) {
      auto named = s.field_num(arg);
      if (!named) throw UsageError("no field named '" + arg + "' in the stat file");
      f = *named;
    }
    check_field(s, f);
    return f;
  }

  static void print(bool json, const char *key, uint32_t v) {
    if (json)
      std::cout << dump_json({{key, v}}, 2) << '\n';
    else
      std::cout << v << '\n';
  }
  static void print(bool json, const char *key, const std::string &v) {
    if (json)
      std::cout << dump_json({{key, v}}, 2) << '\n';
    else
      std::cout << printable(v) << '\n';
  }

  void write_extract(const StatFile &s, bool json) const {
    std::vector<std::vector<std::pair<double, double>>> cols;
    for (uint32_t f : extract_) cols.push_back(s.extract(f));
    const size_t n = cols.front().size();
    if (json) {
      nlohmann::json fields = nlohmann::json::array(), rows = nlohmann::json::array();
      for (uint32_t f : extract_) fields.push_back({{"field", f}, {"name", s.fields.at(f)}});
      for (size_t i = 0; i < n; ++i) {
        nlohmann::json values = nlohmann::json::array();
        for (const auto &c : cols) values.push_back(c[i].second);
        rows.push_back({{"ts", cols.front()[i].first}, {"per_sec", values}});
      }
      std::cout << dump_json({{"period_msec", s.period_msec},
                              {"units", {{"ts", "seconds since the start"},
                                         {"per_sec", "count per second"}}},
                              {"fields", fields},
                              {"rows", rows}},
                             2)
                << '\n';
      return;
    }
    char ts[32];
    for (size_t i = 0; i < n; ++i) {
      snprintf(ts, sizeof(ts), "%.3f", cols.front()[i].first);
      std::cout << ts;
      for (const auto &c : cols) std::cout << ' ' << format_value(c[i].second);
      std::cout << '\n';
    }
  }

  void plot(const StatFile &s) const {
    std::vector<uint32_t> fields = extract_;
    if (fields.empty())
      for (auto &[f, name] : s.fields)
        if (f != s.ts_field) fields.push_back(f);
    Chart chart;
    chart.title = "per second, " + std::to_string(s.period_msec) + " ms periods" +
                  (fields.size() == 1 ? ": " + s.fields.at(fields[0]) : "");
    chart.x_label = "time since the start (s)";
    chart.y_label = "events per second";
    for (uint32_t f : fields) chart.series.push_back({s.fields.at(f), s.extract(f)});
    size_t flat = drop_flat_series(chart);
    write_svg_file(plot_, chart);
    std::cerr << "migrate-extract: wrote " << plot_ << " (" << chart.series.size()
              << " series, " << s.rows.size() << " periods";
    if (flat) std::cerr << "; " << flat << " series that are zero throughout left out";
    std::cerr << ")\n";
  }

  std::string file_, format_ = "text", plot_, field_num_;
  bool max_field_ = false, min_field_ = false;
  std::optional<uint32_t> field_name_;
  std::vector<std::string> extract_args_;
  std::vector<uint32_t> extract_;
};

}  // namespace

std::unique_ptr<Command> make_migrate_extract_command() {
  return std::make_unique<MigrateExtractCommand>();
}

}  // namespace diag
