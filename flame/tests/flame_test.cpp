// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests of the flame library on fixed inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "flame/input.h"
#include "flame/profile.h"
#include "flame/render.h"

namespace flame {
namespace {

Profile read_text(std::string_view text, ReadOptions ro = {}, BuildOptions bo = {}) {
  Profile p(bo);
  read_input_text(text, p, ro);
  p.finish();
  return p;
}

std::string folded(const Profile &p) {
  std::ostringstream out;
  write_folded(p, out);
  return out.str();
}

std::string svg(const Profile &p, SvgOptions o = {}) {
  std::ostringstream out;
  write_svg(p, o, out);
  return out.str();
}

// Frames of an SVG: title -> (x, width, fill)
struct Rect {
  double x, width;
  std::string fill, label;
  int count;
};
std::map<std::string, Rect> rects(const std::string &svg) {
  std::map<std::string, Rect> out;
  std::regex re(
      "<g(?: class=\"sep\")? c=\"(\\d+)\"><title>([^<]*?) \\([^<]*\\)</title><rect x=\"([0-9.]+)\" "
      "y=\"[0-9.]+\" width=\"([0-9.]+)\" height=\"[0-9.]+\" fill=\"([^\"]+)\"/><text "
      "[^>]*>([^<]*)</text></g>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    const auto &m = *it;
    out[m[2]] = {std::stod(m[3]), std::stod(m[4]), m[5], m[6], std::stoi(m[1])};
  }
  return out;
}

size_t count_of(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

// ------------------------------------------------------------ folded

TEST(Folded, MergesDuplicatesAndSortsByName) {
  auto p = read_text(
      "main;b;c 5\n"
      "main;a 2\n"
      "main;b;c 3\n"
      "main;b 1\n"
      "other 7\n"
      "main;a 1\n");
  EXPECT_EQ(folded(p),
            "main;a 3\n"
            "main;b 1\n"
            "main;b;c 8\n"
            "other 7\n");
  EXPECT_EQ(p.total(Profile::kRoot), 19u);
}

TEST(Folded, NamesWithSpacesDigitsAndEmptyFramesSurvive) {
  auto p = read_text(
      "a b;operator<< (x) 10\n"
      "a b;operator<< (x) 5\n"
      "x;;y 1\n"
      "x;;y 2\n"
      "not a stack line\n"
      "\n");
  EXPECT_EQ(folded(p),
            "a b;operator<< (x) 15\n"
            "x;;y 3\n");
}

TEST(Folded, PrefixStacksAreNotConfusedWithEachOther) {
  // "a;b" vs "a;b;" vs "ab": the line cache must not mix them up
  auto p = read_text("a;b 1\nab 2\na;b; 4\na;b 8\nab 16\na;b; 32\n");
  EXPECT_EQ(folded(p), "a;b 9\na;b; 36\nab 18\n");
  auto r = read_text("a;b 1\nab 2\nb;a 4\na;b 8\n", {}, {.reverse = true});
  EXPECT_EQ(folded(r), "a;b 4\nab 2\nb;a 9\n");
}

TEST(Folded, NamesThatArePrefixesOfOthersKeepOneNodePerPath) {
  // "b", "b x" and "b!" sort around "b;..." in byte order; each call path
  // must still be one node (folded output merges them back exactly)
  auto p = read_text("a;b;x 1\na;b x;y 2\na;b 4\na;b!;z 8\na;b;y 16\na 32\n;a 64\n");
  EXPECT_EQ(folded(p), ";a 64\na 32\na;b 4\na;b;x 1\na;b;y 16\na;b x;y 2\na;b!;z 8\n");
  // one node for "a;b" whatever the order the stacks came in
  size_t b_nodes = 0;
  for (size_t n = 0; n < p.size(); ++n)
    if (p.name(n) == "b" && p.name(p.parent(n)) == "a") ++b_nodes;
  EXPECT_EQ(b_nodes, 1u);
}

TEST(Folded, SeveralInputsOfDifferentFormsMerge) {
  Profile p;
  read_input_text("worker;do_sys_openat2_[k] 5\napp;main 1\n", p, {});
  read_input_text(
      "    KERNEL STACK:\n"
      "#@        0xffffffff81000172 do_sys_openat2+0x72  ([kernel.kallsyms])\n"
      "#*        0xffffffffffffff worker (UNKNOWN)\n"
      "#%        2\n"
      "##\n",
      p, {});
  read_input_text("app;main 3\napp 1\n", p, {});
  p.finish();
  EXPECT_EQ(folded(p), "app 1\napp;main 4\nworker;do_sys_openat2_[k] 7\n");
  size_t worker_nodes = 0;
  for (size_t n = 0; n < p.size(); ++n) worker_nodes += p.name(n) == "worker";
  EXPECT_EQ(worker_nodes, 1u);
}

TEST(Folded, DifferentialInputKeepsBothColumns) {
  auto p = read_text("main;a 10 4\nmain;b 0 6\nmain;a 1 1\n");
  EXPECT_TRUE(p.differential());
  EXPECT_EQ(folded(p), "main;a 11 5\nmain;b 0 6\n");
  // a baseline given as its own input
  Profile q;
  read_input_text("main;a 5\nmain;b 5\n", q, {});
  ReadOptions base;
  base.baseline = true;
  read_input_text("main;a 2\nmain;c 4\n", q, base);
  q.finish();
  EXPECT_EQ(folded(q), "main;a 2 5\nmain;b 0 5\nmain;c 4 0\n");
}

TEST(Folded, ReverseMergesOnTheLeaf) {
  auto p = read_text("a;b;leaf 1\nc;leaf 2\n", {}, {.reverse = true});
  EXPECT_EQ(folded(p), "leaf;b;a 1\nleaf;c 2\n");
}

TEST(Folded, FlameChartKeepsInputOrderAndMergesOnlyNeighbours) {
  auto p = read_text("m;b 1\nm;b 2\nm;a 4\nm;b 8\n", {}, {.flamechart = true});
  EXPECT_EQ(folded(p), "m;b 3\nm;a 4\nm;b 8\n");
}

// ------------------------------------------------------------ reports

const char *kReport =
    "KPROBE HIT: PID: 7[app], TIME: [1:2]\n"
    "##CGROUP:[/system.slice/app.service]  7      [7]  KPROBE HIT, TIME: [1:2]\n"
    "    KERNEL STACK:\n"
    "#@        0xffffffff81000172 do_sys_openat2+0x72  ([kernel.kallsyms])\n"
    "#@        0xffffffff81000210 __x64_sys_openat+0x10/0x30  ([kernel.kallsyms])\n"
    "#@        0xffffffffc0001010 [unknown]  ([xfs])\n"
    "    USER STACK:\n"
    "#~        0x0000000000401000 ns::f<int>(int) const at app.cc:12 [inlined] (app)\n"
    "#~        0x0000000000401100 std::operator<< <char>(std::ostream&, char const*) (libstdc++.so.6)\n"
    "#~        0x0000000000401200 [unknown]+0x1200 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "#~        0x0000000000401300 main (app)\n"
    "#*        0xffffffffffffff app (UNKNOWN)\n"
    "    PROCESS CHAIN:\n"
    "#^        0xffffffffffffff app[7] (UNKNOWN)\n"
    "#^        0xffffffffffffff systemd[1] (UNKNOWN)\n"
    "#%        3\n"
    "##\n"
    "KPROBE HIT: PID: 9[worker], TIME: [1:3]\n"
    "    KERNEL STACK:\n"
    "#@        0xffffffff81000172 do_sys_openat2+0x72  ([kernel.kallsyms])\n"
    "    USER STACK:\n"
    "#*        0xffffffffffffff worker (UNKNOWN)\n"
    "##\n";

const char *kReportFolded =
    "app;main;[libc.so.6];std::operator<< <char>(std::ostream&, char const*);"
    "ns::f<int>(int) const_[i];-;[xfs]_[k];__x64_sys_openat_[k];do_sys_openat2_[k] 3\n"
    "worker;do_sys_openat2_[k] 1\n";

TEST(Report, TextBlocksBecomeStacksWithKernelAboveUser) {
  Profile p;
  auto st = read_input_text(kReport, p, {});
  p.finish();
  EXPECT_EQ(st.format, InputFormat::kReport);
  EXPECT_EQ(st.stacks, 2u);
  EXPECT_EQ(st.samples, 4u);
  EXPECT_EQ(folded(p), kReportFolded);
}

TEST(Report, JsonGivesTheSameStacksAsText) {
  nlohmann::json j = {
      {"function", "kprobe"},
      {"stacks",
       {{{"count", 3},
         {"pid", 7},
         {"tgid", 7},
         {"comm", "app"},
         {"cgroup", "/system.slice/app.service"},
         {"kernel_stack",
          {{{"addr", "0xffffffff81000172"}, {"symbol", "do_sys_openat2+0x72"}, {"module", "[kernel.kallsyms]"}},
           {{"addr", "0xffffffff81000210"}, {"symbol", "__x64_sys_openat+0x10/0x30"}, {"module", "[kernel.kallsyms]"}},
           {{"addr", "0xffffffffc0001010"}, {"symbol", "[unknown]"}, {"module", "[xfs]"}}}},
         {"user_stack",
          {{{"addr", "0x401000"}, {"symbol", "ns::f<int>(int) const"}, {"module", "app"}, {"file", "app.cc"}, {"line", 12}, {"inlined", true}},
           {{"addr", "0x401100"}, {"symbol", "std::operator<< <char>(std::ostream&, char const*)"}, {"module", "libstdc++.so.6"}},
           {{"addr", "0x401200"}, {"symbol", "[unknown]+0x1200"}, {"module", "/usr/lib/x86_64-linux-gnu/libc.so.6"}},
           {{"addr", "0x401300"}, {"symbol", "main"}, {"module", "app"}}}},
         {"process_chain", {{{"pid", 7}, {"comm", "app"}}}}},
        {{"count", 1},
         {"pid", 9},
         {"comm", "worker"},
         {"kernel_stack", {{{"addr", "0xffffffff81000172"}, {"symbol", "do_sys_openat2+0x72"}, {"module", "[kernel.kallsyms]"}}}},
         {"user_stack", nlohmann::json::array()}}}}};
  Profile p;
  auto st = read_input_text(j.dump(2), p, {});
  p.finish();
  EXPECT_EQ(st.format, InputFormat::kJson);
  EXPECT_EQ(folded(p), kReportFolded);
}

TEST(Report, PerPidAndPerCgroupRoots) {
  ReadOptions o;
  o.per_pid = true;
  o.per_cgroup = true;
  auto p = read_text(kReport, o);
  std::string f = folded(p);
  EXPECT_NE(f.find("/system.slice/app.service;app[7];main;"), std::string::npos) << f;
  EXPECT_NE(f.find("[no cgroup];worker;do_sys_openat2_[k] 1"), std::string::npos) << f;
}

TEST(Report, CutShortReportKeepsItsLastBlock) {
  std::string cut = kReport;
  cut.resize(cut.rfind("##\n"));
  auto p = read_text(cut);
  EXPECT_EQ(folded(p), kReportFolded);
}

// ------------------------------------------------------------ perf script

const char *kPerf =
    "# ========\n"
    "# captured on: today\n"
    "# ========\n"
    "Web Content  1234/1240 [001] 12345.678901:     250000 cpu-clock:pppH: \n"
    "\tffffffff81a0b1c2 do_syscall_64+0x42 ([kernel.kallsyms])\n"
    "\tffffffff81c0007c entry_SYSCALL_64_after_hwframe+0x44 ([kernel.kallsyms])\n"
    "\t    7f0e1a2b3c4d __GI___libc_write+0x1d (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\t    55d5e0c01234 std::vector<int, std::allocator<int> >::push_back(int const&) (/usr/bin/app)\n"
    "\t    55d5e0c00100 main (/usr/bin/app)\n"
    "\n"
    "swapper     0 [000] 12345.679000:     250000 cpu-clock:pppH: \n"
    "\tffffffff81a0ffff default_idle+0x1e ([kernel.kallsyms])\n"
    "\n"
    "app  99 [000] 12345.680000:     250000 cpu-clock:pppH: \n"
    "\t    55d5e0c0aaaa [unknown] (/usr/bin/app)\n"
    "\t    55d5e0c00100 main (/usr/bin/app)\n"
    "\n";

TEST(Perf, SamplesBecomeStacks) {
  Profile p;
  auto st = read_input_text(kPerf, p, {});
  p.finish();
  EXPECT_EQ(st.format, InputFormat::kPerf);
  EXPECT_EQ(st.stacks, 3u);
  EXPECT_EQ(st.samples, 750000u);
  EXPECT_EQ(st.event, "cpu-clock:pppH");
  // the comm's space becomes '_', offsets and argument lists go, kernel
  // frames carry no suffix and no separator, an unresolved frame is named
  // after its module
  EXPECT_EQ(folded(p),
            "Web_Content;main;std::vector<int, std::allocator<int> >::push_back;"
            "__GI___libc_write;entry_SYSCALL_64_after_hwframe;do_syscall_64 250000\n"
            "app;main;[app] 250000\n"
            "swapper;default_idle 250000\n");
  ReadOptions o;
  o.per_pid = true;
  auto q = read_text(kPerf, o);
  EXPECT_NE(folded(q).find("Web_Content[1234];main"), std::string::npos);
  EXPECT_NE(folded(q).find("app[99];main"), std::string::npos);  // only a TID: that one
}

template <class... Flags>
PerfOptions with(Flags... flags) {
  PerfOptions o;
  ((o.*flags = true), ...);
  return o;
}
PerfOptions only_event(std::string event) {
  PerfOptions o;
  o.event_filter = std::move(event);
  return o;
}

// One case per layout and rule of stackcollapse-perf.pl's default folding;
// each expected line is the rule applied by hand.
std::string fold_perf(std::string_view text, PerfOptions po = {}, ReadStats *stats = nullptr) {
  ReadOptions ro;
  ro.format = InputFormat::kPerf;
  ro.perf = std::move(po);
  Profile p;
  ReadStats st = read_input_text(text, p, ro);
  if (stats) *stats = st;
  p.finish();
  return folded(p);
}

TEST(Perf, FrameLinesWithoutIndentation) {
  // older perf: frames start at the line's first column
  const char *old =
      "swapper     0 [000] 158665.570607: cpu-clock: \n"
      "ffffffff8103ce3b native_safe_halt ([kernel.kallsyms])\n"
      "ffffffff8101c6a3 default_idle ([kernel.kallsyms])\n"
      "ffffffff81aebbfe start_kernel ([kernel.kallsyms].init.text)\n"
      "\n"
      "java 25607 4794564.109216: cpu-clock:\n"
      "7f722d142778 Ljava/io/PrintStream;::print (/tmp/perf-19982.map)\n"
      "7f722d0077a0 Interpreter (/tmp/perf-19982.map)\n"
      "\n";
  EXPECT_EQ(detect_input_format(old), InputFormat::kPerf);
  ReadStats st;
  EXPECT_EQ(fold_perf(old, {}, &st),
            "java;Interpreter;java/io/PrintStream:::print 1\n"
            "swapper;start_kernel;default_idle;native_safe_halt 1\n");
  EXPECT_EQ(st.ignored_lines, 0u);
  // with the tab and padded addresses of perf 3.x, the same stacks
  std::string tabbed = old;
  for (size_t p = 0; (p = tabbed.find("\nf", p)) != std::string::npos; p += 2) tabbed.insert(p + 1, "\t");
  for (size_t p = 0; (p = tabbed.find("\n7", p)) != std::string::npos; p += 2) tabbed.insert(p + 1, "\t    ");
  EXPECT_EQ(fold_perf(tabbed), fold_perf(old));
}

TEST(Perf, PeriodWeighsEachSample) {
  const char *text =
      "dd 4123 [001] 100.000001:     250000 cpu-clock: \n"
      "\t    7f01 read+0x12 (/usr/lib/libc.so.6)\n"
      "\n"
      "dd 4123 [001] 100.000002:     125000 cpu-clock: \n"
      "\t    7f01 read+0x14 (/usr/lib/libc.so.6)\n"
      "\n"
      "dd 4123 [001] 100.000003:          0 cpu-clock: \n"  // 0 counts as 1
      "\t    7f01 write+0x1 (/usr/lib/libc.so.6)\n"
      "\n"
      "dd 4123 100.000004: cpu-clock:\n"  // no period field: 1
      "\t    7f01 write+0x1 (/usr/lib/libc.so.6)\n"
      "\n";
  ReadStats st;
  EXPECT_EQ(fold_perf(text, {}, &st), "dd;read 375000\ndd;write 2\n");
  EXPECT_EQ(st.samples, 375002u);
  // a period beyond what a profile can sum is malformed input
  Profile p;
  ReadOptions ro;
  ro.format = InputFormat::kPerf;
  EXPECT_THROW(
      read_input_text("dd 1 1.0: 99999999999999999999 cpu-clock:\n\t1 a (m)\n\n", p, ro),
      FormatError);
}

TEST(Perf, FirstEventOnlyUnlessFiltered) {
  const char *text =
      "app 7 1.000: 1000 cycles: \n"
      "\t1 hot (/bin/app)\n"
      "\n"
      "app 7 1.001: 3000 instructions: \n"
      "\t1 hot (/bin/app)\n"
      "\t2 main (/bin/app)\n"
      "\n"
      "app 7 1.002: 500 cycles: \n"
      "\t2 main (/bin/app)\n"
      "\n"
      "app 7 1.003: 700 instructions: \n"
      "\t2 main (/bin/app)\n"
      "\n";
  ReadStats st;
  EXPECT_EQ(fold_perf(text, {}, &st), "app;hot 1000\napp;main 500\n");
  EXPECT_EQ(st.event, "cycles");
  EXPECT_EQ(st.other_event_samples, 2u);
  EXPECT_EQ(st.other_event, "instructions");
  EXPECT_EQ(fold_perf(text, only_event("instructions"), &st),
            "app;main 700\napp;main;hot 3000\n");
  EXPECT_EQ(st.other_event_samples, 2u);
  EXPECT_EQ(st.other_event, "cycles");
  // a tracepoint header ends in its fields, not in its event: its samples
  // count 1 each and are kept whatever the filter
  const char *trace =
      "sleep 88 [000] 5.5: sched:sched_switch: prev_comm=sleep prev_pid=88 ==> next_comm=swapper\n"
      "\tffffffff81 __schedule+0x2 ([kernel.kallsyms])\n"
      "\n"
      "sleep 88 [000] 5.6: 10 cycles: \n"
      "\tffffffff81 __schedule+0x2 ([kernel.kallsyms])\n"
      "\n";
  EXPECT_EQ(fold_perf(trace), "sleep;__schedule 11\n");
  EXPECT_EQ(fold_perf(trace, only_event("instructions")), "sleep;__schedule 1\n");
}

TEST(Perf, ArgumentListsAreCutUnlessKept) {
  const char *text =
      "node 9 1.0: 1 cpu-clock:\n"
      "\t55 node::Start(int, char**) (/usr/bin/node)\n"
      "\t56 v8::(anonymous namespace)::Run(v8::Isolate*) (/usr/bin/node)\n"
      "\t57 net/http.(*Client).Do (/usr/bin/gosrv)\n"
      "\t58 RegExp:[&<>\"'] (/tmp/perf-9.map)\n"
      "\t59 a;b(int) (/usr/bin/node)\n"
      "\t5a (process) (/usr/bin/node)\n"
      "\t5b (anonymous namespace)::Top() (/usr/bin/node)\n"
      "\n";
  // ';' inside a name becomes ':'; quotes go; a frame whose name starts
  // with '(' is left out, even "(anonymous namespace)::"; Go method names
  // keep their parentheses
  EXPECT_EQ(fold_perf(text),
            "node;a:b;RegExp:[&<>];net/http.(*Client).Do;v8::(anonymous namespace)::Run;node::Start 1\n");
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::keep_args)),
            "node;a:b(int);RegExp:[&<>];net/http.(*Client).Do;"
            "v8::(anonymous namespace)::Run(v8::Isolate*);node::Start(int, char**) 1\n");
}

