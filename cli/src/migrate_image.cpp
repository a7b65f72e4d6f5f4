// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools migrate-image: every CPU migration of the watched tasks.
#include "migrate_image.h"

#include <map>

#include "kallsyms.h"
#include "migrate_causes.h"
#include "output.h"
#include "text_table.h"

namespace diag {

std::vector<MigrateImageThread> group_migrations(const DecodedReport &report) {
  std::vector<MigrateImageThread> threads;
  std::map<int32_t, size_t> index;  // pid -> position in threads
  for (const auto &rec : report.records) {
    if (rec.type() != DIAG_REC_MIGRATE) continue;
    auto m = rec.as<diag_migrate_record>();
    auto [it, added] = index.try_emplace(m.pid, threads.size());
    if (added) threads.push_back({});
    MigrateImageThread &t = threads[it->second];
    t.events.push_back(m);
    if (m.flags & DIAG_MIGRATE_FORK_PLACEMENT)
      ++t.fork_placements;
    else
      ++t.migrations;
  }
  return threads;
}

namespace {

std::string cause_text(const diag_migrate_record &m) {
  std::string s = migrate_cause_name(m.cause);
  if (m.flags & DIAG_MIGRATE_SRC_DISALLOWED && m.cause != DIAG_CAUSE_MIGRATE_TASK)
    s += "(affinity)";
  return s;
}

}  // namespace

class MigrateImageCommand : public FunctionCommand {
 public:
  MigrateImageCommand()
      : FunctionCommand("migrate-image", DIAG_FN_MIGRATE_IMAGE,
                        "CPU migrations of a process or thread: when, from where to where, "
                        "why, and the task's load, memory and I/O at that moment") {}

 protected:
  size_t settings_size() const override { return sizeof(diag_migrate_image_settings); }

  void write_text_report(const DecodedReport &report, const ReportContext &ctx,
                         std::ostream &out) const override {
    const bool verbose = common_settings(ctx.settings).verbose > 0;
    const KernelSymbols empty;
    const KernelSymbols &ksyms = verbose ? ctx.res().kernel_symbols() : empty;

    out << "-----------------MIGRATE_IMAGE---------------------\n";
    auto threads = group_migrations(report);
    if (threads.empty()) out << "no migrations recorded\n";
    for (const auto &t : threads) {
      const auto &first = t.events.front();
      out << "PID: " << first.pid << "   TGID: " << first.tgid
          << "   COMM: " << printable(comm_of(first.comm))
          << ((first.flags & DIAG_MIGRATE_KTHREAD) ? " [kernel thread]" : "")
          << "   Time :" << format_seed_time(first.hdr.ts_ns, report.real_minus_mono_ns) << '\n';
      out << "PRIO: " << t.events.back().prio << "        COUNT: " << t.migrations
          << "        FORK_PLACEMENTS: " << t.fork_placements << '\n';
      std::vector<std::string> headers = {"Time_Stamp", "ocpu",   "dcpu",  "PLoad_AVG",
                                          "Putil_AVG",  "RSS_KB", "READ",  "WRITE",
                                          "CAUSE"};
      if (verbose) headers.insert(headers.end(), {"PRIO", "CALLER"});
      TextTable table(headers);
      for (const auto &m : t.events) {
        std::vector<std::string> row = {
            std::to_string(m.hdr.ts_ns), std::to_string(m.orig_cpu),
            std::to_string(m.dest_cpu),  std::to_string(m.load_avg),
            std::to_string(m.util_avg),  std::to_string(m.rss_bytes / 1024),
            std::to_string(m.rchar),     std::to_string(m.wchar),
            cause_text(m)};
        if (verbose) {
          row.push_back(std::to_string(m.prio));
          row.push_back(m.caller ? printable(ksyms.describe(m.caller)) : "-");
        }
        table.add_row(std::move(row));
      }
      table.print(out);
      out << '\n';
    }
  }

  nlohmann::json json_report(const DecodedReport &report,
                             const ReportContext &ctx) const override {
    const bool verbose = common_settings(ctx.settings).verbose > 0;
    const KernelSymbols empty;
    const KernelSymbols &ksyms = verbose ? ctx.res().kernel_symbols() : empty;

    nlohmann::json tasks = nlohmann::json::array();
    uint64_t total = 0;
    std::map<std::string, uint64_t> by_cause;
    for (const auto &t : group_migrations(report)) {
      const auto &first = t.events.front();
      nlohmann::json events = nlohmann::json::array();
      for (const auto &m : t.events) {
        nlohmann::json e = {
            {"ts_ns", m.hdr.ts_ns},
            {"time", format_iso_time(m.hdr.ts_ns, report.real_minus_mono_ns)},
            {"recorded_on_cpu", m.hdr.cpu},
            {"orig_cpu", m.orig_cpu},
            {"dest_cpu", m.dest_cpu},
            {"cause", migrate_cause_name(m.cause)},
            {"fork_placement", (m.flags & DIAG_MIGRATE_FORK_PLACEMENT) != 0},
            {"src_cpu_disallowed", (m.flags & DIAG_MIGRATE_SRC_DISALLOWED) != 0},
            {"prio", m.prio},
            {"load_avg", m.load_avg},
            {"util_avg", m.util_avg},
            {"rss_bytes", m.rss_bytes},
            {"rchar", m.rchar},
            {"wchar", m.wchar},
            {"read_bytes", m.read_bytes},
            {"write_bytes", m.write_bytes},
        };
        if (verbose && m.caller) e["caller"] = ksyms.describe(m.caller);
        if (!(m.flags & DIAG_MIGRATE_FORK_PLACEMENT)) ++by_cause[migrate_cause_name(m.cause)];
        events.push_back(std::move(e));
      }
      total += t.migrations;
      tasks.push_back({{"pid", first.pid},
                       {"tgid", first.tgid},
                       {"comm", comm_of(first.comm)},
                       {"kernel_thread", (first.flags & DIAG_MIGRATE_KTHREAD) != 0},
                       {"migrations", t.migrations},
                       {"fork_placements", t.fork_placements},
                       {"events", std::move(events)}});
    }
    return {{"units", {{"ts_ns", "CLOCK_MONOTONIC ns"}, {"rss_bytes", "bytes"},
                       {"rchar", "bytes, cumulative"}, {"wchar", "bytes, cumulative"}}},
            {"migrations", total},
            {"by_cause", by_cause},
            {"tasks", std::move(tasks)}};
  }
};

std::unique_ptr<FunctionCommand> make_migrate_image_command() {
  return std::make_unique<MigrateImageCommand>();
}

}  // namespace diag
