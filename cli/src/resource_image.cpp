// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools resource-image: CPU, memory and I/O of a process or thread
// per interval, measured at its own task switches.
#include "resource_image.h"

#include <string.h>

#include <cstdio>
#include <map>

#include "cpu_list.h"
#include "errors.h"
#include "output.h"
#include "report_format.h"
#include "text_table.h"

namespace diag {

namespace {

const std::vector<std::string> kHeaders = {"TIME",   "TGID",   "PID",  "COMM",    "INTERVAL",
                                           "CPU%",   "CPU",    "RSS_KB", "MEM%",  "READ_B",
                                           "WRITE_B", "READ/s", "WRITE/s", "NOTE"};
const std::vector<size_t> kWidths = {15, 7, 7, 15, 9, 6, 4, 9, 5, 10, 10, 10, 10, 0};

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string table_full_text(const diag_resource_record &r) {
  return "WARNING: the task table is full: task " + std::to_string(r.pid) + " (" + comm_of(r.comm) +
         ") and maybe others are not tracked; raise max-tasks";
}

std::string sample_line(const ResourceSample &s, int64_t real_minus_mono) {
  const auto &r = s.rec;
  std::string cpu = s.cpus.size() > 1 ? format_cpu_list(s.cpus) : std::to_string(r.cpu);
  return fixed_columns(
      {format_clock_time(r.hdr.ts_ns, real_minus_mono), std::to_string(r.tgid),
       std::to_string(r.pid), printable(comm_of(r.comm)), format_duration(s.interval_ns),
       fixed(s.cpu_percent, 1), cpu, std::to_string(r.rss_bytes / 1024),
       fixed(s.mem_percent, 1), std::to_string(r.rchar), std::to_string(r.wchar),
       format_rate(s.rchar_per_sec), format_rate(s.wchar_per_sec),
       (r.flags & DIAG_RI_EXITED) ? "exited" : (r.flags & DIAG_RI_OFF_CPU) ? "off-cpu" : ""},
      kWidths);
}

nlohmann::json sample_json(const ResourceSample &s, int64_t real_minus_mono) {
  const auto &r = s.rec;
  return {
      {"ts_ns", r.hdr.ts_ns},
      {"time", format_iso_time(r.hdr.ts_ns, real_minus_mono)},
      {"start_ns", r.start_ns},
      {"interval_ns", s.interval_ns},
      {"pid", r.pid},
      {"tgid", r.tgid},
      {"comm", comm_of(r.comm)},
      {"cpu", r.cpu},
      {"cpus", s.cpus},
      {"cpu_ns", r.cpu_ns},
      {"cpu_percent", s.cpu_percent},
      {"cpu_total_ns", r.cpu_total_ns},
      {"rss_bytes", r.rss_bytes},
      {"rss_unsynced_bytes", r.rss_unsynced_bytes},
      {"mem_percent", s.mem_percent},
      {"total_ram_bytes", r.total_ram_bytes},
      {"rchar", r.rchar},
      {"wchar", r.wchar},
      {"rchar_per_sec", s.rchar_per_sec},
      {"wchar_per_sec", s.wchar_per_sec},
      {"read_bytes", r.read_bytes},
      {"write_bytes", r.write_bytes},
      {"rchar_total", r.rchar_total},
      {"wchar_total", r.wchar_total},
      {"nvcsw", r.nvcsw},
      {"nivcsw", r.nivcsw},
      {"exited", (r.flags & DIAG_RI_EXITED) != 0},
      {"while_running", (r.flags & DIAG_RI_RUNNING) != 0},
      {"off_cpu", (r.flags & DIAG_RI_OFF_CPU) != 0},
      {"kernel_thread", (r.flags & DIAG_RI_KTHREAD) != 0},
  };
}

void write_header(std::ostream &out) {
  out << "RESOURCE ---------------------------------------------------------------------\n";
  out << fixed_columns(kHeaders, kWidths) << '\n';
}

class ResourceStream : public RecordStream {
 public:
  ResourceStream(bool json, std::ostream &out) : RecordStream(json, out) {}
  void begin() override {
    if (!json_) write_header(out_);
  }
  void batch(const DecodedReport &report) override {
    for (const auto &view : report.records) {
      if (view.type() != DIAG_REC_RESOURCE) continue;
      auto rec = view.as<diag_resource_record>();
      if (rec.flags & DIAG_RI_TABLE_FULL) {
        if (json_)
          out_ << dump_json({{"type", "warning"}, {"message", table_full_text(rec)}}) << '\n';
        else
          out_ << printable(table_full_text(rec)) << '\n';
        continue;
      }
      ResourceSample s = derive_sample(rec);
      if (json_) {
        nlohmann::json j = sample_json(s, report.real_minus_mono_ns);
        j["type"] = "sample";
        out_ << dump_json(j) << '\n';
      } else {
        out_ << sample_line(s, report.real_minus_mono_ns) << '\n';
      }
    }
    write_losses(report);
  }
};

class ResourceImageCommand : public FunctionCommand {
 public:
  ResourceImageCommand()
      : FunctionCommand("resource-image", DIAG_FN_RESOURCE_IMAGE,
                        "CPU, memory and I/O of a process or thread per interval, measured "
                        "at its own task switches (so short bursts and short-lived threads "
                        "are not missed)") {}