TEST(Perf, AnnotationsOnlyWhenAsked) {
  const char *text =
      "app 7 1.0: 1 cpu-clock:\n"
      "\tffffffff81 do_syscall_64+0x5d ([kernel.kallsyms])\n"
      "\t8c3453 tcp_sendmsg (/lib/modules/4.3.0/build/vmlinux)\n"
      "\t7d8 ipv4_conntrack_local+0x7f8f80b8 ([nf_conntrack_ipv4])\n"
      "\t7fff1 __vdso_clock_gettime ([vdso])\n"
      "\t7f722 Ljava/io/PrintStream;::print (/tmp/perf-19982.map)\n"
      "\t7f7 [unknown] ([unknown])\n"
      "\t4005 main (/bin/app)\n"
      "\n";
  EXPECT_EQ(fold_perf(text),
            "app;main;[unknown];Ljava/io/PrintStream:::print;__vdso_clock_gettime;"
            "ipv4_conntrack_local;tcp_sendmsg;do_syscall_64 1\n");
  // --kernel: modules in brackets (but [unknown]) and vmlinux
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::kernel)),
            "app;main;[unknown];Ljava/io/PrintStream:::print;__vdso_clock_gettime_[k];"
            "ipv4_conntrack_local_[k];tcp_sendmsg_[k];do_syscall_64_[k] 1\n");
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::jit)),
            "app;main;[unknown];Ljava/io/PrintStream:::print_[j];__vdso_clock_gettime;"
            "ipv4_conntrack_local;tcp_sendmsg;do_syscall_64 1\n");
  // inlined frames ("f->g" on one line) always get _[i]
  EXPECT_EQ(fold_perf("app 7 1.0: 1 cpu-clock:\n\t1 outer->mid->inner+0x4 ([kernel.kallsyms])\n\n",
                      with(&PerfOptions::kernel)),
            "app;outer_[k];mid_[i];inner_[i] 1\n");
}

