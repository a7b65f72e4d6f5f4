// SPDX-License-Identifier: GPL-2.0-or-later
#include "function_command.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <time.h>

#include "errors.h"
#include "output.h"

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

// A drain that failed after earlier calls had drained records, which were
// rescued: the whole error line, rescue file included.
class PartialDrainError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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
      out_ << dump_json(j) << '\n';
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
    out_ << dump_json(j) << '\n';
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
  render_opt_ = sub->add_option("--render", render_file_,
                                "print the records of a rescue file (written when a report "
                                "could not be printed) as --report would; takes --report's "
                                "options")
                    ->type_name("FILE");
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
  sub->add_option("--backend", backend_,
                  "where the function runs: module (diagnose.ko), bpf (BPF programs) or auto "
                  "(default, or $DIAGNOSE_BACKEND: where it is active, else the module when it "
                  "is loaded or can be, else BPF)")
      ->check(CLI::IsMember({"auto", "module", "bpf"}));
  sub->add_option("--format", format_, "output format of --report and --settings")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::string footer = "--activate keys:\n";
  for (const auto &k : all_keys()) {
    std::string left = "  " + k.name;
    left.resize(std::max<size_t>(left.size() + 2, 16), ' ');
    footer += left + k.help + "\n";
  }
  footer += "\nExit status: 0 ok, 1 the module refused or the report failed (reason printed;\n"
            "records that were drained are kept in a rescue file), 2 bad usage, 3 module not\n"
            "loaded, not root, or ABI mismatch, 4 a malformed --render file.";
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

void FunctionCommand::print_settings(const std::vector<uint8_t> &s, const Backend &backend,
                                     std::ostream &out) const {
  SettingsView v = describe_settings(s);
  v.lines.insert(v.lines.begin() + 1,
                 {"Backend", "backend", backend.name(), backend.name()});
  if (format_ == "json") {
    nlohmann::json j;
    j["function"] = name_;
    for (const auto &l : v.lines) j[l.key] = l.value;
    out << dump_json(j, 2) << '\n';
    return;
  }
  out << "Settings:\n";
  for (const auto &l : v.lines) out << "    " << l.label << ": " << printable(l.text) << '\n';
}

std::vector<uint8_t> FunctionCommand::read_settings(Backend &dev) {
  std::vector<uint8_t> s(settings_size(), 0);
  dev.call(id_, DIAG_VERB_SETTINGS, s.data(), static_cast<uint32_t>(s.size()));
  return s;
}

int FunctionCommand::activate(Backend &dev) {
  auto s = encode_settings(activate_text_, dev.version().nr_cpu_ids);
  dev.call(id_, DIAG_VERB_ACTIVATE, s.data(), static_cast<uint32_t>(s.size()));
  std::cout << "Activation succeeded, return value: 0\n";
  print_settings(read_settings(dev), dev, std::cout);
  return kExitOk;
}

int FunctionCommand::deactivate(Backend &dev) {
  dev.call(id_, DIAG_VERB_DEACTIVATE, nullptr, 0);
  // the seed tools' wording, which scripts look for
  std::cout << name_ << " is not activated\n";
  return kExitOk;
}

int FunctionCommand::settings(Backend &dev) {
  print_settings(read_settings(dev), dev, std::cout);
  return kExitOk;
}

RescueHeader FunctionCommand::rescue_header(const std::vector<uint8_t> &settings,
                                           const diag_version &version) const {
  return RescueHeader{name_, id_, version, settings};
}

std::string FunctionCommand::rescue_line(const std::string &what, const RescueFile &file,
                                         uint64_t bytes, bool json) const {
  return what + "; the " + std::to_string(bytes) + " bytes of records drained are saved in " +
         file.path() + ": render them with 'diagnose-tools " + name_ + " --render " +
         file.path() + (json ? " --format json" : "") + "'";
}

