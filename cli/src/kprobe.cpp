// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools kprobe: every hit of one kernel function.
#include "kprobe.h"

#include <cstring>
#include <map>
#include <tuple>

#include "cgroups.h"
#include "cpu_list.h"
#include "errors.h"
#include "kallsyms.h"
#include "output.h"
#include "report_resources.h"
#include "user_stacks.h"

namespace diag {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::vector<uint32_t> settings_cpus(const diag_kprobe_settings &s) {
  std::vector<uint32_t> cpus;
  if (!s.cpus_set) return cpus;
  for (uint32_t c = 0; c < DIAG_CPUSET_WORDS * 64; ++c)
    if (s.cpus[c / 64] & (1ull << (c % 64))) cpus.push_back(c);
  return cpus;
}

bool is_symbol_name(const std::string &s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':'))
      return false;
  return true;
}

// What makes two hits the same block when aggregating.
using BlockKey = std::tuple<int32_t, int32_t, std::string, uint64_t, std::vector<uint64_t>,
                            std::vector<std::string>, std::vector<int32_t>>;

std::vector<std::string> frame_keys(const std::vector<StackFrame> &frames) {
  std::vector<std::string> keys;
  for (const auto &f : frames) keys.push_back(std::to_string(f.addr) + f.symbol + f.module);
  return keys;
}

}  // namespace

std::vector<KprobeBlock> kprobe_blocks(const DecodedReport &report, const KprobeReportOptions &opts,
                                       uint64_t *hits) {
  ReportResources resources;
  return kprobe_blocks(report, opts, resources, hits);
}

std::vector<KprobeBlock> kprobe_blocks(const DecodedReport &report, const KprobeReportOptions &opts,
                                       ReportResources &res, uint64_t *hits) {
  const KernelSymbols &ksyms = res.kernel_symbols();
  CgroupNames &cgroups = res.cgroups();
  UnwindOptions unwind;
  unwind.frame_pointers_only = opts.frame_pointers_only;
  UserStacks &ustacks = res.user_stacks(SymbolizeOptions{opts.lines}, unwind);
  ustacks.add_snapshots(report);
  std::vector<KprobeBlock> blocks;
  std::map<BlockKey, size_t> index;
  uint64_t n = 0;

  for (const auto &rec : report.records) {
    if (rec.type() != DIAG_REC_KPROBE) continue;
    auto r = rec.as<diag_kprobe_record>();
    ++n;
    size_t fixed = sizeof(diag_kprobe_record);
    std::span<const uint8_t> copy;
    if (rec.bytes.size() > fixed) copy = rec.bytes.subspan(fixed);
    UserStacks::Result user = ustacks.resolve(r.tgid, r.ustack, copy);

    StackBlock b;
    b.kernel = kernel_frames(r.kstack, ksyms);
    b.user = std::move(user.frames);
    b.process = comm_of(r.comm);
    for (uint32_t i = 0; i < std::min<uint32_t>(r.nr_chain, DIAG_CHAIN_MAX); ++i)
      b.chain.push_back({r.chain[i].pid, comm_of(r.chain[i].comm)});
    std::string cgroup = cgroups.path(r.cgroup_id);

    if (opts.aggregate) {
      std::vector<int32_t> chain_pids;
      for (const auto &l : b.chain) chain_pids.push_back(l.pid);
      std::vector<uint64_t> kips(r.kstack.ips, r.kstack.ips + b.kernel.size());
      BlockKey key{r.pid, r.tgid, b.process, r.cgroup_id, kips, frame_keys(b.user), chain_pids};
      auto [it, added] = index.try_emplace(key, blocks.size());
      if (!added) {
        KprobeBlock &kb = blocks[it->second];
        kb.block.count = sat_add(kb.block.count, 1);
        kb.last_ts_ns = r.hdr.ts_ns;
        kb.cpus.insert(r.hdr.cpu);
        continue;
      }
    }
    KprobeBlock kb;
    kb.first_ts_ns = kb.last_ts_ns = r.hdr.ts_ns;
    kb.cpus.insert(r.hdr.cpu);
    b.fields = {{"pid", r.pid},
                {"tgid", r.tgid},
                {"comm", b.process},
                {"cgroup", cgroup},
                {"cgroup_id", r.cgroup_id},
                {"kernel_thread", (r.flags & DIAG_KPROBE_KTHREAD) != 0},
                {"in_interrupt", (r.flags & DIAG_KPROBE_IN_IRQ) != 0},
                {"user_unwind", unwind_method_name(user.method)},
                {"user_stack_bytes", r.ustack.len},
                {"user_stack_truncated", user.truncated},
                {"user_maps", user.maps}};
    kb.block = std::move(b);
    blocks.push_back(std::move(kb));
  }
  if (hits) *hits = n;
  return blocks;
}