TEST(Perf, UnknownFramesNamedAfterTheirModule) {
  const char *text =
      "app 7 1.0: 1 cpu-clock:\n"
      "\t7f01 [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
      "\t7f02 [unknown] ([unknown])\n"
      "\tffffffff8 [unknown] ([kernel.kallsyms])\n"
      "\n";
  EXPECT_EQ(fold_perf(text), "app;[[kernel.kallsyms]];[unknown];[libc.so.6] 1\n");
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::addrs)),
            "app;[[kernel.kallsyms] <ffffffff8>];[unknown <7f02>];[libc.so.6 <7f01>] 1\n");
}

TEST(Perf, EmptyStackIsTheProcessAlone) {
  EXPECT_EQ(fold_perf("swapper     0 [000] 1.0:     250000 cpu-clock: \n\n"
                      "swapper     0 [000] 1.1:     250000 cpu-clock: \n\n"),
            "swapper 500000\n");
}

TEST(Perf, PidAndTidHeaders) {
  const char *text =
      "java 24636/25607 [000] 4794564.109216: 1 cycles:\n"
      "\t1 Lorg/mozilla/javascript/MemberBox;.<init>(Ljava/lang/reflect/Method;)V (/tmp/perf-24636.map)\n"
      "\n"
      "V8 WorkerThread 24636/25608 [000] 94564.109216: 100 cycles:\n"
      "\t2 Builtins_Call (/usr/bin/node)\n"
      "\n"
      "java 25609 4794564.109216: 1 cycles:\n"
      "\n"
      "swapper     0/0 [000] 1.0: 1 cycles:\n"
      "\n";
  EXPECT_EQ(fold_perf(text),
            "V8_WorkerThread;Builtins_Call 100\n"
            "java 1\n"
            "java;org/mozilla/javascript/MemberBox:.<init> 1\n"
            "swapper 1\n");
  // a header without a PID names it '?'; a TID of 0 reads as no TID
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::pid)),
            "V8_WorkerThread-24636;Builtins_Call 100\n"
            "java-24636;org/mozilla/javascript/MemberBox:.<init> 1\n"
            "java-? 1\n"
            "swapper-? 1\n");
  EXPECT_EQ(fold_perf(text, with(&PerfOptions::tid)),
            "V8_WorkerThread-24636/25608;Builtins_Call 100\n"
            "java-24636/25607;org/mozilla/javascript/MemberBox:.<init> 1\n"
            "java-?/25609 1\n"
            "swapper-?/0 1\n");
}