  std::unique_ptr<ReportStream> make_stream(const ReportContext &, bool json,
                                            std::ostream &out) const override {
    return std::make_unique<ResourceStream>(json, out);
  }

 protected:
  size_t settings_size() const override { return sizeof(diag_resource_image_settings); }

  std::vector<KeySpec> function_keys() const override {
    using K = KeySpec::Kind;
    return {
        {"interval", K::kInteger, DIAG_RI_INTERVAL_MS_MIN, DIAG_RI_INTERVAL_MS_MAX, 0,
         "sample period per task in ms (default " +
             std::to_string(DIAG_RI_INTERVAL_MS_DEFAULT) + ")"},
        {"max-tasks", K::kInteger, 1, DIAG_RI_TASKS_MAX, 0,
         "tasks tracked at once (default " + std::to_string(DIAG_RI_TASKS_DEFAULT) + ")"},
    };
  }

  void check_keys(const ActivateArgs &args) const override {
    require_task_filter(args);
  }

  void encode_function_settings(const ActivateArgs &args, std::vector<uint8_t> &s,
                                uint32_t) const override {
    auto &r = *reinterpret_cast<diag_resource_image_settings *>(s.data());
    r.interval_ms =
        static_cast<uint32_t>(args.integer("interval", DIAG_RI_INTERVAL_MS_DEFAULT));
    r.max_tasks = static_cast<uint32_t>(args.integer("max-tasks", DIAG_RI_TASKS_DEFAULT));
  }

  void describe_function_settings(const std::vector<uint8_t> &s,
                                  SettingsView &v) const override {
    const auto &r = *reinterpret_cast<const diag_resource_image_settings *>(s.data());
    v.add("Interval (ms)", "interval_ms", r.interval_ms);
    v.add("Max tasks", "max_tasks", r.max_tasks);
  }

  void write_text_report(const DecodedReport &decoded, const ReportContext &,
                         std::ostream &out) const override {
    ResourceReport rep = build_resource_report(decoded);
    write_header(out);
    if (rep.table_full) {
      for (const auto &view : decoded.records) {
        auto rec = view.as<diag_resource_record>();
        if (view.type() == DIAG_REC_RESOURCE && (rec.flags & DIAG_RI_TABLE_FULL))
          out << printable(table_full_text(rec)) << '\n';
      }
    }
    if (rep.samples.empty()) out << "no samples recorded\n";
    for (const auto &s : rep.samples)
      out << sample_line(s, decoded.real_minus_mono_ns) << '\n';
    if (rep.tasks.empty()) return;
    out << "\nTOTALS -----------------------------------------------------------------------\n";
    TextTable t({"TGID", "PID", "COMM", "SAMPLES", "SPAN", "CPU_TIME", "CPU%", "MAX_RSS_KB",
                 "READ_B", "WRITE_B", "NOTE"});
    for (const auto &k : rep.tasks) {
      uint64_t span = k.last_end_ns > k.first_start_ns ? k.last_end_ns - k.first_start_ns : 0;
      t.add_row({std::to_string(k.tgid), std::to_string(k.pid), printable(k.comm),
                 std::to_string(k.samples), format_duration(span), format_duration(k.cpu_ns),
                 fixed(span ? 100.0 * k.cpu_ns / span : 0, 1),
                 std::to_string(k.max_rss_bytes / 1024), std::to_string(k.rchar),
                 std::to_string(k.wchar), k.exited ? "exited" : ""});
    }
    t.print(out);
  }