int FunctionCommand::deliver_report(const std::vector<ReportBytes> &batches,
                                    const RescueHeader &header, ReportResources &resources,
                                    bool json, bool rescue, std::ostream &out,
                                    std::ostream &err) const {
  std::string failure;
  std::string text;
  try {
    DecodedReport decoded = decode_batches(batches);
    std::ostringstream os;
    render_report(decoded, ReportContext{header.settings, header.version, &resources}, json, os);
    text = std::move(os).str();
  } catch (const std::exception &e) {
    failure = std::string("the report could not be rendered (") + e.what() + ")";
  }
  if (failure.empty()) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (out) return kExitOk;
    failure = "the report could not be written to the output";
  }
  if (!rescue) {
    err << "diagnose-tools " << name_ << ": " << printable(failure) << '\n';
    return kExitFailed;
  }
  uint64_t bytes = 0;
  for (const auto &b : batches) bytes += b.data.size();
  try {
    RescueFile file = RescueFile::create(header, failure);
    for (const auto &b : batches) file.append(b);
    err << "diagnose-tools " << name_ << ": " << printable(rescue_line(failure, file, bytes, json))
        << '\n';
  } catch (const std::exception &e) {
    err << "diagnose-tools " << name_ << ": " << printable(failure) << "; the " << bytes
        << " bytes of records drained are lost: " << printable(e.what()) << '\n';
  }
  return kExitFailed;
}

// A drain that failed after earlier calls had drained records: those are
// kept in a rescue file, named on the error line, and the error goes on.
[[noreturn]] static void rescue_partial_drain(const FunctionCommand &cmd, const KernelError &e,
                                              const ReportBytes &drained, int rounds,
                                              const RescueHeader &header, bool json) {
  std::string what = "report " + cmd.name() + " fail, ret is -" + std::to_string(e.err()) +
                     ": " + e.what() + " [" + errno_name(e.err()) + "] after " +
                     std::to_string(rounds) + " successful calls";
  try {
    RescueFile file = RescueFile::create(header, what);
    file.append(drained);
    throw PartialDrainError(cmd.rescue_line(what, file, drained.data.size(), json));
  } catch (const PartialDrainError &) {
    throw;
  } catch (const std::exception &r) {
    throw PartialDrainError(what + "; the " + std::to_string(drained.data.size()) +
                            " bytes of records drained are lost: " + r.what());
  }
}

// Drains cmd's records into bytes; when a later call fails after earlier
// ones drained records, those go to a rescue file (rescue_partial_drain).
static void drain_or_rescue(const FunctionCommand &cmd, Backend &dev, ReportBytes &bytes,
                            const RescueHeader &header, bool json) {
  int rounds = 0;
  try {
    dev.report(cmd.id(), bytes, &rounds);
  } catch (const KernelError &e) {
    if (rounds > 0 && !bytes.empty()) rescue_partial_drain(cmd, e, bytes, rounds, header, json);
    throw;
  }
}

int FunctionCommand::report(Backend &dev) {
  auto s = read_settings(dev);
  const bool json = format_ == "json";
  const RescueHeader header = rescue_header(s, dev.version());
  ReportBytes bytes;
  drain_or_rescue(*this, dev, bytes, header, json);
  ReportResources resources;
  return deliver_report({std::move(bytes)}, header, resources, json, true, std::cout, std::cerr);
}

int FunctionCommand::render_file() {
  RescuedReport r = read_rescue_file(render_file_);
  if (r.header.function != name_)
    throw UsageError(render_file_ + " holds records of " + r.header.function +
                     ": render it with 'diagnose-tools " + r.header.function + " --render'");
  // a file of an older or newer module: its settings zero-extended or cut
  r.header.settings.resize(settings_size(), 0);
  ReportResources resources;
  return deliver_report(r.batches, r.header, resources, format_ == "json", false, std::cout,
                        std::cerr);
}