TEST(Perf, SamplesEndAtAnEmptyLineOnly) {
  // a line of spaces does not end a sample (it is not part of one either);
  // a sample that no empty line ends (a file cut short) is not counted
  ReadStats st;
  EXPECT_EQ(fold_perf("a1 1 1.0: c:\n\t1 f (m)\n   \n\t2 g (m)\n\nb2 2 2.0: c:\n\t1 h (m)\n",
                      {}, &st),
            "a1;g;f 1\n");
  EXPECT_EQ(st.ignored_lines, 1u);
  // frames before any header, and "perf script --header" comments, are not part of a stack
  EXPECT_EQ(fold_perf("# cmdline : perf record\n\t1 lost (m)\n\nx1 1 1.0: c:\n\t1 f (m)\n\n"),
            "x1;f 1\n");
}

// Whole `perf script` files (tests/data/perf): recorded with perf 6.1 on
// this project's host (node with --perf-basic-prof, java without a map
// agent, C++ with frame pointers and with DWARF unwinding, Rust, dd's page
// faults with -c 1, two events in one file, a system-wide tracepoint, and
// several -F field choices) and one hand-written file of older layouts.
// Each NAME[.OPTION].folded is what stackcollapse-perf.pl [--OPTION] NAME.txt
// prints (keep-args: its rules without the cut at '('), sorted.
std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> sorted_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(Perf, WholeFilesFoldAsTheReference) {
  struct Case {
    const char *name, *option;
    PerfOptions po;
  };
  const Case cases[] = {
      {"cpp", "", {}},
      {"cpp", "kernel", with(&PerfOptions::kernel)},
      {"cpp-dwarf-unwind", "", {}},
      {"cpp-no-demangle", "", {}},
      {"dd-header-periods", "", {}},
      {"dd-page-faults-pid-tid", "", {}},
      {"dd-page-faults-pid-tid", "pid", with(&PerfOptions::pid)},
      {"dd-page-faults-pid-tid", "tid", with(&PerfOptions::tid)},
      {"java-no-agent", "", {}},
      {"java-no-agent", "addrs", with(&PerfOptions::addrs)},
      {"node-perf-map", "", {}},
      {"node-perf-map", "jit", with(&PerfOptions::jit)},
      {"node-perf-map", "all", with(&PerfOptions::kernel, &PerfOptions::jit)},
      {"old-layouts", "", {}},
      {"old-layouts", "all", with(&PerfOptions::kernel, &PerfOptions::jit)},
      {"old-layouts", "keep-args", with(&PerfOptions::keep_args)},
      {"rust", "", {}},
      {"sched-switch-tracepoint", "", {}},
      {"sched-switch-tracepoint", "tid", with(&PerfOptions::tid)},
      {"sched-switch-tracepoint", "keep-args", with(&PerfOptions::keep_args)},
      {"two-events-symoff", "", {}},
      {"two-events-symoff", "task-clock", only_event("task-clock")},
  };
  const std::string dir = std::string(FLAME_TEST_DATA) + "/perf/";
  for (const Case &c : cases) {
    std::string input = read_file(dir + c.name + ".txt");
    std::string expected =
        read_file(dir + c.name + (*c.option ? std::string(".") + c.option : "") + ".folded");
    ASSERT_FALSE(expected.empty()) << c.name;
    // told apart from the other formats by its content
    EXPECT_EQ(detect_input_format(std::string_view(input).substr(0, 64 << 10)), InputFormat::kPerf)
        << c.name;
    ReadOptions ro;
    ro.perf = c.po;
    Profile p;
    read_input_text(input, p, ro, c.name);
    p.finish();
    EXPECT_EQ(sorted_lines(folded(p)), sorted_lines(expected)) << c.name << " " << c.option;
  }
}

