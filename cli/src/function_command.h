// SPDX-License-Identifier: GPL-2.0-or-later
// The grammar every diagnosis function shares:
//   diagnose-tools <function> --activate='k=v,...' | --settings | --report | --deactivate
// with --format text|json.  A function supplies its keys, the encoding of
// its settings struct beyond the common part, and its report writers.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "activate_args.h"
#include "command.h"
#include "device.h"
#include "records.h"
#include "report_resources.h"
#include "rescue.h"

namespace diag {

enum class OutputFormat { kText, kJson };

// Settings as shown to people and to scripts: ordered label/value pairs.
struct SettingsView {
  struct Line {
    std::string label;       // "TGID"
    std::string key;         // "tgid" (JSON)
    nlohmann::json value;
    std::string text;        // how the text form prints it
  };
  std::vector<Line> lines;
  void add(const std::string &label, const std::string &key, const nlohmann::json &value,
           const std::string &text);
  void add(const std::string &label, const std::string &key, int64_t value) {
    add(label, key, value, std::to_string(value));
  }
};

// What a report writer needs besides the records.
struct ReportContext {
  const std::vector<uint8_t> &settings;  // the function's settings struct
  const diag_version &version;
  // The session's symbol tables and caches; when not given, live ones are
  // made on first use and live as long as the context.
  mutable ReportResources *resources = nullptr;
  ReportResources &res() const {
    if (!resources) {
      owned_resources = std::make_shared<ReportResources>();
      resources = owned_resources.get();
    }
    return *resources;
  }
  mutable std::shared_ptr<ReportResources> owned_resources = nullptr;
};

// Live output of `--report --follow`: the records batch by batch as the
// module's buffers are drained.  The default (every function gets it) writes
// each batch that has something as a text report of its own, or as one JSON
// object per line; functions with per-event output stream finer.
class ReportStream {
 public:
  virtual ~ReportStream() = default;
  virtual void begin() {}
  // One drain of the module's buffers (records may be empty).
  virtual void batch(const DecodedReport &report) = 0;
  // After the last batch: interrupted, --duration over, or deactivated.
  virtual void end() {}
};

// The "LOST" lines of a text report and the loss fields of a JSON one.
void write_lost_lines(const DecodedReport &report, std::ostream &out);
nlohmann::json lost_json(const DecodedReport &report);

// Base of streams that print record by record: after each batch its losses
// as "LOST" lines (text) or a {"type": "lost"} line (JSON), and at the end
// the "LOST TOTAL" line of every text report.
class RecordStream : public ReportStream {
 public:
  void end() override;

 protected:
  RecordStream(bool json, std::ostream &out) : json_(json), out_(out) {}
  void write_losses(const DecodedReport &report);

  bool json_;
  std::ostream &out_;

 private:
  uint64_t lost_total_ = 0;
};

class FunctionCommand : public Command {
 public:
  FunctionCommand(std::string name, uint32_t id, std::string description);
  CLI::App *setup(CLI::App &app) override;
  int run() override;

  const std::string &name() const { return name_; }
  uint32_t id() const { return id_; }
  // Every key --activate accepts (common ones first), for docs and completion.
  std::vector<KeySpec> activate_keys() const { return all_keys(); }
  size_t settings_bytes() const { return settings_size(); }
  // Parses an --activate string into the settings struct (exposed for tests).
  std::vector<uint8_t> encode_settings(const std::string &activate, uint32_t nr_cpu_ids) const;
  SettingsView describe_settings(const std::vector<uint8_t> &settings) const;
  // Writes a decoded report as text or JSON (what --report prints).
  void render_report(const DecodedReport &decoded, const ReportContext &ctx, bool json,
                     std::ostream &out) const;
  // The JSON document of a report: json_report() plus function and losses.
  nlohmann::json json_report_of(const DecodedReport &decoded, const ReportContext &ctx) const;
  // What --report --follow writes; ctx and out outlive the stream.
  virtual std::unique_ptr<ReportStream> make_stream(const ReportContext &ctx, bool json,
                                                    std::ostream &out) const;

  // What --report and --render do with drained records: decodes and
  // renders them in memory, then writes them to `out`.  When any of that
  // fails and `rescue` is set, the records go to a rescue file instead and
  // one line on `err` says where and how to render them (exit status 1).
  int deliver_report(const std::vector<ReportBytes> &batches, const RescueHeader &header,
                     ReportResources &resources, bool json, bool rescue, std::ostream &out,
                     std::ostream &err) const;
  // The header of this function's rescue files.
  RescueHeader rescue_header(const std::vector<uint8_t> &settings,
                             const diag_version &version) const;
  // The one line that names a rescue file: "<what>; the N bytes of records
  // ... are saved in PATH: render them with '...'".
  std::string rescue_line(const std::string &what, const RescueFile &file, uint64_t bytes,
                          bool json) const;

 protected:
  virtual size_t settings_size() const = 0;
  // Keys beyond the common tgid, pid, comm, verbose, buf-kib.
  virtual std::vector<KeySpec> function_keys() const { return {}; }
  virtual void encode_function_settings(const ActivateArgs &, std::vector<uint8_t> &,
                                        uint32_t /*nr_cpu_ids*/) const {}
  virtual void describe_function_settings(const std::vector<uint8_t> &, SettingsView &) const {}
  // Called with the keys as given; throw UsageError for combinations that
  // are wrong (e.g. a required key missing).
  virtual void check_keys(const ActivateArgs &) const {}
  // For check_keys of functions that must watch chosen tasks.
  void require_task_filter(const ActivateArgs &args) const;

  virtual void write_text_report(const DecodedReport &, const ReportContext &,
                                 std::ostream &) const = 0;
  virtual nlohmann::json json_report(const DecodedReport &, const ReportContext &) const = 0;

 private:
  std::vector<KeySpec> all_keys() const;
  void print_settings(const std::vector<uint8_t> &settings, const Backend &backend,
                      std::ostream &out) const;
  int activate(Backend &dev);
  int deactivate(Backend &dev);
  int settings(Backend &dev);
  int report(Backend &dev);
  int follow(Backend &dev);
  int render_file();
  std::vector<uint8_t> read_settings(Backend &dev);

  std::string name_;
  uint32_t id_;
  std::string description_;
  // parsed options
  std::string activate_text_;
  CLI::Option *activate_opt_ = nullptr;
  bool activate_ = false, deactivate_ = false, settings_ = false, report_ = false;
  bool follow_ = false;
  std::string render_file_;
  CLI::Option *render_opt_ = nullptr;
  double duration_ = 0;
  CLI::Option *duration_opt_ = nullptr;
  std::string format_ = "text";
  std::string backend_;
};

// The common part of every settings struct.
inline diag_common_settings &common_settings(std::vector<uint8_t> &s) {
  return *reinterpret_cast<diag_common_settings *>(s.data());
}
inline const diag_common_settings &common_settings(const std::vector<uint8_t> &s) {
  return *reinterpret_cast<const diag_common_settings *>(s.data());
}

}  // namespace diag
