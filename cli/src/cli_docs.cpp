// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli_docs.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "errors.h"
#include "function_command.h"

namespace diag {

namespace {

// What only prose can say about a subcommand: its report and examples.
// The options and keys come from the application itself.
struct Prose {
  std::string report;                                     // roff paragraphs
  std::vector<std::pair<std::string, std::string>> examples;  // command, what it does
};

const std::map<std::string, Prose> &prose() {
  static const std::map<std::string, Prose> p = {
      {"migrate-image",
       {"Text: per task a header (PID, TGID, COMM, PRIO, COUNT of migrations, "
        "FORK_PLACEMENTS) and one row per migration: Time_Stamp (CLOCK_MONOTONIC ns), "
        "ocpu and dcpu (from and to CPU), PLoad_AVG and Putil_AVG (the task's PELT load "
        "and utilisation), RSS_KB, READ and WRITE (bytes, cumulative), CAUSE (why the "
        "scheduler moved it: try_to_wake_up, pull_task, __migrate_task, push_rt_task, "
        "...); with verbose=1 also PRIO and CALLER.  The last line is LOST TOTAL.\n"
        ".PP\nJSON (--format json): migrations, by_cause, and tasks[] with pid, tgid, comm, "
        "kernel_thread, migrations, fork_placements and events[] (ts_ns, time, "
        "recorded_on_cpu, orig_cpu, dest_cpu, cause, fork_placement, src_cpu_disallowed, "
        "prio, load_avg, util_avg, rss_bytes, rchar, wchar, read_bytes, write_bytes), "
        "plus lost and lost_since_last_report.",
        {{"diagnose-tools migrate-image --activate='tgid=1234,verbose=1'",
          "watch every thread of process 1234"},
         {"diagnose-tools migrate-image --report --format json", "print and clear, as JSON"},
         {"diagnose-tools migrate-image --report --follow --duration 10",
          "print migrations as they happen, for 10 seconds"},
         {"diagnose-tools migrate-image --deactivate", "stop and free the buffers"}}}},
      {"kprobe",
       {"Text: the hits aggregated by identical stacks (or one by one with --no-aggregate): "
        "pid, tgid, comm, cgroup, the process chain, the kernel stack (symbol+offset) and "
        "the user stack symbolized from the task's mappings (C++ demangled; with --lines "
        "file:line and inlined frames), and how many hits had it.  Ends with the probe's "
        "missed count and LOST TOTAL.\n"
        ".PP\nJSON: probe, probe_addr, hits, aggregated, missed, maps_dropped and stacks[] "
        "with pid, tgid, comm, cgroup, cgroup_id, kernel_thread, in_interrupt, "
        "user_unwind, user_stack_bytes, user_stack_truncated, user_maps and the frames.",
        {{"diagnose-tools kprobe --activate='probe=do_sys_openat2,tgid=1234'",
          "every open by process 1234"},
         {"diagnose-tools kprobe --report --lines", "with source lines and inlined frames"},
         {"diagnose-tools kprobe --report --format json | diagnose-tools flame -o open.svg",
          "a flame graph of the stacks"}}}},
      {"keytime-image",
       {"Text: one row per event: TIME, TGID, PID, EVENT (fork, vfork, clone, exec, exit; "
        "with oncpu=1 oncpu and offcpu) and ARGS/RET/OTHERS (child pid and flags, the "
        "start and end of the call, exec filename, argv and result, exit code or signal, "
        "why the task left the CPU).  With stack=1 the off-CPU kernel stacks follow, "
        "weighted by microseconds off CPU.\n"
        ".PP\nJSON: counts, events[] (ts_ns, time, cpu, tgid, pid, comm, event, prio and the "
        "event's own fields) and the stacks.",
        {{"diagnose-tools keytime-image --activate='tgid=1234'", "fork, exec and exit of 1234"},
         {"diagnose-tools keytime-image --activate='comm=make,oncpu=1'",
          "every task named make, with its switches"},
         {"diagnose-tools keytime-image --report --format json", "the events as JSON"}}}},
      {"resource-image",
       {"Text: per thread and interval: CPU % and the CPUs it ran on, RSS and % of RAM, "
        "bytes read and written and their rates, context switches; threads that exited "
        "or slept through the interval are marked.\n"
        ".PP\nJSON: one object per thread and interval with ts_ns, time, start_ns, "
        "interval_ns, pid, tgid, comm, cpu, cpus, cpu_ns, cpu_percent, cpu_total_ns, "
        "rss_bytes, rss_unsynced_bytes, mem_percent, total_ram_bytes, rchar, wchar, "
        "rchar_per_sec, wchar_per_sec, read_bytes, write_bytes, rchar_total, wchar_total, "
        "nvcsw, nivcsw, exited, while_running, off_cpu, kernel_thread.",
        {{"diagnose-tools resource-image --activate='tgid=1234,interval=100'",
          "sample process 1234 every 100 ms of its own time"},
         {"diagnose-tools resource-image --report --follow", "print intervals as they end"}}}},
      {"migrate-stats",
       {"Reads a trace of diagnose-migration-trace(7) (the live one by default) and prints, "
        "as chosen: one row per migration (--migrate), counts per cause, CPU pair and task "
        "(--stats), per-period stat files (--period) or an SVG chart (--plot).  "
        "--help_format explains every format.",
        {{"diagnose-tools migrate-stats --stats trace.txt", "counts of a saved trace"},
         {"diagnose-tools migrate-stats --period 100 --period_cause trace.txt",
          "a stat file with one field per cause, 100 ms periods"}}}},
      {"migrate-extract",
       {"Reads a stat file (migration_stat/stat of diagnose-migration-trace(7), or "
        "migrate-stats --period) and prints its field numbers and names, or the chosen "
        "fields as per-second values over time, as text or an SVG chart.",
        {{"diagnose-tools migrate-extract --max_field stat.txt", "the largest field number"},
         {"diagnose-tools migrate-extract --extract 1 --plot chart.svg stat.txt",
          "field 1 over time as a chart"}}}},
      {"migration-trace",
       {"The trace of diagnose-migration-trace(7) on the BPF backend: what the module's "
        "migration_trace/ files do, as verbs.  trace prints the text of "
        "migration_trace/trace (a header, then start_sched_clock, task names, marks, "
        "migrations with their cause and fork placements, merged in timestamp order), which "
        "migrate-stats reads; stat drives and prints the migration stat as the module's "
        "migration_stat/ files do.",
        {{"diagnose-tools migration-trace enable --buffer-kib 4096",
          "start tracing with 4 MiB per CPU"},
         {"diagnose-tools migration-trace mark 1", "a mark, for migrate-stats --begin_mark 1"},
         {"diagnose-tools migration-trace stop; diagnose-tools migration-trace trace -o t.txt",
          "stop and save the trace"},
         {"diagnose-tools migrate-stats t.txt", "migrations per cause, CPU pair and task"},
         {"diagnose-tools migration-trace reset", "free it for the next trace"},
         {"diagnose-tools migration-trace stat enable --period-msec 100",
          "count migrations per cause in 100 ms periods (migration_stat/)"},
         {"diagnose-tools migration-trace stat -o stat.txt",
          "the stat so far; migrate-extract reads it"}}}},
      {"flame",
       {"Writes an interactive SVG (zoom, search, differential with --baseline, icicle, "
        "flame chart), folded stacks or speedscope JSON, chosen by --format or the output's "
        "extension.  Reads stack reports of any function (text or JSON), folded stacks or "
        "perf script output.",
        {{"perf script | diagnose-tools flame -o perf.svg", "a flame graph of a perf recording"},
         {"diagnose-tools flame -i after.folded --baseline before.folded -o diff.svg",
          "a differential flame graph"}}}},
      {"status",
       {"Prints whether the module is loaded, its version and ABI against the CLI's, the "
        "functions built in and, for each active one, its settings; and the state of the "
        "debugfs migration trace and stat.  Exit status 3 when the module is not loaded "
        "or its ABI does not match, with what to run.",
        {{"diagnose-tools status", "what is loaded and active"},
         {"diagnose-tools status --format json", "the same for scripts"}}}},
  };
  return p;
}

std::string key_kind(const KeySpec &k) {
  switch (k.kind) {
    case KeySpec::Kind::kInteger:
      return "integer " + std::to_string(k.min) + ".." + std::to_string(k.max);
    case KeySpec::Kind::kString:
      return "string of at most " + std::to_string(k.max_length) + " characters";
    case KeySpec::Kind::kCpuList:
      return "CPU list (e.g. 0-3,8)";
  }
  return "";
}

nlohmann::json option_json(const CLI::Option *o) {
  nlohmann::json j;
  std::vector<std::string> names;
  for (const auto &s : o->get_snames()) names.push_back("-" + s);
  for (const auto &l : o->get_lnames()) names.push_back("--" + l);
  j["names"] = names;
  j["positional"] = o->get_positional() && names.empty();
  if (j["positional"]) j["name"] = o->get_name();
  j["takes_value"] = o->get_type_size_max() > 0 && o->get_expected_max() > 0;
  j["value_optional"] = o->get_expected_min() == 0 && o->get_expected_max() > 0;
  j["type"] = o->get_type_name();
  // CLI::IsMember describes itself as {a,b,c}: the values to complete
  const std::string t = o->get_type_name();
  nlohmann::json choices = nlohmann::json::array();
  size_t open = t.find('{'), close = t.rfind('}');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    std::stringstream in(t.substr(open + 1, close - open - 1));
    std::string c;
    while (std::getline(in, c, ',')) choices.push_back(c);
  }
  j["choices"] = choices;
  j["help"] = o->get_description();
  return j;
}

// roff: escape what roff would take as a request or an escape
std::string roff(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

// prose that already holds roff requests (.PP): escape only the text lines
std::string roff_block(const std::string &s) {
  std::istringstream in(s);
  std::string line, out;
  while (std::getline(in, line)) out += (line.rfind(".PP", 0) == 0 ? line : roff(line)) + "\n";
  return out;
}

std::string option_synopsis(const nlohmann::json &o) {
  std::string names;
  for (const auto &n : o["names"]) names += (names.empty() ? "" : ", ") + std::string("\\fB") +
                                            roff(n.get<std::string>()) + "\\fR";
  if (o["positional"]) return "\\fI" + roff(o["name"].get<std::string>()) + "\\fR";
  if (o["takes_value"]) {
    std::string t = o["type"].get<std::string>();
    if (t.empty()) t = "VALUE";
    names += o["value_optional"] ? " [\\fI" + roff(t) + "\\fR]" : " \\fI" + roff(t) + "\\fR";
  }
  return names;
}

const char *kExitText =
    ".TP\n.B 0\nsuccess\n"
    ".TP\n.B 1\nthe module refused the call or the operation failed (the reason is printed)\n"
    ".TP\n.B 2\nbad usage: an unknown option, key or value\n"
    ".TP\n.B 3\nthe environment: the module is not loaded, not root, or the module speaks "
    "another ABI (the message says what to run)\n";

std::string header(const std::string &name, int section, const std::string &title) {
  return ".\\\" Generated by diagnose-tools --generate-man; do not edit.\n.TH " + name + " " +
         std::to_string(section) + " \"\" \"diagnose-tools " DIAG_CLI_VERSION "\" \"" + title +
         "\"\n";
}

std::string man_sub(const nlohmann::json &s) {
  const std::string name = s["name"];
  std::string upper = "DIAGNOSE-TOOLS-" + name;
  for (auto &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::ostringstream m;
  m << header(roff(upper), 8, "System Administration");
  m << ".SH NAME\ndiagnose\\-tools\\-" << roff(name) << " \\- " << roff(s["help"]) << "\n";
  m << ".SH SYNOPSIS\n.B diagnose\\-tools " << roff(name) << "\n";
  for (const auto &o : s["options"]) m << "[" << option_synopsis(o) << "]\n";
  m << ".SH DESCRIPTION\n" << roff(s["help"].get<std::string>()) << ".\n";
  if (s.contains("keys")) {
    m << ".PP\nEvery function takes the same verbs: \\fB\\-\\-activate\\fR starts it with "
         "the settings given as \\fIkey\\fR=\\fIvalue\\fR pairs separated by commas "
         "(\\(oq_\\(cq and \\(oq\\-\\(cq are the same in key names; a CPU list may hold "
         "commas), \\fB\\-\\-settings\\fR shows them, \\fB\\-\\-report\\fR prints and clears "
         "what was recorded, \\fB\\-\\-deactivate\\fR stops it and frees its buffers.  "
         "Only one activation at a time; root only.\n";
  }
  m << ".SH OPTIONS\n";
  for (const auto &o : s["options"]) {
    m << ".TP\n" << option_synopsis(o) << "\n" << roff(o["help"]) << "\n";
  }
  if (s.contains("keys")) {
    m << ".SH ACTIVATE KEYS\nA key not given is 0 (off, or no filter) unless its "
         "description names a default.  Filters that are set must all match.\n";
    for (const auto &k : s["keys"]) {
      m << ".TP\n\\fB" << roff(k["name"]) << "\\fR=\\fI" << roff(k["kind"]) << "\\fR\n"
        << roff(k["help"]) << "\n";
    }
  }
  auto it = prose().find(name);
  if (it != prose().end()) {
    m << ".SH " << (s.contains("keys") ? "REPORT" : "OUTPUT") << "\n"
      << roff_block(it->second.report);
  }
  m << ".SH EXIT STATUS\n" << kExitText;
  if (it != prose().end() && !it->second.examples.empty()) {
    m << ".SH EXAMPLES\n";
    for (const auto &[cmd, what] : it->second.examples)
      m << ".TP\n.B " << roff(cmd) << "\n" << roff(what) << "\n";
  }
  m << ".SH SEE ALSO\n.BR diagnose\\-tools (8)";
  if (name.rfind("migrate-", 0) == 0) m << ",\n.BR diagnose\\-migration\\-trace (7)";
  m << "\n";
  return m.str();
}

std::string man_main(const nlohmann::json &spec) {
  std::ostringstream m;
  m << header("DIAGNOSE-TOOLS", 8, "System Administration");
  m << ".SH NAME\ndiagnose\\-tools \\- see why a Linux process behaves as it does\n";
  m << ".SH SYNOPSIS\n.B diagnose\\-tools\n\\fIcommand\\fR [\\fIoptions\\fR]\n.br\n"
       ".B diagnose\\-tools\n\\fIfunction\\fR \\fB\\-\\-activate\\fR='\\fIkey\\fR=\\fIvalue\\fR,...' "
       "| \\fB\\-\\-settings\\fR | \\fB\\-\\-report\\fR [\\fB\\-\\-follow\\fR] "
       "[\\fB\\-\\-format json\\fR] | \\fB\\-\\-deactivate\\fR\n.br\n"
       ".B diagnose\\-tools \\-\\-version\n";
  m << ".SH DESCRIPTION\n" << roff(spec["help"].get<std::string>()) << "\n.PP\n"
    << "The kernel half is the module diagnose.ko (load it with \\fBmodprobe diagnose\\fR); "
       "this tool drives it through ioctls on /dev/diagnose and must run as root.\n";
  m << ".SH COMMANDS\n";
  for (const auto &s : spec["subcommands"]) {
    m << ".TP\n.B " << roff(s["name"]) << "\n" << roff(s["help"]) << "; see \\fBdiagnose\\-tools\\-"
      << roff(s["name"]) << "\\fR(8).\n";
  }
  m << ".SH OPTIONS\n";
  for (const auto &o : spec["options"]) m << ".TP\n" << option_synopsis(o) << "\n" << roff(o["help"]) << "\n";
  m << ".SH EXIT STATUS\n" << kExitText;
  m << ".SH ENVIRONMENT\n.TP\n.B DIAGNOSE_DEVICE\nthe device to open instead of /dev/diagnose\n";
  m << ".SH FILES\n.TP\n.B /dev/diagnose\nthe module's device (root only)\n"
       ".TP\n.B /sys/kernel/debug/migration_trace/, /sys/kernel/debug/migration_stat/\n"
       "the system-wide migration trace and stat; see \\fBdiagnose\\-migration\\-trace\\fR(7)\n"
       ".TP\n.B /sys/module/diagnose/parameters/\nthe module's parameters\n";
  m << ".SH EXAMPLES\n.nf\nmodprobe diagnose\ndiagnose\\-tools status\n"
       "diagnose\\-tools migrate\\-image \\-\\-activate='tgid=1234'\n"
       "diagnose\\-tools migrate\\-image \\-\\-report\n"
       "diagnose\\-tools migrate\\-image \\-\\-deactivate\n.fi\n";
  m << ".SH SEE ALSO\n";
  std::string sep;
  for (const auto &s : spec["subcommands"]) {
    m << sep << ".BR diagnose\\-tools\\-" << roff(s["name"]) << " (8)";
    sep = ",\n";
  }
  m << ",\n.BR diagnose\\-migration\\-trace (7),\n.BR modprobe (8),\n.BR dkms (8)\n";
  return m.str();
}

const char *kMigrationTracePage = R"(.\" Generated by diagnose-tools --generate-man; do not edit.
.TH DIAGNOSE-MIGRATION-TRACE 7 "" "diagnose-tools )" DIAG_CLI_VERSION R"(" "Miscellaneous"
.SH NAME
diagnose\-migration\-trace \- the system\-wide CPU migration trace and stat of diagnose.ko in debugfs
.SH DESCRIPTION
With diagnose.ko loaded and debugfs mounted, two directories record every
CPU migration of every task: \fImigration_trace/\fR in detail (each
migration with its cause, the task names and marks), \fImigration_stat/\fR
as counts per cause and period.  All files are root only.
\fBdiagnose\-tools migrate\-stats\fR reads a trace,
\fBdiagnose\-tools migrate\-extract\fR a stat file.
.SH FILES
.TP
.B /sys/kernel/debug/migration_trace/enable
reads 1 while tracing, else 0; write 1 to start, 0 to stop.
.TP
.B /sys/kernel/debug/migration_trace/mark
write a number (decimal or 0x hex): a mark event with that value, for the
begin/end filters of migrate\-stats.
.TP
.B /sys/kernel/debug/migration_trace/reset
write 0: stop, empty the trace and free its buffers.
.TP
.B /sys/kernel/debug/migration_trace/trace
the trace in timestamp order, produced as it is read; readable only while
tracing is stopped.
.TP
.B /sys/kernel/debug/migration_stat/enable
reads 1 while counting; write 1 to start, 0 to stop.
.TP
.B /sys/kernel/debug/migration_stat/period_msec
the period in ms (default 1000), 1..86400000; writable only while the stat
is empty.
.TP
.B /sys/kernel/debug/migration_stat/reset
write 0: stop, empty, free.
.TP
.B /sys/kernel/debug/migration_stat/stat
the header and one line per complete period; readable while counting.
.SH RULES
A trace is one continuous recording: starting is refused while the buffer
holds a trace (write 0 to \fIreset\fR first); the same holds for the stat.
Tracing stops by itself on every CPU when one per\-CPU buffer fills, so
the trace is complete up to that moment; its header says which CPU filled
and when.  The stat stops when its capacity runs out.
.SH ERRORS
.TP
.B EEXIST
enable 1 while the buffer holds a trace (or the stat holds data): reset first.
.TP
.B EALREADY
enable 1 while tracing (counting).
.TP
.B EBUSY
opening trace while tracing.
.TP
.B ENOTEMPTY
writing period_msec while the stat holds data.
.TP
.B EPIPE
mark while not tracing: the mark would be lost.
.TP
.B EINVAL
any other value written to any file.
.TP
.B ESTALE
reading on after the trace was reset or restarted under the reader.
.TP
.B ENOMEM
the buffers cannot be allocated.
.SH MODULE PARAMETERS
Given to \fBmodprobe diagnose\fR or written to /sys/module/diagnose/parameters/,
applied at the next start after a reset:
.TP
.B migration_trace_kib
trace buffer per CPU in KiB, 1..1048576, default 1024 (an event takes 32
bytes).
.TP
.B migration_stat_hours
stat capacity in hours at a 1 s period, 1..8760, default 1 (64 bytes per
period per CPU).
.SH EXAMPLES
.nf
modprobe diagnose
echo 1 > /sys/kernel/debug/migration_trace/enable
echo 1 > /sys/kernel/debug/migration_trace/mark
\&... the workload ...
echo 0 > /sys/kernel/debug/migration_trace/enable
cat /sys/kernel/debug/migration_trace/trace > trace.txt
diagnose\-tools migrate\-stats \-\-stats trace.txt
echo 0 > /sys/kernel/debug/migration_trace/reset
.fi
.SH SEE ALSO
.BR diagnose\-tools (8),
.BR diagnose\-tools\-migrate\-stats (8),
.BR diagnose\-tools\-migrate\-extract (8)
)";

// every option name of a subcommand, space separated
std::string option_words(const nlohmann::json &s) {
  std::string w;
  for (const auto &o : s["options"])
    for (const auto &n : o["names"]) w += (w.empty() ? "" : " ") + n.get<std::string>();
  return w;
}

std::string key_words(const nlohmann::json &s) {
  std::string w;
  for (const auto &k : s["keys"]) w += (w.empty() ? "" : " ") + k["name"].get<std::string>();
  return w;
}

// single quotes for zsh/bash strings
std::string sq(const std::string &s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

nlohmann::json cli_spec(const CLI::App &app,
                        const std::vector<std::unique_ptr<Command>> &commands) {
  nlohmann::json spec;
  spec["name"] = app.get_name();
  spec["help"] = app.get_description();
  spec["version"] = DIAG_CLI_VERSION;
  spec["options"] = nlohmann::json::array();
  for (const CLI::Option *o : app.get_options()) spec["options"].push_back(option_json(o));
  spec["subcommands"] = nlohmann::json::array();
  for (const CLI::App *sub : app.get_subcommands([](const CLI::App *) { return true; })) {
    nlohmann::json s;
    s["name"] = sub->get_name();
    s["help"] = sub->get_description();
    s["options"] = nlohmann::json::array();
    for (const CLI::Option *o : sub->get_options()) s["options"].push_back(option_json(o));
    for (const auto &c : commands) {
      auto *f = dynamic_cast<const FunctionCommand *>(c.get());
      if (!f || f->name() != sub->get_name()) continue;
      s["keys"] = nlohmann::json::array();
      for (const auto &k : f->activate_keys())
        s["keys"].push_back({{"name", k.name}, {"kind", key_kind(k)}, {"help", k.help}});
    }
    spec["subcommands"].push_back(s);
  }
  return spec;
}

std::map<std::string, std::string> man_pages(const nlohmann::json &spec) {
  std::map<std::string, std::string> pages;
  pages["diagnose-tools.8"] = man_main(spec);
  for (const auto &s : spec["subcommands"])
    pages["diagnose-tools-" + s["name"].get<std::string>() + ".8"] = man_sub(s);
  pages["diagnose-migration-trace.7"] = kMigrationTracePage;
  return pages;
}

void write_bash_completion(const nlohmann::json &spec, std::ostream &out) {
  std::string subs;
  for (const auto &s : spec["subcommands"]) subs += (subs.empty() ? "" : " ") + s["name"].get<std::string>();
  out << "# bash completion for diagnose-tools\n"
         "# Generated by diagnose-tools --generate-completion bash; do not edit.\n"
         "_diagnose_tools() {\n"
         "\tlocal cur prev sub i opts keys\n"
         "\tcur=${COMP_WORDS[COMP_CWORD]}\n"
         "\tprev=${COMP_WORDS[COMP_CWORD-1]}\n"
         "\tsub=\n"
         "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
         "\t\tcase ${COMP_WORDS[i]} in -*) ;; *) sub=${COMP_WORDS[i]}; break ;; esac\n"
         "\tdone\n"
         "\tif [[ -z $sub ]]; then\n"
         "\t\tCOMPREPLY=($(compgen -W " << sq(subs + " " + option_words(spec)) << " -- \"$cur\"))\n"
         "\t\treturn\n"
         "\tfi\n"
         "\tcase $sub in\n";
  for (const auto &s : spec["subcommands"]) {
    out << "\t" << s["name"].get<std::string>() << ")\n\t\topts=" << sq(option_words(s))
        << "\n\t\tkeys=" << sq(s.contains("keys") ? key_words(s) : "") << "\n";
    // options with a fixed set of values
    out << "\t\tcase $prev in\n";
    for (const auto &o : s["options"]) {
      if (o["choices"].empty()) continue;
      std::string names, c;
      for (const auto &n : o["names"]) names += (names.empty() ? "" : " | ") + n.get<std::string>();
      for (const auto &x : o["choices"]) c += (c.empty() ? "" : " ") + x.get<std::string>();
      out << "\t\t" << names << ") COMPREPLY=($(compgen -W " << sq(c)
          << " -- \"$cur\")); return ;;\n";
    }
    out << "\t\tesac ;;\n";
  }
  out << "\t*) return ;;\n"
         "\tesac\n"
         "\t# --activate=k=v,k=...: complete the key after the last comma.  bash\n"
         "\t# splits words at '=' (COMP_WORDBREAKS), so the whole token comes from\n"
         "\t# the line, and each reply is cut to the part bash replaces.\n"
         "\tlocal line=${COMP_LINE:0:COMP_POINT}\n"
         "\tlocal full=${line##*[[:space:]]}\n"
         "\tlocal before=${line%\"$full\"}\n"
         "\twhile [[ $before == *[[:space:]] ]]; do before=${before%?}; done\n"
         "\tif [[ -n $keys && ( $full == --activate=* || ${before##*[[:space:]]} == --activate ) ]]; then\n"
         "\t\tlocal val=${full#--activate=} head= pre\n"
         "\t\t[[ $val == *,* ]] && head=${val%,*},\n"
         "\t\t[[ ${val##*,} == *=* ]] && return\n"
         "\t\tpre=${full%\"$cur\"}\n"
         "\t\tlocal k c\n"
         "\t\tCOMPREPLY=()\n"
         "\t\tfor k in $keys; do\n"
         "\t\t\tc=${full%\"$val\"}$head$k=\n"
         "\t\t\t[[ $c == \"$full\"* ]] && COMPREPLY+=(\"${c#\"$pre\"}\")\n"
         "\t\tdone\n"
         "\t\tcompopt -o nospace 2>/dev/null\n"
         "\t\treturn\n"
         "\tfi\n"
         "\tcase $prev in\n"

         "\t-i | --input | -o | --output | --baseline | --plot) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
         "\tesac\n"
         "\tif [[ $cur == -* ]]; then\n"
         "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "\telse\n"
         "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "\tfi\n"
         "}\n"
         "complete -F _diagnose_tools diagnose-tools\n";
}

void write_zsh_completion(const nlohmann::json &spec, std::ostream &out) {
  auto zhelp = [](std::string h) {
    std::string o;
    for (char c : h) {
      if (c == '[' || c == ']' || c == ':' || c == '\\') o += '\\';
      o += c;
    }
    return o;
  };
  out << "#compdef diagnose-tools\n"
         "# zsh completion for diagnose-tools\n"
         "# Generated by diagnose-tools --generate-completion zsh; do not edit.\n\n";
  for (const auto &s : spec["subcommands"]) {
    std::string fn = s["name"].get<std::string>();
    for (auto &c : fn)
      if (c == '-') c = '_';
    out << "_diagnose_tools_" << fn << "() {\n\t_arguments -s \\\n";
    for (const auto &o : s["options"]) {
      if (o["positional"]) {
        out << "\t\t" << sq("*:" + zhelp(o["help"]) + ":_files") << " \\\n";
        continue;
      }
      std::string names, excl;
      for (const auto &n : o["names"]) names += (names.empty() ? "" : ",") + n.get<std::string>();
      bool many = o["names"].size() > 1;
      std::string action;
      if (o["takes_value"]) {
        std::string n0 = o["names"].back();
        if (n0 == "--activate" && s.contains("keys")) {
          action = ":settings:->activate";
        } else if (!o["choices"].empty()) {
          std::string c;
          for (const auto &x : o["choices"]) c += (c.empty() ? "" : " ") + x.get<std::string>();
          action = ":" + n0.substr(2) + ":(" + c + ")";
        } else {
          std::string t = o["type"].get<std::string>();
          bool file = n0 == "--input" || n0 == "--output" || n0 == "--baseline" || n0 == "--plot";
          action = ":" + zhelp(t.empty() ? "value" : t) + (file ? ":_files" : ": ");
        }
      }
      std::string eq = o["takes_value"] ? "=" : "";
      if (many) {
        // '(-i --input)'{-i,--input}'=[help]:...': the braces unquoted,
        // so zsh expands them into one spec per name
        std::string x;
        for (const auto &n : o["names"]) x += (x.empty() ? "" : " ") + n.get<std::string>();
        out << "\t\t" << sq("(" + x + ")") << "{" << names << "}"
            << sq(eq + "[" + zhelp(o["help"]) + "]" + action) << " \\\n";
      } else {
        out << "\t\t" << sq(names + eq + "[" + zhelp(o["help"]) + "]" + action) << " \\\n";
      }
    }
    out << "\t\t&& return\n";
    if (s.contains("keys")) {
      out << "\tcase $state in\n\tactivate)\n\t\t_values -s , 'key'";
      for (const auto &k : s["keys"])
        out << " \\\n\t\t\t" << sq(k["name"].get<std::string>() + "[" + zhelp(k["help"]) + "]:" +
                                   zhelp(k["kind"]) + ": ");
      out << " ;;\n\tesac\n";
    }
    out << "}\n\n";
  }
  out << "_diagnose_tools() {\n\tlocal line state\n\t_arguments -C \\\n";
  for (const auto &o : spec["options"]) {
    for (const auto &n : o["names"])
      out << "\t\t" << sq(n.get<std::string>() + "[" + zhelp(o["help"]) + "]") << " \\\n";
  }
  out << "\t\t'1: :->cmd' '*:: :->args' && return\n\tcase $state in\n\tcmd)\n"
         "\t\tlocal -a cmds\n\t\tcmds=(\n";
  for (const auto &s : spec["subcommands"])
    out << "\t\t\t" << sq(s["name"].get<std::string>() + ":" + zhelp(s["help"])) << "\n";
  out << "\t\t)\n\t\t_describe command cmds ;;\n\targs)\n\t\tcase $line[1] in\n";
  for (const auto &s : spec["subcommands"]) {
    std::string fn = s["name"].get<std::string>();
    for (auto &c : fn)
      if (c == '-') c = '_';
    out << "\t\t" << s["name"].get<std::string>() << ") _diagnose_tools_" << fn << " ;;\n";
  }
  out << "\t\tesac ;;\n\tesac\n}\n\n_diagnose_tools \"$@\"\n";
}

bool run_doc_generator(const CLI::App &app, const std::vector<std::unique_ptr<Command>> &commands,
                       int argc, char **argv, int *rc) {
  if (argc < 2) return false;
  const std::string what = argv[1];
  if (what != "--dump-cli-spec" && what != "--generate-man" && what != "--generate-completion")
    return false;
  nlohmann::json spec = cli_spec(app, commands);
  *rc = kExitOk;
  if (what == "--dump-cli-spec") {
    std::cout << spec.dump(2) << '\n';
  } else if (what == "--generate-man") {
    if (argc != 3) {
      std::cerr << "usage: diagnose-tools --generate-man DIR\n";
      *rc = kExitUsage;
      return true;
    }
    for (const auto &[name, text] : man_pages(spec)) {
      std::ofstream f(std::string(argv[2]) + "/" + name);
      f << text;
      if (!f) {
        std::cerr << "diagnose-tools: cannot write " << argv[2] << "/" << name << '\n';
        *rc = kExitFailed;
      }
    }
  } else {
    std::string shell = argc == 3 ? argv[2] : "";
    if (shell == "bash") {
      write_bash_completion(spec, std::cout);
    } else if (shell == "zsh") {
      write_zsh_completion(spec, std::cout);
    } else {
      std::cerr << "usage: diagnose-tools --generate-completion bash|zsh\n";
      *rc = kExitUsage;
    }
  }
  return true;
}

}  // namespace diag