// ------------------------------------------------------------ detection

TEST(Detect, EachFormatFromItsContent) {
  EXPECT_EQ(detect_input_format(kReport), InputFormat::kReport);
  EXPECT_EQ(detect_input_format(kPerf), InputFormat::kPerf);
  EXPECT_EQ(detect_input_format("  {\"stacks\": []}"), InputFormat::kJson);
  EXPECT_EQ(detect_input_format("a;b 1\nc 2\n"), InputFormat::kFolded);
  EXPECT_EQ(detect_input_format("a;b 1 2\n"), InputFormat::kFolded);
  EXPECT_EQ(detect_input_format("a;b 1"), InputFormat::kFolded);
  EXPECT_EQ(detect_input_format("hello world\nthis is prose\n"), std::nullopt);
  EXPECT_EQ(detect_input_format(""), std::nullopt);
  Profile p;
  EXPECT_THROW(read_input_text("hello world\n", p, {}), InputError);
  EXPECT_THROW(read_input_text("{\"other\": 1}", p, {}), InputError);
  EXPECT_THROW(read_input_text("{\"stacks\": [", p, {}), InputError);
}

TEST(Names, FrameNamesAreCleanedNotMangled) {
  EXPECT_EQ(frame_name("do_sys_open+0x1f/0x80", "[kernel.kallsyms]", true), "do_sys_open_[k]");
  EXPECT_EQ(frame_name("operator+", "app", false), "operator+");
  EXPECT_EQ(frame_name("a::operator+=(int)", "app", false), "a::operator+=(int)");
  EXPECT_EQ(frame_name("f<(x>0)>() at f.h:3", "app", false), "f<(x>0)>()");
  EXPECT_EQ(frame_name("[unknown]", "/lib/libz.so.1", false), "[libz.so.1]");
  EXPECT_EQ(frame_name("[unknown]", "[unknown]", false), "[unknown]");
  EXPECT_EQ(frame_name("g(int;)", "app", false), "g(int:)");
  EXPECT_EQ(frame_kind("x_[k]"), FrameKind::kKernel);
  EXPECT_EQ(display_name("x_[k]"), "x");
  EXPECT_EQ(display_name("y_[i]"), "y");
}