  nlohmann::json json_report(const DecodedReport &decoded,
                             const ReportContext &ctx) const override {
    ResourceReport rep = build_resource_report(decoded);
    const auto &settings =
        *reinterpret_cast<const diag_resource_image_settings *>(ctx.settings.data());
    nlohmann::json samples = nlohmann::json::array();
    for (const auto &s : rep.samples) samples.push_back(sample_json(s, decoded.real_minus_mono_ns));
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto &k : rep.tasks)
      tasks.push_back({{"pid", k.pid},
                       {"tgid", k.tgid},
                       {"comm", k.comm},
                       {"samples", k.samples},
                       {"start_ns", k.first_start_ns},
                       {"end_ns", k.last_end_ns},
                       {"cpu_ns", k.cpu_ns},
                       {"rchar", k.rchar},
                       {"wchar", k.wchar},
                       {"read_bytes", k.read_bytes},
                       {"write_bytes", k.write_bytes},
                       {"max_rss_bytes", k.max_rss_bytes},
                       {"last_rss_bytes", k.last_rss_bytes},
                       {"exited", k.exited}});
    return {{"units", {{"ts_ns", "CLOCK_MONOTONIC ns"},
                       {"cpu_percent", "percent of the interval (100 = one CPU)"},
                       {"rchar", "bytes in the interval"},
                       {"rchar_per_sec", "bytes per second"}}},
            {"interval_ms", settings.interval_ms},
            {"table_full", rep.table_full},
            {"samples", std::move(samples)},
            {"tasks", std::move(tasks)}};
  }
};

}  // namespace

ResourceSample derive_sample(const diag_resource_record &rec) {
  ResourceSample s;
  s.rec = rec;
  s.interval_ns = rec.hdr.ts_ns > rec.start_ns ? rec.hdr.ts_ns - rec.start_ns : 0;
  if (s.interval_ns) {
    double secs = s.interval_ns / 1e9;
    s.cpu_percent = 100.0 * rec.cpu_ns / s.interval_ns;
    s.rchar_per_sec = rec.rchar / secs;
    s.wchar_per_sec = rec.wchar / secs;
  }
  if (rec.total_ram_bytes) s.mem_percent = 100.0 * rec.rss_bytes / rec.total_ram_bytes;
  for (uint32_t cpu = 0; cpu < 64; ++cpu)
    if (rec.cpus & (1ull << cpu)) s.cpus.push_back(cpu);
  return s;
}

ResourceReport build_resource_report(const DecodedReport &report) {
  ResourceReport rep;
  std::map<int32_t, size_t> index;
  for (const auto &view : report.records) {
    if (view.type() != DIAG_REC_RESOURCE) continue;
    auto rec = view.as<diag_resource_record>();
    if (rec.flags & DIAG_RI_TABLE_FULL) {
      rep.table_full = true;
      continue;
    }
    rep.samples.push_back(derive_sample(rec));
    auto [it, added] = index.try_emplace(rec.pid, rep.tasks.size());
    if (added) {
      ResourceTaskTotals t;
      t.pid = rec.pid;
      t.tgid = rec.tgid;
      t.first_start_ns = rec.start_ns;
      rep.tasks.push_back(t);
    }
    ResourceTaskTotals &t = rep.tasks[it->second];
    t.comm = comm_of(rec.comm);
    ++t.samples;
    t.last_end_ns = rec.hdr.ts_ns;
    t.cpu_ns = sat_add(t.cpu_ns, rec.cpu_ns);
    t.rchar = sat_add(t.rchar, rec.rchar);
    t.wchar = sat_add(t.wchar, rec.wchar);
    t.read_bytes = sat_add(t.read_bytes, rec.read_bytes);
    t.write_bytes = sat_add(t.write_bytes, rec.write_bytes);
    t.max_rss_bytes = std::max<uint64_t>(t.max_rss_bytes, rec.rss_bytes);
    t.last_rss_bytes = rec.rss_bytes;
    t.exited = t.exited || (rec.flags & DIAG_RI_EXITED);
  }
  return rep;
}

std::unique_ptr<FunctionCommand> make_resource_image_command() {
  return std::make_unique<ResourceImageCommand>();
}

}  // namespace diag