void FunctionCommand::render_report(const DecodedReport &decoded, const ReportContext &ctx,
                                    bool json, std::ostream &out) const {
  if (json) {
    out << dump_json(json_report_of(decoded, ctx), 2) << '\n';
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
  j["backend"] = backend_of(ctx.version);
  j.update(lost_json(decoded));
  return j;
}

std::unique_ptr<ReportStream> FunctionCommand::make_stream(const ReportContext &ctx, bool json,
                                                           std::ostream &out) const {
  return std::make_unique<BatchReportStream>(*this, ctx, json, out);
}

int FunctionCommand::follow(Backend &dev) {
  auto s = read_settings(dev);
  const bool json = format_ == "json";
  const RescueHeader header = rescue_header(s, dev.version());
  // one set of symbol tables, caches and snapshots for the whole session
  ReportResources resources;
  ReportContext ctx{s, dev.version(), &resources};
  // each batch is rendered here first, and written out only when whole
  std::ostringstream buf;
  auto stream = make_stream(ctx, json, buf);

  // A signal ends the loop at its next turn; no SA_RESTART, so it also
  // cuts the wait short.
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // Batches whose rendering fails go to one rescue file, and following
  // goes on; when the output itself fails, following stops (what is not
  // drained stays in the module).
  std::optional<RescueFile> rescue;
  uint64_t rescued_batches = 0, rescued_bytes = 0;
  bool output_failed = false;
  auto save = [&](const ReportBytes &bytes, const std::string &why) {
    try {
      if (!rescue) rescue.emplace(RescueFile::create(header, why));
      rescue->append(bytes);
      ++rescued_batches;
      rescued_bytes += bytes.data.size();
      if (rescued_batches == 1)
        std::cerr << "diagnose-tools " << name_ << ": "
                  << printable(rescue_line(why, *rescue, bytes.data.size(), json))
                  << " (later batches that fail are added to it)\n";
    } catch (const std::exception &e) {
      std::cerr << "diagnose-tools " << name_ << ": " << printable(why) << "; the "
                << bytes.data.size() << " bytes of records of this batch are lost: "
                << printable(e.what()) << '\n';
    }
  };
  auto flush_out = [&]() {
    const std::string text = std::move(buf).str();
    buf.str("");
    buf.clear();
    if (output_failed) return false;
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
    output_failed = !std::cout;
    return !output_failed;
  };
  auto take = [&](const ReportBytes &bytes) {
    std::string why;
    try {
      stream->batch(decode_records(bytes));
    } catch (const std::exception &e) {
      why = std::string("a batch could not be rendered (") + e.what() + ")";
    }
    if (!why.empty()) {
      buf.str("");  // what the failed batch wrote so far is not output
      buf.clear();
      save(bytes, why);
    } else if (!flush_out()) {
      save(bytes, "the output failed");
    }
  };
  auto drain = [&](ReportBytes &bytes) { drain_or_rescue(*this, dev, bytes, header, json); };

  using Clock = std::chrono::steady_clock;
  const bool timed = duration_opt_->count() > 0;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(duration_));
  // the first drain also says at once when the function is not active
  ReportBytes first;
  drain(first);
  stream->begin();
  flush_out();
  auto finish = [&] {
    try {
      stream->end();
    } catch (const std::exception &e) {
      buf.str("");
      buf.clear();
      std::cerr << "diagnose-tools " << name_ << ": the end of the output could not be rendered ("
                << printable(e.what()) << ")\n";
    }
    flush_out();
  };
  try {
    for (bool have = true; !output_failed; have = false) {
      ReportBytes bytes;
      if (have)
        bytes = std::move(first);
      else
        drain(bytes);
      take(bytes);
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
        ReportBytes last;
        drain(last);
        take(last);
        break;
      }
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  if (rescued_batches > 1)
    std::cerr << "diagnose-tools " << name_ << ": " << rescued_batches << " batches ("
              << rescued_bytes << " bytes of records) are saved in " << rescue->path() << '\n';
  return rescued_batches || output_failed ? kExitFailed : kExitOk;
}

int FunctionCommand::run() {
  activate_ = activate_opt_->count() > 0;
  const bool render = render_opt_->count() > 0;
  int chosen = activate_ + deactivate_ + settings_ + report_ + render;
  if (chosen != 1)
    throw UsageError("choose exactly one of --activate, --settings, --report, --render, "
                     "--deactivate (see --help)");
  if (follow_ && !report_) throw UsageError("--follow goes with --report");
  // the output of a report is checked, not a reason to die
  signal(SIGPIPE, SIG_IGN);
  if (render) return render_file();
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
  std::unique_ptr<Backend> dev =
      open_backend(backend_choice(backend_), id_, verb == DIAG_VERB_ACTIVATE);
  try {
    switch (verb) {
      case DIAG_VERB_ACTIVATE:
        return activate(*dev);
      case DIAG_VERB_DEACTIVATE:
        return deactivate(*dev);
      case DIAG_VERB_SETTINGS:
        return settings(*dev);
      default:
        return follow_ ? follow(*dev) : report(*dev);
    }
  } catch (const PartialDrainError &e) {
    std::cerr << printable(e.what()) << '\n';
    return kExitFailed;
  } catch (const KernelError &e) {
    // the seed tools' shape, with the reason: one line
    std::cerr << verb_name(verb) << " " << name_ << " fail, ret is -" << e.err() << ": "
              << printable(e.what()) << " [" << errno_name(e.err()) << "]\n";
    return kExitFailed;
  }
}

}  // namespace diag