// ------------------------------------------------------------ SVG

TEST(Svg, FrameWidthsAreProportionalToCounts) {
  auto p = read_text("main;a 300\nmain;b 100\nmain;b;c 50\nother 550\n");
  SvgOptions o;
  o.width = 1020;  // 1000 px of plot
  auto r = rects(svg(p, o));
  ASSERT_TRUE(r.count("all") && r.count("main") && r.count("a") && r.count("b") && r.count("c") &&
              r.count("other"));
  EXPECT_NEAR(r["all"].width, 1000, 0.011);
  EXPECT_NEAR(r["main"].width, 450, 0.011);
  EXPECT_NEAR(r["a"].width, 300, 0.011);
  EXPECT_NEAR(r["b"].width, 150, 0.011);
  EXPECT_NEAR(r["c"].width, 50, 0.011);
  EXPECT_NEAR(r["other"].width, 550, 0.011);
  // siblings side by side, in name order, children start at their parent
  EXPECT_NEAR(r["a"].x, r["main"].x, 0.011);
  EXPECT_NEAR(r["b"].x, r["a"].x + r["a"].width, 0.011);
  EXPECT_NEAR(r["other"].x, r["main"].x + r["main"].width, 0.011);
  EXPECT_EQ(r["main"].count, 450);
  for (auto &[name, rect] : r)
    EXPECT_NEAR(rect.width / 1000, rect.count / 1000.0, 0.0001) << name;
}

TEST(Svg, EscapesNamesAndTruncatesOnlyTheLabel) {
  std::string name = "std::map<int, std::string>::operator[](int const&) & \"q\" 'a'";
  auto p = read_text(name + " 1\nx 1000\n");
  std::string s = svg(p);
  EXPECT_NE(s.find("<title>std::map&lt;int, std::string&gt;::operator[](int const&amp;) &amp; "
                   "&quot;q&quot; &apos;a&apos; (1 samples, 0.10%)</title>"),
            std::string::npos);
  EXPECT_EQ(s.find("<int"), std::string::npos);
  // a narrow frame's label is cut with "..", its title is whole
  auto q = read_text(name + " 100\nx 900\n");
  auto r = rects(svg(q));
  std::string label = r["std::map&lt;int, std::string&gt;::operator[](int const&amp;) &amp; "
                        "&quot;q&quot; &apos;a&apos;"]
                          .label;
  EXPECT_TRUE(label.ends_with("..")) << label;
  EXPECT_TRUE(label.starts_with("std::map&lt;int")) << label;
}

