// SPDX-License-Identifier: GPL-2.0-or-later
#include "function_command.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include <time.h>

#include "errors.h"

namespace diag {

namespace {

constexpr int64_t kPidMax = 4194304;  // PID_MAX_LIMIT on 64-bit

std::vector<KeySpec> common_keys() {
  using K = KeySpec::Kind;
  return {
      {"verbose", K::kInteger, 0, DIAG_VERBOSE_MAX, 0, "output level: 1 adds detail columns"},
      {"tgid", K::kInteger, 0, kPidMax, 0, "process (thread group) to watch"},
      {"pid", K::kInteger, 0, kPidMax, 0, "thread to watch"},
      {"comm", K::kString, 0, 0, DIAG_COMM_LEN - 1, "task name to watch"},
      {"buf-kib", K::kInteger, 1, DIAG_BUF_KIB_MAX, 0,
       "per-CPU buffer in KiB (default " + std::to_string(DIAG_BUF_KIB_DEFAULT) +
           ", less on machines with little RAM per CPU)"},
  };
}

// The Tgid line of /proc/N/status, or -1 when there is no task N.
int64_t proc_tgid(int64_t id) {
  std::ifstream in("/proc/" + std::to_string(id) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Tgid:", 0) == 0) return std::stoll(line.substr(5));
  return -1;
}

void check_task_exists(const ActivateArgs &args) {
  if (args.has("tgid") && args.integer("tgid", 0) != 0) {
    int64_t tgid = args.integer("tgid", 0);
    if (proc_tgid(tgid) != tgid)
      throw UsageError("no process with tgid " + std::to_string(tgid));
  }
  if (args.has("pid") && args.integer("pid", 0) != 0) {
    int64_t pid = args.integer("pid", 0);
    if (proc_tgid(pid) < 0)
      throw UsageError("no thread with pid " + std::to_string(pid));
  }
}

std::string verb_name(uint32_t verb) {
  switch (verb) {
    case DIAG_VERB_ACTIVATE:
      return "activate";
    case DIAG_VERB_DEACTIVATE:
      return "deactivate";
    case DIAG_VERB_SETTINGS:
      return "settings";
    default:
      return "report";
  }
}

// Set by SIGINT/SIGTERM during --follow: finish the stream and exit 0.
volatile std::sig_atomic_t g_stop_follow = 0;

void on_stop_signal(int) { g_stop_follow = 1; }

// How often --follow drains the module's buffers.
constexpr auto kFollowPoll = std::chrono::milliseconds(200);

// Every function's live output unless it streams finer: each batch with
// something in it as a report of its own (text) or one JSON line.
class BatchReportStream : public ReportStream {
 public:
  BatchReportStream(const FunctionCommand &cmd, const ReportContext &ctx, bool json,
                    std::ostream &out)
      : cmd_(cmd), ctx_(ctx), json_(json), out_(out) {}
  void batch(const DecodedReport &report) override {
    if (report.records.empty() && report.lost_by_cpu.empty()) return;
    if (json_) {
      nlohmann::json j = cmd_.json_report_of(report, ctx_);
      out_ << j.dump() << '\n';
    } else {
      cmd_.render_report(report, ctx_, false, out_);
    }
  }

 private:
  const FunctionCommand &cmd_;
  const ReportContext &ctx_;
  bool json_;
  std::ostream &out_;
};

}  // namespace

void write_lost_lines(const DecodedReport &report, std::ostream &out) {
  for (const auto &[cpu, n] : report.lost_by_cpu)
    out << "LOST: " << n << " records on CPU " << cpu
        << " since the last report (buffer full; raise buf-kib)\n";
}

void RecordStream::write_losses(const DecodedReport &report) {
  lost_total_ = report.lost_total;
  if (report.lost_by_cpu.empty()) return;
  if (json_) {
    nlohmann::json j = lost_json(report);
    j["type"] = "lost";
    out_ << j.dump() << '\n';
  } else {
    write_lost_lines(report, out_);
  }
}

void RecordStream::end() {
  if (!json_) out_ << "LOST TOTAL: " << lost_total_ << '\n';
}

void FunctionCommand::require_task_filter(const ActivateArgs &args) const {
  if (args.integer("pid", 0) == 0 && args.integer("tgid", 0) == 0 && !args.has("comm"))
    throw UsageError(name_ + " needs a task to watch: pid=, tgid= or comm=");
}

nlohmann::json lost_json(const DecodedReport &report) {
  nlohmann::json by_cpu = nlohmann::json::object();
  for (const auto &[cpu, n] : report.lost_by_cpu) by_cpu[std::to_string(cpu)] = n;
  return {{"lost", report.lost_total}, {"lost_since_last_report", by_cpu}};
}

void SettingsView::add(const std::string &label, const std::string &key,
                       const nlohmann::json &value, const std::string &text) {
  lines.push_back({label, key, value, text});
}

FunctionCommand::FunctionCommand(std::string name, uint32_t id, std::string description)
    : name_(std::move(name)), id_(id), description_(std::move(description)) {}

std::vector<KeySpec> FunctionCommand::all_keys() const {
  auto keys = common_keys();
  for (auto &k : function_keys()) keys.push_back(std::move(k));
  return keys;
}

CLI::App *FunctionCommand::setup(CLI::App &app) {
  CLI::App *sub = app.add_subcommand(name_, description_);
  activate_opt_ = sub->add_option("--activate", activate_text_,
                                  "start the function with settings 'key=value,key=value'")
                      ->expected(0, 1);
  sub->add_flag("--deactivate", deactivate_, "stop the function and free its buffers");
  sub->add_flag("--settings", settings_, "print the current settings");
  sub->add_flag("--report", report_, "print and clear what was recorded");
  sub->add_flag("--follow", follow_,
                "with --report: keep printing records as they arrive, until interrupted");
  duration_opt_ = sub->add_option("--duration", duration_,
                                  "with --follow: stop after SEC seconds")
                      ->type_name("SEC")
                      ->check(CLI::Validator(
                          [](std::string &v) -> std::string {
                            try {
                              size_t used = 0;
                              double d = std::stod(v, &used);
                              if (used == v.size() && d > 0 && d < 1e9) return "";
                            } catch (const std::exception &) {
                            }
                            return "'" + v + "' is not a positive number of seconds";
                          },
                          "SEC"));
  sub->add_option("--format", format_, "output format of --report and --settings")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::string footer = "--activate keys:\n";
  for (const auto &k : all_keys()) {
    std::string left = "  " + k.name;
    left.resize(std::max<size_t>(left.size() + 2, 16), ' ');
    footer += left + k.help + "\n";
  }
  footer += "\nExit status: 0 ok, 1 the module refused (reason printed), 2 bad usage,\n"
            "3 module not loaded, not root, or ABI mismatch.";
  sub->footer(footer);
  return sub;
}

std::vector<uint8_t> FunctionCommand::encode_settings(const std::string &activate,
                                                      uint32_t nr_cpu_ids) const {
  ActivateArgs args = parse_activate(activate, all_keys());
  check_keys(args);
  std::vector<uint8_t> s(settings_size(), 0);
  auto &c = common_settings(s);
  c.verbose = static_cast<uint32_t>(args.integer("verbose", 0));
  c.tgid = static_cast<int32_t>(args.integer("tgid", 0));
  c.pid = static_cast<int32_t>(args.integer("pid", 0));
  std::string comm = args.string("comm");
  std::memcpy(c.comm, comm.data(), std::min(comm.size(), sizeof(c.comm) - 1));
  c.buf_kib = static_cast<uint32_t>(args.integer("buf-kib", 0));
  encode_function_settings(args, s, nr_cpu_ids);
  return s;
}

SettingsView FunctionCommand::describe_settings(const std::vector<uint8_t> &s) const {
  const auto &c = common_settings(s);
  SettingsView v;
  v.add("Activated", "activated", c.activated != 0, c.activated ? "yes" : "no");
  v.add("TGID", "tgid", c.tgid);
  v.add("PID", "pid", c.pid);
  std::string comm(c.comm, strnlen(c.comm, sizeof(c.comm)));
  v.add("COMM", "comm", comm, comm);
  v.add("Verbose", "verbose", c.verbose);
  v.add("Buffer (KiB per CPU)", "buf_kib", c.buf_kib);
  describe_function_settings(s, v);
  return v;
}

void FunctionCommand::print_settings(const std::vector<uint8_t> &s, std::ostream &out) const {
  SettingsView v = describe_settings(s);
  if (format_ == "json") {
    nlohmann::json j;
    j["function"] = name_;
    for (const auto &l : v.lines) j[l.key] = l.value;
    out << j.dump(2) << '\n';
    return;
  }
  out << "Settings:\n";
  for (const auto &l : v.lines) out << "    " << l.label << ": " << l.text << '\n';
}

std::vector<uint8_t> FunctionCommand::read_settings(Device &dev) {
  std::vector<uint8_t> s(settings_size(), 0);
  dev.call(id_, DIAG_VERB_SETTINGS, s.data(), static_cast<uint32_t>(s.size()));
  return s;
}

int FunctionCommand::activate(Device &dev) {
  auto s = encode_settings(activate_text_, dev.version().nr_cpu_ids);
  dev.call(id_, DIAG_VERB_ACTIVATE, s.data(), static_cast<uint32_t>(s.size()));
  std::cout << "Activation succeeded, return value: 0\n";
  print_settings(read_settings(dev), std::cout);
  return kExitOk;
}

int FunctionCommand::deactivate(Device &dev) {
  dev.call(id_, DIAG_VERB_DEACTIVATE, nullptr, 0);
  // the seed tools' wording, which scripts look for
  std::cout << name_ << " is not activated\n";
  return kExitOk;
}

int FunctionCommand::settings(Device &dev) {
  print_settings(read_settings(dev), std::cout);
  return kExitOk;
}

int FunctionCommand::report(Device &dev) {
  auto s = read_settings(dev);
  ReportBytes bytes = dev.report(id_);
  DecodedReport decoded = decode_records(bytes);
  render_report(decoded, ReportContext{s, dev.version()}, format_ == "json", std::cout);
  return kExitOk;
}

void FunctionCommand::render_report(const DecodedReport &decoded, const ReportContext &ctx,
                                    bool json, std::ostream &out) const {
  if (json) {
    out << json_report_of(decoded, ctx).dump(2) << '\n';
    return;
  }
  if (!decoded.lost_by_cpu.empty())
    out << "WARNING: records were lost since the last report (buffer full); the counts below "
           "are incomplete: raise buf-kib or report more often\n";
  write_text_report(decoded, ctx, out);
  write_lost_lines(decoded, out);
  out << "LOST TOTAL: " << decoded.lost_total << '\n';
}

nlohmann::json FunctionCommand::json_report_of(const DecodedReport &decoded,
                                               const ReportContext &ctx) const {
  nlohmann::json j = json_report(decoded, ctx);
  j["function"] = name_;
  j.update(lost_json(decoded));
  return j;
}

std::unique_ptr<ReportStream> FunctionCommand::make_stream(const ReportContext &ctx, bool json,
                                                           std::ostream &out) const {
  return std::make_unique<BatchReportStream>(*this, ctx, json, out);
}

int FunctionCommand::follow(Device &dev) {
  auto s = read_settings(dev);
  ReportContext ctx{s, dev.version()};
  auto stream = make_stream(ctx, format_ == "json", std::cout);

  // A signal ends the loop at its next turn; no SA_RESTART, so it also
  // cuts the wait short.
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  using Clock = std::chrono::steady_clock;
  const bool timed = duration_opt_->count() > 0;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(duration_));
  // the first drain also says at once when the function is not active
  ReportBytes first = dev.report(id_);
  stream->begin();
  try {
    for (bool have = true;; have = false) {
      // decoded views point into bytes: keep them together
      ReportBytes bytes = have ? std::move(first) : dev.report(id_);
      stream->batch(decode_records(bytes));
      std::cout.flush();
      if (g_stop_follow || (timed && Clock::now() >= deadline)) break;
      auto wait = kFollowPoll;
      if (timed)
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - Clock::now()) +
                                  std::chrono::milliseconds(1));
      struct timespec ts = {0, static_cast<long>(wait.count()) * 1000000L};
      nanosleep(&ts, nullptr);  // EINTR on a signal: checked above
      if (g_stop_follow) {
        // one more drain so that nothing recorded before the signal is left
        ReportBytes last = dev.report(id_);
        stream->batch(decode_records(last));
        break;
      }
    }
  } catch (...) {
    stream->end();
    std::cout.flush();
    throw;
  }
  stream->end();
  std::cout.flush();
  return kExitOk;
}

