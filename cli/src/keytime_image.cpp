// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools keytime-image: a process's life events (creations, exec,
// exit, on/off CPU with off-CPU kernel stacks).
#include "keytime_image.h"

#include <string.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>

#include "errors.h"
#include "kallsyms.h"
#include "output.h"
#include "report_format.h"
#include "report_resources.h"

namespace diag {

namespace {

// uapi/linux/sched.h; numbers are ABI.  0x80 is CLONE_NEWTIME: kernel_clone()
// flags never carry the exit signal, which the clone syscall keeps in the
// low byte and the module reports apart.
struct FlagName {
  uint64_t bit;
  const char *name;
};
constexpr FlagName kCloneFlags[] = {
    {0x80, "CLONE_NEWTIME"},
    {0x100, "CLONE_VM"},
    {0x200, "CLONE_FS"},
    {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},
    {0x1000, "CLONE_PIDFD"},
    {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},
    {0x8000, "CLONE_PARENT"},
    {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},
    {0x40000, "CLONE_SYSVSEM"},
    {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"},
    {0x200000, "CLONE_CHILD_CLEARTID"},
    {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"},
    {0x1000000, "CLONE_CHILD_SETTID"},
    {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},
    {0x8000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
    {0x100000000ull, "CLONE_CLEAR_SIGHAND"},
    {0x200000000ull, "CLONE_INTO_CGROUP"},
};
constexpr uint64_t kCloneVm = 0x100, kCloneVfork = 0x4000, kCloneThread = 0x10000;

// Columns of the text report (the seed's, with a finer TIME).
const std::vector<std::string> kHeaders = {"TIME", "TGID", "PID", "EVENT", "ARGS/RET/OTHERS"};
const std::vector<size_t> kWidths = {15, 7, 7, 12, 0};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string signal_name(int sig) {
  const char *abbrev = sig > 0 ? sigabbrev_np(sig) : nullptr;
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

std::string error_name(int64_t ret) {
  // -errno of a system call: -4095..-1
  if (ret >= 0 || ret < -4095) return "not an errno";
  const char *name = strerrorname_np(static_cast<int>(-ret));
  return name ? name : "errno " + std::to_string(-ret);
}

// A shell-like rendering of argv: each word printable() (so backslashes
// and control bytes are escaped already), words with blanks or quotes
// quoted.
std::string argv_text(const std::vector<std::string> &argv) {
  std::string s = "[";
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string a = printable(argv[i]);
    if (i) s += ' ';
    if (!a.empty() && a.find_first_of(" \"'") == std::string::npos) {
      s += a;
      continue;
    }
    s += '"';
    for (char c : a) {
      if (c == '"') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "]";
}

// Exit code as the kernel keeps it: status << 8 | signal (| 0x80 for a core).
nlohmann::json exit_json(int64_t code) {
  int sig = code & 0x7f;
  if (sig)
    return {{"exit_code", code},
            {"exit_status", nullptr},
            {"signal", signal_name(sig)},
            {"core_dumped", (code & 0x80) != 0}};
  return {{"exit_code", code}, {"exit_status", (code >> 8) & 0xff}, {"signal", nullptr},
          {"core_dumped", false}};
}

std::string exit_text(int64_t code) {
  int sig = code & 0x7f;
  if (sig) return "signal:" + signal_name(sig) + ((code & 0x80) ? "(core)" : "");
  return "exit_code:" + std::to_string((code >> 8) & 0xff);
}

std::string ret_text(int64_t ret) {
  if (ret < 0) return "ret:" + std::to_string(ret) + "(" + error_name(ret) + ")";
  return "ret:" + std::to_string(ret);
}

// The ARGS/RET/OTHERS column.
std::string others_text(const KeytimeEvent &e, const KeytimeTimeline::Derived &d) {
  const auto &r = e.rec;
  std::string s;
  auto add = [&s](const std::string &part) {
    if (!s.empty()) s += ' ';
    s += part;
  };
  switch (r.event) {
    case DIAG_KT_CLONE_START:
    case DIAG_KT_CLONE_END:
      if (r.child_pid) add("child_pid:" + std::to_string(r.child_pid));
      if (r.event == DIAG_KT_CLONE_END) {
        add(ret_text(r.ret));
        add("time:" + format_duration(r.duration_ns));
      }
      if (r.flags & DIAG_KT_FLAGS_UNKNOWN)
        add("flags:unknown");
      else
        add("flags:" + clone_flags_text(r.clone_flags, r.exit_signal));
      break;
    case DIAG_KT_EXEC:
      add("filename:" + printable(e.filename));
      add("argv:" + argv_text(e.argv));
      add(ret_text(r.ret));
      if (r.ret == 0 && r.child_pid && r.child_pid != r.pid)
        add("old_pid:" + std::to_string(r.child_pid));
      if (r.flags & DIAG_KT_TRUNCATED) add("(truncated)");
      if (r.flags & DIAG_KT_UNREADABLE) add("(argv unreadable)");
      break;
    case DIAG_KT_EXIT:
      add(exit_text(r.ret));
      if (r.flags & DIAG_KT_GROUP_DEAD) add("last_thread");
      break;
    case DIAG_KT_ONCPU:
      add("cpu:" + std::to_string(r.hdr.cpu));
      add("prio:" + std::to_string(r.prio));
      if (d.off_ns) add("off:" + format_duration(*d.off_ns));
      break;
    case DIAG_KT_OFFCPU:
      add("cpu:" + std::to_string(r.hdr.cpu));
      add("reason:" + offcpu_reason(r));
      add("state:" + task_state_letter(r.state));
      if (d.ran_ns) add("ran:" + format_duration(*d.ran_ns));
      break;
    default:
      add("type:" + std::to_string(r.event));
  }
  return s;
}

nlohmann::json event_json(const KeytimeEvent &e, const KeytimeTimeline::Derived &d,
                          int64_t real_minus_mono) {
  const auto &r = e.rec;
  nlohmann::json j = {
      {"ts_ns", r.hdr.ts_ns},
      {"time", format_iso_time(r.hdr.ts_ns, real_minus_mono)},
      {"cpu", r.hdr.cpu},
      {"tgid", r.tgid},
      {"pid", r.pid},
      {"comm", comm_of(r.comm)},
      {"event", keytime_event_name(r)},
      {"prio", r.prio},
  };
  if (r.flags & DIAG_KT_KTHREAD) j["kernel_thread"] = true;
  switch (r.event) {
    case DIAG_KT_CLONE_START:
    case DIAG_KT_CLONE_END:
      j["kind"] = creation_kind(r);
      j["child_pid"] = r.child_pid;
      j["child_tgid"] = r.child_tgid;
      j["flags_known"] = !(r.flags & DIAG_KT_FLAGS_UNKNOWN);
      if (!(r.flags & DIAG_KT_FLAGS_UNKNOWN)) {
        j["clone_flags"] = hex(r.clone_flags);
        j["clone_flag_names"] = clone_flag_names(r.clone_flags);
      }
      j["exit_signal"] = r.exit_signal ? nlohmann::json(signal_name(r.exit_signal)) : nullptr;
      if (r.event == DIAG_KT_CLONE_END) {
        j["ret"] = r.ret;
        j["error"] = r.ret < 0 ? nlohmann::json(error_name(r.ret)) : nullptr;
        j["duration_ns"] = r.duration_ns;
      }
      break;
    case DIAG_KT_EXEC:
      j["filename"] = e.filename;
      j["argv"] = e.argv;
      j["ret"] = r.ret;
      j["error"] = r.ret < 0 ? nlohmann::json(error_name(r.ret)) : nullptr;
      j["old_pid"] = r.child_pid;
      j["truncated"] = (r.flags & DIAG_KT_TRUNCATED) != 0;
      j["argv_unreadable"] = (r.flags & DIAG_KT_UNREADABLE) != 0;
      break;
    case DIAG_KT_EXIT:
      j.update(exit_json(r.ret));
      j["last_thread"] = (r.flags & DIAG_KT_GROUP_DEAD) != 0;
      break;
    case DIAG_KT_ONCPU:
      j["sum_exec_ns"] = r.sum_exec_ns;
      j["off_ns"] = d.off_ns ? nlohmann::json(*d.off_ns) : nullptr;
      break;
    case DIAG_KT_OFFCPU:
      j["reason"] = offcpu_reason(r);
      j["runnable"] = (r.flags & DIAG_KT_RUNNABLE) != 0;
      j["state"] = task_state_letter(r.state);
      j["sum_exec_ns"] = r.sum_exec_ns;
      j["ran_ns"] = d.ran_ns ? nlohmann::json(*d.ran_ns) : nullptr;
      j["has_stack"] = e.stack.has_value();
      break;
  }
  return j;
}

std::string event_line(const KeytimeEvent &e, const KeytimeTimeline::Derived &d,
                       int64_t real_minus_mono) {
  const auto &r = e.rec;
  return fixed_columns({format_clock_time(r.hdr.ts_ns, real_minus_mono), std::to_string(r.tgid),
                        std::to_string(r.pid), keytime_event_name(r), others_text(e, d)},
                       kWidths);
}

void write_header(std::ostream &out) {
  out << "KEYTIME ----------------------------------------------------------------------\n";
  out << fixed_columns(kHeaders, kWidths) << '\n';
}

// --report --follow: one line (text) or one JSON object per event, stacks
// printed as each off-CPU period ends.
class KeytimeStream : public RecordStream {
 public:
  KeytimeStream(bool json, std::ostream &out, ReportResources &res)
      : RecordStream(json, out), ksyms_(res.kernel_symbols()) {}
  void begin() override {
    if (!json_) write_header(out_);
  }
  void batch(const DecodedReport &report) override {
    for (const auto &e : decode_keytime(report)) {
      std::vector<KeytimeTimeline::OffcpuPeriod> ended;
      auto d = timeline_.observe(e, ended);
      if (json_) {
        nlohmann::json j = event_json(e, d, report.real_minus_mono_ns);
        j["type"] = "event";
        out_ << dump_json(j) << '\n';
      } else {
        out_ << event_line(e, d, report.real_minus_mono_ns) << '\n';
      }
      write_stacks(ended);
    }
    write_losses(report);
  }
  void end() override {
    write_stacks(timeline_.close(monotonic_now_ns()));
    RecordStream::end();
  }

 private:
  void write_stacks(const std::vector<KeytimeTimeline::OffcpuPeriod> &periods) {
    for (const auto &b : offcpu_stack_blocks(periods, ksyms_)) {
      if (json_) {
        nlohmann::json j = stack_block_json(b);
        j["type"] = "stack";
        out_ << dump_json(j) << '\n';
      } else {
        write_stack_block(b, out_);
      }
    }
  }

  const KernelSymbols &ksyms_;
  KeytimeTimeline timeline_;
};

// Everything a one-shot report shows, computed once for text and JSON.
struct KeytimeReport {
  std::vector<KeytimeEvent> events;
  std::vector<KeytimeTimeline::Derived> derived;
  std::vector<KeytimeTimeline::OffcpuPeriod> periods;
  std::map<std::string, uint64_t> counts;
};

KeytimeReport build_report(const DecodedReport &decoded) {
  KeytimeReport rep;
  KeytimeTimeline timeline;
  rep.events = decode_keytime(decoded);
  for (const auto &e : rep.events) {
    rep.derived.push_back(timeline.observe(e, rep.periods));
    ++rep.counts[keytime_event_name(e.rec)];
  }
  for (auto &p : timeline.close(monotonic_now_ns())) rep.periods.push_back(std::move(p));
  return rep;
}

class KeytimeImageCommand : public FunctionCommand {
 public:
  KeytimeImageCommand()
      : FunctionCommand("keytime-image", DIAG_FN_KEYTIME_IMAGE,
                        "Life events of a process or thread: fork/vfork/clone (start and end), "
                        "exec, exit, and with oncpu=1 every switch on and off a CPU (stack=1: "
                        "off-CPU kernel stacks, for an off-CPU flame graph)") {}

  std::unique_ptr<ReportStream> make_stream(const ReportContext &ctx, bool json,
                                            std::ostream &out) const override {
    return std::make_unique<KeytimeStream>(json, out, ctx.res());
  }

 protected:
  size_t settings_size() const override { return sizeof(diag_keytime_image_settings); }

  std::vector<KeySpec> function_keys() const override {
    using K = KeySpec::Kind;
    return {
        {"oncpu", K::kInteger, 0, 1, 0, "1: also every switch on and off a CPU"},
        {"stack", K::kInteger, 0, 1, 0,
         "1: kernel stack of each switch off a CPU (implies oncpu=1)"},
    };
  }

  void check_keys(const ActivateArgs &args) const override {
    require_task_filter(args);
    if (args.integer("stack", 0) && args.has("oncpu") && args.integer("oncpu", 0) == 0)
      throw UsageError("stack=1 records off-CPU events: it cannot go with oncpu=0");
  }

  void encode_function_settings(const ActivateArgs &args, std::vector<uint8_t> &s,
                                uint32_t) const override {
    auto &k = *reinterpret_cast<diag_keytime_image_settings *>(s.data());
    k.stack = static_cast<uint32_t>(args.integer("stack", 0));
    k.oncpu = k.stack ? 1 : static_cast<uint32_t>(args.integer("oncpu", 0));
  }

  void describe_function_settings(const std::vector<uint8_t> &s,
                                  SettingsView &v) const override {
    const auto &k = *reinterpret_cast<const diag_keytime_image_settings *>(s.data());
    v.add("On/off CPU events", "oncpu", k.oncpu != 0, k.oncpu ? "yes" : "no");
    v.add("Off-CPU kernel stacks", "stack", k.stack != 0, k.stack ? "yes" : "no");
  }

  void write_text_report(const DecodedReport &decoded, const ReportContext &ctx,
                         std::ostream &out) const override {
    KeytimeReport rep = build_report(decoded);
    write_header(out);
    if (rep.events.empty()) out << "no events recorded\n";
    for (size_t i = 0; i < rep.events.size(); ++i)
      out << event_line(rep.events[i], rep.derived[i], decoded.real_minus_mono_ns) << '\n';
    if (!rep.counts.empty()) {
      out << "COUNTS:";
      for (const auto &[name, n] : rep.counts) out << ' ' << name << ' ' << n;
      out << '\n';
    }
    if (rep.periods.empty()) return;
    out << "\nOFF-CPU STACKS (weight: microseconds off CPU) ---------------------------------\n";
    for (const auto &b : offcpu_stack_blocks(rep.periods, ctx.res().kernel_symbols()))
      write_stack_block(b, out);
  }

  nlohmann::json json_report(const DecodedReport &decoded,
                             const ReportContext &ctx) const override {
    KeytimeReport rep = build_report(decoded);
    nlohmann::json events = nlohmann::json::array();
    for (size_t i = 0; i < rep.events.size(); ++i)
      events.push_back(event_json(rep.events[i], rep.derived[i], decoded.real_minus_mono_ns));
    nlohmann::json stacks = nlohmann::json::array();
    if (!rep.periods.empty()) {
      for (const auto &b : offcpu_stack_blocks(rep.periods, ctx.res().kernel_symbols()))
        stacks.push_back(stack_block_json(b));
    }
    return {{"units", {{"ts_ns", "CLOCK_MONOTONIC ns"},
                       {"duration_ns", "ns"},
                       {"stack count", "microseconds off CPU"}}},
            {"counts", rep.counts},
            {"events", std::move(events)},
            {"stacks", std::move(stacks)}};
  }
};

}  // namespace

std::vector<KeytimeEvent> decode_keytime(const DecodedReport &report) {
  std::vector<KeytimeEvent> events;
  for (const auto &view : report.records) {
    if (view.type() != DIAG_REC_KEYTIME) continue;
    KeytimeEvent e;
    e.rec = view.as<diag_keytime_record>();
    size_t off = e.rec.data_off;
    if (e.rec.data_len && (off < sizeof(diag_record_header) || off > view.bytes.size() ||
                           view.bytes.size() - off < e.rec.data_len))
      throw MalformedInput("keytime record with " + std::to_string(e.rec.data_len) +
                               " bytes of data at " + std::to_string(off) + " in " +
                               std::to_string(view.bytes.size()) + " bytes");
    const uint8_t *data = e.rec.data_len ? view.bytes.data() + off : nullptr;
    if (e.rec.event == DIAG_KT_EXEC && e.rec.data_len) {
      // filename NUL argv0 NUL argv1 NUL ...
      const char *p = reinterpret_cast<const char *>(data);
      const char *end = p + e.rec.data_len;
      const char *nul = static_cast<const char *>(memchr(p, '\0', end - p));
      e.filename.assign(p, nul ? nul : end);
      p = nul ? nul + 1 : end;
      while (p < end) {
        nul = static_cast<const char *>(memchr(p, '\0', end - p));
        e.argv.emplace_back(p, nul ? nul : end);
        p = nul ? nul + 1 : end;
      }
    } else if (e.rec.event == DIAG_KT_OFFCPU && (e.rec.flags & DIAG_KT_STACK) && data) {
      diag_kernel_stack st{};
      std::memcpy(&st, data, std::min<size_t>(sizeof(st), e.rec.data_len));
      st.nr = std::min<uint32_t>(st.nr, DIAG_KSTACK_MAX);
      e.stack = st;
    }
    events.push_back(std::move(e));
  }
  return events;
}

std::string creation_kind(const diag_keytime_record &r) {
  if (r.flags & DIAG_KT_FLAGS_UNKNOWN)
    return r.child_tgid && r.child_tgid == r.tgid ? "thread" : "clone";
  if (r.clone_flags & kCloneVfork) return "vfork";
  if (r.clone_flags & kCloneThread) return "thread";
  if (r.clone_flags & kCloneVm) return "clone";
  return "fork";
}

std::string keytime_event_name(const diag_keytime_record &r) {
  switch (r.event) {
    case DIAG_KT_CLONE_START:
      return creation_kind(r) + "_enter";
    case DIAG_KT_CLONE_END:
      return creation_kind(r) + "_exit";
    case DIAG_KT_EXEC:
      return "exec";
    case DIAG_KT_EXIT:
      return "exit";
    case DIAG_KT_ONCPU:
      return "oncpu";
    case DIAG_KT_OFFCPU:
      return "offcpu";
    default:
      return "event" + std::to_string(r.event);
  }
}

std::vector<std::string> clone_flag_names(uint64_t flags) {
  std::vector<std::string> names;
  for (const auto &f : kCloneFlags) {
    if (flags & f.bit) {
      names.emplace_back(f.name);
      flags &= ~f.bit;
    }
  }
  if (flags) names.push_back(hex(flags));
  return names;
}

std::string clone_flags_text(uint64_t flags, int32_t exit_signal) {
  std::string s;
  for (const auto &n : clone_flag_names(flags)) s += (s.empty() ? "" : "|") + n;
  if (exit_signal) s += (s.empty() ? "" : "|") + signal_name(exit_signal);
  return s.empty() ? "0" : s;
}

std::string task_state_letter(uint32_t index) {
  static const char kLetters[] = "RSDTtXZPI";  // TASK_STATE_TO_CHAR_STR
  return index < sizeof(kLetters) - 1 ? std::string(1, kLetters[index]) : "?";
}

std::string offcpu_reason(const diag_keytime_record &r) {
  return (r.flags & DIAG_KT_PREEMPTED) ? "preempted" : "blocked";
}

KeytimeTimeline::Derived KeytimeTimeline::observe(const KeytimeEvent &e,
                                                  std::vector<OffcpuPeriod> &ended) {
  Derived d;
  const auto &r = e.rec;
  if (r.event == DIAG_KT_ONCPU) {
    Task &t = tasks_[r.pid];
    if (t.off_ts && r.hdr.ts_ns >= *t.off_ts) d.off_ns = r.hdr.ts_ns - *t.off_ts;
    if (t.off) {
      ended.push_back({*t.off, r.hdr.ts_ns - std::min<uint64_t>(r.hdr.ts_ns, t.off->rec.hdr.ts_ns), false});
      t.off.reset();
    }
    t.off_ts.reset();
    t.on_sum_exec = r.sum_exec_ns;
  } else if (r.event == DIAG_KT_OFFCPU) {
    Task &t = tasks_[r.pid];
    if (t.on_sum_exec && r.sum_exec_ns >= *t.on_sum_exec) d.ran_ns = r.sum_exec_ns - *t.on_sum_exec;
    t.on_sum_exec.reset();
    t.off_ts = r.hdr.ts_ns;
    // a dead task's last switch opens no period: it is not waiting for anything
    std::string state = task_state_letter(r.state);
    if (e.stack && state != "X" && state != "Z")
      t.off = e;
    else
      t.off.reset();
  } else if (r.event == DIAG_KT_EXIT) {
    // its last switch follows; nothing of it stays open
    tasks_.erase(r.pid);
  }
  return d;
}

std::vector<KeytimeTimeline::OffcpuPeriod> KeytimeTimeline::close(uint64_t now_ns) {
  std::vector<OffcpuPeriod> open;
  for (auto &[pid, t] : tasks_) {
    if (!t.off) continue;
    open.push_back({*t.off, now_ns - std::min<uint64_t>(now_ns, t.off->rec.hdr.ts_ns), true});
    t.off.reset();
  }
  return open;
}

std::vector<StackBlock> offcpu_stack_blocks(
    const std::vector<KeytimeTimeline::OffcpuPeriod> &periods, const KernelSymbols &ksyms) {
  struct Agg {
    const KeytimeTimeline::OffcpuPeriod *first;
    uint64_t events = 0, off_ns = 0, open = 0;
  };
  std::map<std::pair<int32_t, std::vector<uint64_t>>, size_t> index;
  std::vector<Agg> aggs;
  for (const auto &p : periods) {
    const auto &st = *p.off.stack;
    std::vector<uint64_t> ips(st.ips, st.ips + st.nr);
    auto [it, added] = index.try_emplace({p.off.rec.pid, std::move(ips)}, aggs.size());
    if (added) aggs.push_back({&p});
    Agg &a = aggs[it->second];
    ++a.events;
    a.off_ns = sat_add(a.off_ns, p.off_ns);
    a.open += p.open;
  }
  std::vector<StackBlock> blocks;
  for (const auto &a : aggs) {
    const auto &r = a.first->off.rec;
    std::string comm = comm_of(r.comm);
    StackBlock b;
    uint64_t weight = a.off_ns / 1000 + (a.off_ns % 1000 != 0);  // microseconds, rounded up
    std::string head = "OFF-CPU: PID: " + std::to_string(r.pid) + "[" + printable(comm) +
                       "], TGID: " + std::to_string(r.tgid) + ", " + std::to_string(a.events) +
                       (a.events == 1 ? " time, " : " times, ") + format_duration(a.off_ns) +
                       " off CPU, " + offcpu_reason(r) + " state " + task_state_letter(r.state);
    if (a.open) head += " (" + std::to_string(a.open) + " still off CPU at the report)";
    b.header.push_back(head);
    b.kernel = kernel_frames(*a.first->off.stack, ksyms);
    b.process = comm;
    b.count = weight;
    b.fields = {{"pid", r.pid},
                {"tgid", r.tgid},
                {"comm", comm},
                {"ts_ns", r.hdr.ts_ns},
                {"cpu", r.hdr.cpu},
                {"state", task_state_letter(r.state)},
                {"reason", offcpu_reason(r)},
                {"events", a.events},
                {"offcpu_ns", a.off_ns},
                {"still_off_cpu", a.open},
                {"weight_unit", "us"}};
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::unique_ptr<FunctionCommand> make_keytime_image_command() {
  return std::make_unique<KeytimeImageCommand>();
}

}  // namespace diag