TEST(Svg, InvalidUtf8AndControlCharactersAreReplaced) {
  std::string out;
  append_xml_escaped(out, std::string("a\xff" "b\x01" "c\xc3\xa9", 7));
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xc3\xa9");
  std::string j;
  append_json_escaped(j, "q\"\\<\x02");
  EXPECT_EQ(j, "q\\\"\\\\\\u003c\\u0002");
}

TEST(Svg, NarrowFramesAreNotDrawn) {
  auto p = read_text("main;big 10000\nmain;tiny1 1\nmain;tiny2 1\n");
  SvgOptions o;
  o.width = 1020;
  o.min_width = 0.5;  // px: a 1-sample frame is 0.1 px
  std::string s = svg(p, o);
  EXPECT_EQ(count_of(s, "<g c="), 3u);  // all, main, big
  EXPECT_EQ(s.find("tiny"), std::string::npos);
  o.min_width = 0.05;
  EXPECT_EQ(count_of(svg(p, o), "<g c="), 5u);
  o.min_width = 0.5;
  o.min_width_percent = true;  // 0.5% of the total: tiny frames and nothing else
  EXPECT_EQ(count_of(svg(p, o), "<g c="), 3u);
}

TEST(Svg, ColoursFollowNamesAndKernelFramesStandApart) {
  EXPECT_EQ(frame_color("do_work", Palette::kHot), frame_color("do_work", Palette::kHot));
  EXPECT_NE(frame_color("do_work", Palette::kHot), frame_color("do_other", Palette::kHot));
  // the same name in two different graphs gets the same fill
  auto a = rects(svg(read_text("main;parse 5\nmain;zz 7\n")));
  auto b = rects(svg(read_text("x;y;parse 2\n")));
  EXPECT_EQ(a["parse"].fill, b["parse"].fill);
  // hot: user red..yellow (blue low), kernel aqua (blue high)
  auto blue = [](const std::string &rgb) {
    int r, g, b;
    std::sscanf(rgb.c_str(), "rgb(%d,%d,%d)", &r, &g, &b);
    return b;
  };
  EXPECT_LT(blue(frame_color("vfs_read", Palette::kHot)), 60);
  EXPECT_GT(blue(frame_color("vfs_read_[k]", Palette::kHot)), 160);
  EXPECT_EQ(frame_color("-", Palette::kHot), "rgb(110,110,110)");
  auto s = rects(svg(read_text("app;main;-;vfs_read_[k] 3\n")));
  EXPECT_TRUE(s.count("kernel"));  // the separator's label
  EXPECT_TRUE(s.count("vfs_read"));
}

TEST(Svg, DifferentialColoursRedForMoreBlueForLess) {
  EXPECT_EQ(diff_color(10, 10, false), "rgb(255,0,0)");
  EXPECT_EQ(diff_color(-10, 10, false), "rgb(0,0,255)");
  EXPECT_EQ(diff_color(-10, 10, true), "rgb(255,0,0)");
  EXPECT_EQ(diff_color(0, 10, false), "rgb(255,255,255)");
  auto r = rects(svg(read_text("m;grew 10 20\nm;shrank 20 10\nm;same 5 5\n")));
  EXPECT_EQ(r["grew"].fill, "rgb(255,0,0)");
  EXPECT_EQ(r["shrank"].fill, "rgb(0,0,255)");
  EXPECT_EQ(r["same"].fill, "rgb(255,255,255)");
  EXPECT_NEAR(r["grew"].width / r["shrank"].width, 2.0, 0.01);  // widths: the new counts
}

TEST(Svg, InvertedPutsRootsOnTop) {
  auto p = read_text("a;b 1\n");
  std::regex y_of_all("<title>all [^<]*</title><rect x=\"[0-9.]+\" y=\"([0-9.]+)\"");
  std::regex y_of_b("<title>b [^<]*</title><rect x=\"[0-9.]+\" y=\"([0-9.]+)\"");
  std::smatch m1, m2;
  std::string normal = svg(p);
  ASSERT_TRUE(std::regex_search(normal, m1, y_of_all) && std::regex_search(normal, m2, y_of_b));
  EXPECT_GT(std::stod(m1[1]), std::stod(m2[1]));
  SvgOptions o;
  o.inverted = true;
  std::string icicle = svg(p, o);
  ASSERT_TRUE(std::regex_search(icicle, m1, y_of_all) && std::regex_search(icicle, m2, y_of_b));
  EXPECT_LT(std::stod(m1[1]), std::stod(m2[1]));
  EXPECT_NE(icicle.find(">Icicle Graph<"), std::string::npos);
}

TEST(Svg, IsWellFormedXml) {
  std::string name = "weird <&>\"' \xff\x01 name";
  auto p = read_text("app;" + name + " 5\napp;-;k_[k] 3\n");
  SvgOptions o;
  o.title = "T <&> \"x\"";
  o.subtitle = "S ]]> </script>";
  o.countname = "by\"tes</";
  std::string path = ::testing::TempDir() + "/flame_wellformed.svg";
  {
    std::ofstream f(path);
    write_svg(p, o, f);
  }
  std::string cmd =
      "python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "not well-formed XML: " << path;
}