class KprobeCommand : public FunctionCommand {
 public:
  KprobeCommand()
      : FunctionCommand("kprobe", DIAG_FN_KPROBE,
                        "every hit of one kernel function: who hit it (pid, comm, cgroup, "
                        "process chain), the kernel stack and the symbolized user stack") {}

  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = FunctionCommand::setup(app);
    sub->add_flag("--lines", lines_,
                  "--report: add file:line and inlined frames to user stacks (DWARF)");
    sub->add_flag("--no-aggregate", no_aggregate_,
                  "--report: one block per hit instead of identical stacks aggregated");
    sub->add_option("--unwind", unwind_,
                    "--report: user stacks by CFI with frame-pointer fallback (auto), or by "
                    "frame pointers only (fp)")
        ->check(CLI::IsMember({"auto", "fp"}))
        ->capture_default_str();
    return sub;
  }

 protected:
  size_t settings_size() const override { return sizeof(diag_kprobe_settings); }

  std::vector<KeySpec> function_keys() const override {
    using K = KeySpec::Kind;
    return {
        {"probe", K::kString, 0, 0, DIAG_KPROBE_SYM_LEN - 1, "kernel function to probe (required)"},
        {"cpu", K::kCpuList, 0, 0, 0, "CPUs to watch, e.g. 0-16,23 (default: all)"},
        {"dump-style", K::kInteger, 0, 1, 0,
         "1: also print each hit to the kernel log (rate-limited)"},
        {"ustack-kib", K::kInteger, 0, DIAG_USTACK_KIB_MAX, 0,
         "user stack copied per hit, KiB (default " + std::to_string(DIAG_USTACK_KIB_DEFAULT) +
             "; 0 = default)"},
    };
  }

  void check_keys(const ActivateArgs &args) const override {
    if (!args.has("probe")) throw UsageError("give the function to probe: probe=FUNCTION");
    if (!is_symbol_name(args.string("probe")))
      throw UsageError("'probe' must be a kernel function name, got '" + args.string("probe") +
                       "'");
  }

  void encode_function_settings(const ActivateArgs &args, std::vector<uint8_t> &bytes,
                                uint32_t nr_cpu_ids) const override {
    auto &s = *reinterpret_cast<diag_kprobe_settings *>(bytes.data());
    std::string probe = args.string("probe");
    std::memcpy(s.probe, probe.data(), std::min(probe.size(), sizeof(s.probe) - 1));
    s.dump_style = static_cast<uint32_t>(args.integer("dump-style", 0));
    s.ustack_kib = static_cast<uint32_t>(args.integer("ustack-kib", 0));
    if (args.has("cpu")) {
      uint32_t max = std::min<uint32_t>(nr_cpu_ids, DIAG_CPUSET_WORDS * 64);
      for (uint32_t c : parse_cpu_list(args.string("cpu"), max)) s.cpus[c / 64] |= 1ull << (c % 64);
      s.cpus_set = 1;
    }
  }

  void describe_function_settings(const std::vector<uint8_t> &bytes,
                                  SettingsView &v) const override {
    const auto &s = *reinterpret_cast<const diag_kprobe_settings *>(bytes.data());
    std::string probe = comm_of(s.probe);
    v.add("Probe", "probe", probe, probe);
    v.add("Probe address", "probe_addr", hex(s.probe_addr), hex(s.probe_addr));
    auto cpus = settings_cpus(s);
    std::string cpu_text = cpus.empty() ? "all" : format_cpu_list(cpus);
    v.add("CPUs", "cpus", cpu_text, cpu_text);
    v.add("Dump style", "dump_style", s.dump_style);
    uint32_t kib = s.ustack_kib ? s.ustack_kib : DIAG_USTACK_KIB_DEFAULT;
    v.add("User stack copy (KiB)", "ustack_kib", kib);
    v.add("Missed (kprobe recursion)", "missed", static_cast<int64_t>(s.missed));
    v.add("Address spaces not tracked", "maps_dropped", static_cast<int64_t>(s.maps_dropped));
  }

  void write_text_report(const DecodedReport &report, const ReportContext &ctx,
                         std::ostream &out) const override {
    const auto &s = *reinterpret_cast<const diag_kprobe_settings *>(ctx.settings.data());
    const bool verbose = s.common.verbose > 0;
    uint64_t hits = 0;
    auto blocks = kprobe_blocks(report, options(), ctx.res(), &hits);
    out << "-----------------KPROBE---------------------\n";
    out << "PROBE: " << printable(comm_of(s.probe)) << "  HITS: " << hits
        << "  BLOCKS: " << blocks.size()
        << (options().aggregate ? "  (identical stacks of a task aggregated; #% is the count)"
                                : "  (one block per hit)")
        << '\n';
    unsigned seq = 0;
    for (auto &kb : blocks) {
      StackBlock &b = kb.block;
      const auto &f = b.fields;
      std::string when = format_seed_time(kb.first_ts_ns, report.real_minus_mono_ns);
      char seqbuf[16];
      std::snprintf(seqbuf, sizeof(seqbuf), "[%03u]", ++seq);
      b.header.push_back("KPROBE HIT: PID: " + std::to_string(f["pid"].get<int>()) + "[" +
                         printable(b.process) + "], TIME: " + when);
      b.header.push_back("##CGROUP:[" + printable(f["cgroup"].get<std::string>()) + "]  " +
                         std::to_string(f["pid"].get<int>()) + "      " + seqbuf +
                         "  KPROBE HIT, TIME: " + when);
      std::string cpus;
      for (auto c : kb.cpus) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
      std::string info = "    TGID: " + std::to_string(f["tgid"].get<int>()) + "  CPU: " + cpus;
      if (b.count > 1)
        info += "  HITS: " + std::to_string(b.count) + " (last at " +
                format_seed_time(kb.last_ts_ns, report.real_minus_mono_ns) + ")";
      if (f["kernel_thread"].get<bool>()) info += "  [kernel thread]";
      if (f["in_interrupt"].get<bool>()) info += "  [in interrupt]";
      b.header.push_back(info);
      if (verbose)
        b.header.push_back("    USER UNWIND: " + f["user_unwind"].get<std::string>() + ", " +
                           std::to_string(f["user_stack_bytes"].get<uint32_t>()) +
                           " stack bytes copied" +
                           (f["user_stack_truncated"].get<bool>() ? " (truncated)" : "") +
                           ", mappings: " + f["user_maps"].get<std::string>());
      write_stack_block(b, out);
    }
    out << "MISSED: " << s.missed << " hits skipped by the kernel's kprobe recursion guard\n";
    if (s.maps_dropped)
      out << "MAPS NOT TRACKED: " << s.maps_dropped
          << " user stacks of address spaces beyond the table (symbolized from /proc if alive)\n";
  }

  nlohmann::json json_report(const DecodedReport &report,
                             const ReportContext &ctx) const override {
    const auto &s = *reinterpret_cast<const diag_kprobe_settings *>(ctx.settings.data());
    uint64_t hits = 0;
    auto blocks = kprobe_blocks(report, options(), ctx.res(), &hits);
    nlohmann::json stacks = nlohmann::json::array();
    for (auto &kb : blocks) {
      kb.block.fields["ts_ns"] = kb.first_ts_ns;
      kb.block.fields["last_ts_ns"] = kb.last_ts_ns;
      kb.block.fields["time"] = format_iso_time(kb.first_ts_ns, report.real_minus_mono_ns);
      kb.block.fields["cpu"] = *kb.cpus.begin();
      kb.block.fields["cpus"] = kb.cpus;
      stacks.push_back(stack_block_json(kb.block));
    }
    return {{"probe", comm_of(s.probe)},
            {"probe_addr", hex(s.probe_addr)},
            {"hits", hits},
            {"aggregated", options().aggregate},
            {"missed", s.missed},
            {"maps_dropped", s.maps_dropped},
            {"units", {{"ts_ns", "CLOCK_MONOTONIC ns"}}},
            {"stacks", std::move(stacks)}};
  }

 private:
  KprobeReportOptions options() const { return {lines_, !no_aggregate_, unwind_ == "fp"}; }

  std::string unwind_ = "auto";
  bool lines_ = false;
  bool no_aggregate_ = false;
};

std::unique_ptr<FunctionCommand> make_kprobe_command() {
  return std::make_unique<KprobeCommand>();
}

}  // namespace diag