int FunctionCommand::run() {
  activate_ = activate_opt_->count() > 0;
  int chosen = activate_ + deactivate_ + settings_ + report_;
  if (chosen != 1)
    throw UsageError("choose exactly one of --activate, --settings, --report, "
                     "--deactivate (see --help)");
  if (follow_ && !report_) throw UsageError("--follow goes with --report");
  if (duration_opt_->count() && !follow_) throw UsageError("--duration goes with --report --follow");
  uint32_t verb = activate_     ? DIAG_VERB_ACTIVATE
                  : deactivate_ ? DIAG_VERB_DEACTIVATE
                  : settings_   ? DIAG_VERB_SETTINGS
                                : DIAG_VERB_REPORT;
  if (activate_) {
    // bad input is reported before the kernel is touched
    ActivateArgs args = parse_activate(activate_text_, all_keys());
    check_keys(args);
    check_task_exists(args);
  }
  Device dev = Device::open();
  try {
    switch (verb) {
      case DIAG_VERB_ACTIVATE:
        return activate(dev);
      case DIAG_VERB_DEACTIVATE:
        return deactivate(dev);
      case DIAG_VERB_SETTINGS:
        return settings(dev);
      default:
        return follow_ ? follow(dev) : report(dev);
    }
  } catch (const KernelError &e) {
    // the seed tools' shape, with the reason: one line
    std::cerr << verb_name(verb) << " " << name_ << " fail, ret is -" << e.err() << ": "
              << e.what() << " [" << errno_name(e.err()) << "]\n";
    return kExitFailed;
  }
}

}  // namespace diag