// ------------------------------------------------------------ speedscope

TEST(Speedscope, SamplesAndWeightsCoverEveryStack) {
  auto p = read_text("main;a 3\nmain;a;-;k_[k] 2\nother 5\n");
  std::ostringstream out;
  write_speedscope(p, "test", out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["$schema"], "https://www.speedscope.app/file-format-schema.json");
  const auto &prof = j["profiles"][0];
  EXPECT_EQ(prof["type"], "sampled");
  EXPECT_EQ(prof["endValue"], 10);
  ASSERT_EQ(prof["samples"].size(), 3u);
  ASSERT_EQ(prof["weights"].size(), 3u);
  std::vector<std::string> names;
  for (const auto &f : j["shared"]["frames"]) names.push_back(f["name"]);
  auto stack = [&](int i) {
    std::string s;
    for (int idx : prof["samples"][i]) s += (s.empty() ? "" : ";") + names[idx];
    return s + " " + std::to_string(prof["weights"][i].get<int>());
  };
  EXPECT_EQ(stack(0), "main;a 3");
  EXPECT_EQ(stack(1), "main;a;[kernel];k 2");
  EXPECT_EQ(stack(2), "other 5");
}

}  // namespace
}  // namespace flame

namespace flame {
namespace {

// Hostile inputs: bounded by design, one line naming the input, the line
// and the limit.

TEST(FlameLimits, A50000FrameStackIsDrawnWithoutRecursion) {
  std::string line;
  for (int i = 0; i < 50000; ++i) line += (i ? ";f" : "f") + std::to_string(i % 7);
  line += " 3\n";
  Profile p = read_text(line);
  EXPECT_EQ(p.size(), 50001u);
  std::ostringstream out;
  SvgOptions o;
  o.min_width = 0;
  SvgStats st = write_svg(p, o, out);
  EXPECT_EQ(st.depth, 50000u);
  EXPECT_EQ(st.frames, 50001u);
  std::string f = folded(p);
  EXPECT_EQ(f, line);
  std::ostringstream ss;
  write_speedscope(p, "deep", ss);
  auto j = nlohmann::json::parse(ss.str());
  EXPECT_EQ(j["profiles"][0]["samples"][0].size(), 50000u);
}

TEST(FlameLimits, CountsThatWouldOverflowAreRefusedWithTheirLine) {
  Profile p;
  try {
    read_input_text("a;b 18446744073709551615\na;c 18446744073709551615\n", p, {}, "x.folded");
    FAIL() << "no error";
  } catch (const FormatError &e) {
    EXPECT_EQ(std::string(e.what()),
              "x.folded:1: the counts add up to more than the limit of 9223372036854775807");
  }
  Profile q;
  try {
    read_input_text("a;b 9223372036854775807\na;c 1\n", q, {}, "x.folded");
    FAIL() << "no error";
  } catch (const FormatError &e) {
    EXPECT_NE(std::string(e.what()).find("x.folded:2: the counts add up"), std::string::npos)
        << e.what();
  }
  // a report's "#%" counts
  Profile r;
  EXPECT_THROW(read_input_text("#~ 0x1 a (m)\n#% 9223372036854775807\n##\n#~ 0x1 b (m)\n"
                               "#% 9223372036854775807\n##\n",
                               r, {}),
               FormatError);
  // exactly the limit is fine, and its shares are exact
  Profile ok = read_text("a;b 9223372036854775806\na;c 1\n");
  EXPECT_EQ(ok.total(Profile::kRoot), 9223372036854775807ull);
}

TEST(FlameLimits, ALineLongerThanTheLimitNamesItsLine) {
  std::string text = "a;b 1\n" + std::string(kMaxLineBytes + 10, 'x') + " 1\n";
  for (InputFormat f : {InputFormat::kFolded, InputFormat::kPerf, InputFormat::kReport}) {
    Profile p;
    ReadOptions ro;
    ro.format = f;
    try {
      read_input_text(text, p, ro, "big");
      FAIL() << input_format_name(f);
    } catch (const FormatError &e) {
      EXPECT_EQ(std::string(e.what()), "big:2: line longer than the limit of 16777216 bytes")
          << input_format_name(f);
    }
  }
}

TEST(FlameLimits, APerfStackLongerThanAFoldedLineNamesItsLine) {
  // each frame fits a line, their folded stack would not
  std::string frame = "\t1 " + std::string(6u << 20, 'x') + " (m)\n";
  std::string text = "app 1 1.0: 1 c:\n" + frame + frame + frame + "\n";
  Profile p;
  ReadOptions ro;
  ro.format = InputFormat::kPerf;
  try {
    read_input_text(text, p, ro, "deep");
    FAIL();
  } catch (const FormatError &e) {
    EXPECT_EQ(std::string(e.what()), "deep:4: a stack longer than the limit of 16777216 bytes");
  }
}

TEST(FlameLimits, ControlCharactersNeverReachAFoldedLine) {
  Profile p = read_text(
      R"({"stacks": [{"comm": "a\nb", "user_stack": [{"symbol": "x\ry", "module": "m"}]}]})");
  EXPECT_EQ(folded(p), "a?b;x?y 1\n");
}

TEST(FlameLimits, NotAStackIsAFormatError) {
  Profile p;
  EXPECT_THROW(read_input_text("this is prose\nnot stacks\n", p, {}), FormatError);
  Profile q;
  EXPECT_THROW(read_input_text("{\"stacks\": [", q, {}), FormatError);
}

}  // namespace
}  // namespace flame
