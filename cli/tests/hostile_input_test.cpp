// SPDX-License-Identifier: GPL-2.0-or-later
// Hostile input in reports: process names, exec arguments and paths of any
// bytes render as valid JSON (invalid UTF-8 replaced) and as one-line text
// (escaped as \xNN) for every function; a report whose rendering fails is
// kept in a rescue file that --render turns into the report.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <streambuf>

#include <nlohmann/json.hpp>

#include "command.h"
#include "errors.h"
#include "function_command.h"
#include "image_records.h"
#include "output.h"
#include "rescue.h"
#include "test_records.h"

namespace diag {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::unique_ptr<FunctionCommand> command(const std::string &name) {
  for (auto &c : make_commands()) {
    auto *f = dynamic_cast<FunctionCommand *>(c.get());
    if (f && f->name() == name) {
      c.release();
      return std::unique_ptr<FunctionCommand>(f);
    }
  }
  ADD_FAILURE() << "no function " << name;
  return nullptr;
}

size_t settings_size_of(const std::string &name) {
  if (name == "migrate-image") return sizeof(diag_migrate_image_settings);
  if (name == "kprobe") return sizeof(diag_kprobe_settings);
  if (name == "keytime-image") return sizeof(diag_keytime_image_settings);
  return sizeof(diag_resource_image_settings);
}

// One record of each function whose names are not UTF-8.
ReportBytes hostile_records(const std::string &name) {
  ReportBytes b;
  if (name == "migrate-image") {
    testing::append_record(b, testing::migrate(100, 7, 7, "\xff", 0, 1, DIAG_CAUSE_PULL_TASK));
  } else if (name == "kprobe") {
    diag_kprobe_record r{};
    r.hdr.type = DIAG_REC_KPROBE;
    r.hdr.size = sizeof(r);
    r.hdr.ts_ns = 100;
    r.pid = r.tgid = 7;
    std::strcpy(r.comm, "\xff");
    r.nr_chain = 1;
    r.chain[0].pid = 7;
    std::strcpy(r.chain[0].comm, "a\x1b[2Jb");
    r.flags = DIAG_KPROBE_KTHREAD;
    testing::append_record(b, r);
  } else if (name == "keytime-image") {
    auto r = testing::keytime(100, 7, 7, DIAG_KT_EXEC);
    std::strcpy(r.comm, "\xff");
    testing::append_keytime(b, r, std::string("/bin/\xfe\0a\x01z\0\xc3", 12));
  } else {
    auto r = testing::resource(50, 100, 7, 7, 10);
    std::strcpy(r.comm, "\xff");
    testing::append_record(b, r);
  }
  return b;
}

class EveryFunction : public ::testing::TestWithParam<const char *> {};

TEST_P(EveryFunction, InvalidUtf8RendersAsJsonAndEscapedText) {
  const std::string name = GetParam();
  auto cmd = command(name);
  ASSERT_TRUE(cmd);
  std::vector<uint8_t> settings(settings_size_of(name), 0);
  ReportBytes bytes = hostile_records(name);
  DecodedReport decoded = decode_records(bytes);
  diag_version version{};
  ReportResources res(ReportResources::Mode::kOffline);
  ReportContext ctx{settings, version, &res};

  std::ostringstream json;
  ASSERT_NO_THROW(cmd->render_report(decoded, ctx, true, json));
  nlohmann::json j = nlohmann::json::parse(json.str());  // valid UTF-8, valid JSON
  EXPECT_NE(json.str().find("\"comm\": \"" + kReplacement + "\""), std::string::npos)
      << json.str();

  std::ostringstream text;
  ASSERT_NO_THROW(cmd->render_report(decoded, ctx, false, text));
  // keytime's text has no name column: its exec filename stands for it
  EXPECT_NE(text.str().find(name == "keytime-image" ? "\\xfe" : "\\xff"), std::string::npos)
      << text.str();
  EXPECT_EQ(text.str().find('\xff'), std::string::npos) << "a raw 0xff byte in the text";
  EXPECT_EQ(text.str().find('\x1b'), std::string::npos) << "a raw ESC in the text";
  if (name == "keytime-image") {
    EXPECT_NE(text.str().find("filename:/bin/\\xfe argv:[a\\x01z \\xc3]"), std::string::npos)
        << text.str();
    EXPECT_EQ(j["events"][0]["argv"][1], kReplacement);
  }

  // --follow's streams, line by line
  for (bool as_json : {true, false}) {
    std::ostringstream live;
    auto stream = cmd->make_stream(ctx, as_json, live);
    ASSERT_NO_THROW({
      stream->begin();
      stream->batch(decoded);
      stream->end();
    });
    EXPECT_EQ(live.str().find('\xff'), std::string::npos) << live.str();
    if (as_json) {
      std::istringstream lines(live.str());
      std::string line;
      while (std::getline(lines, line)) EXPECT_NO_THROW(nlohmann::json::parse(line)) << line;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Functions, EveryFunction,
                         ::testing::Values("migrate-image", "kprobe", "keytime-image",
                                           "resource-image"));

TEST(Printable, EscapesWhatIsNotPrintableUtf8) {
  EXPECT_EQ(printable("plain ÄÖ ✓"), "plain ÄÖ ✓");
  EXPECT_EQ(printable("a\xff"), "a\\xff");
  EXPECT_EQ(printable("tab\tnl\nesc\x1b"), "tab\\x09nl\\x0aesc\\x1b");
  EXPECT_EQ(printable("back\\slash"), "back\\\\slash");
  EXPECT_EQ(printable("c1 \xc2\x9b"), "c1 \\xc2\\x9b");
  EXPECT_EQ(printable("cut \xe2\x9c"), "cut \\xe2\\x9c");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(DumpJson, ReplacesInvalidUtf8) {
  EXPECT_EQ(dump_json({{"comm", "a\xff"}}), "{\"comm\":\"a" + kReplacement + "\"}");
}

// ---- rescue ----

// A directory of its own for the rescue files of one test.
struct RescueDir {
  RescueDir() {
    char tmpl[] = "/tmp/diag-rescue-test-XXXXXX";
    path = mkdtemp(tmpl);
    setenv("DIAGNOSE_RESCUE_DIR", path.c_str(), 1);
  }
  ~RescueDir() {
    unsetenv("DIAGNOSE_RESCUE_DIR");
    std::filesystem::remove_all(path);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(path)) out.push_back(e.path());
    return out;
  }
  std::string path;
};

// An output that fails at the first write, like a full disk or a closed pipe.
struct FailingBuf : std::streambuf {
  int overflow(int) override { return traits_type::eof(); }
  std::streamsize xsputn(const char *, std::streamsize) override { return 0; }
};

ReportBytes migrations() {
  ReportBytes bytes;
  testing::append_record(bytes, testing::migrate(100, 10, 10, "main", 0, 1, 1));
  testing::append_record(bytes, testing::migrate(200, 11, 10, "wor\xffker", 1, 0, 2));
  testing::append_record(bytes, testing::lost(1, 3));
  bytes.lost_total = 3;
  bytes.real_minus_mono_ns = 1700000000ll * 1000000000ll;
  bytes.nr_cpus = 2;
  return bytes;
}

// What `diagnose-tools ARGS...` prints on standard output, and its status.
std::pair<int, std::string> run_cli(std::vector<std::string> args) {
  CLI::App app;
  auto commands = make_commands();
  std::vector<std::pair<CLI::App *, Command *>> subs;
  for (auto &c : commands) subs.emplace_back(c->setup(app), c.get());
  std::vector<const char *> argv = {"diagnose-tools"};
  for (auto &a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char **>(argv.data()));
  ::testing::internal::CaptureStdout();
  int rc = -1;
  for (auto &[sub, cmd] : subs) {
    if (!sub->parsed()) continue;
    try {
      rc = cmd->run();
    } catch (const MalformedInput &) {
      rc = kExitMalformed;
    } catch (const UsageError &) {
      rc = kExitUsage;
    }
  }
  return {rc, ::testing::internal::GetCapturedStdout()};
}

TEST(Rescue, AReportThatCannotBeWrittenIsKeptAndRendersLater) {
  RescueDir dir;
  auto cmd = command("migrate-image");
  std::vector<uint8_t> settings(sizeof(diag_migrate_image_settings), 0);
  common_settings(settings).tgid = 10;
  diag_version version{};
  version.abi_version = DIAG_ABI_VERSION;
  std::strcpy(version.module_version, "test");
  ReportBytes bytes = migrations();

  for (bool json : {false, true}) {
    ReportResources res;
    FailingBuf failing;
    std::ostream out(&failing);
    std::ostringstream err;
    int rc = cmd->deliver_report({bytes}, cmd->rescue_header(settings, version), res, json, true,
                                 out, err);
    EXPECT_EQ(rc, kExitFailed);
    // one line, naming the file and how to render it
    const std::string line = err.str();
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    auto files = dir.files();
    ASSERT_EQ(files.size(), 1u) << err.str();
    const std::string path = files[0];
    EXPECT_NE(err.str().find(path), std::string::npos) << err.str();
    EXPECT_NE(err.str().find("diagnose-tools migrate-image --render " + path +
                             (json ? " --format json" : "")),
              std::string::npos)
        << err.str();

    // the file holds the records, the settings and the counters
    RescuedReport r = read_rescue_file(path);
    EXPECT_EQ(r.header.function, "migrate-image");
    EXPECT_EQ(r.header.function_id, uint32_t{DIAG_FN_MIGRATE_IMAGE});
    EXPECT_EQ(r.header.settings, settings);
    EXPECT_STREQ(r.header.version.module_version, "test");
    ASSERT_EQ(r.batches.size(), 1u);
    EXPECT_EQ(r.batches[0].data, bytes.data);
    EXPECT_EQ(r.batches[0].lost_total, 3u);
    EXPECT_EQ(r.batches[0].real_minus_mono_ns, bytes.real_minus_mono_ns);
    EXPECT_EQ(r.batches[0].nr_cpus, 2u);

    // --render prints what --report would have printed
    std::vector<std::string> args = {"migrate-image", "--render", path};
    if (json) args.insert(args.end(), {"--format", "json"});
    auto [render_rc, rendered] = run_cli(args);
    EXPECT_EQ(render_rc, kExitOk);
    DecodedReport decoded = decode_records(bytes);
    EXPECT_EQ(rendered, testing::render(*cmd, decoded, settings, json));
    EXPECT_NE(rendered.find(json ? "\"lost\": 3" : "LOST TOTAL: 3"), std::string::npos)
        << rendered;
    std::filesystem::remove(path);
  }
}

// A function whose writer fails the way a bug or a lack of memory would.
class FailingFunction : public FunctionCommand {
 public:
  FailingFunction() : FunctionCommand("migrate-image", DIAG_FN_MIGRATE_IMAGE, "test") {}
  bool fail = true;

 protected:
  size_t settings_size() const override { return sizeof(diag_migrate_image_settings); }
  void write_text_report(const DecodedReport &r, const ReportContext &,
                         std::ostream &out) const override {
    if (fail) throw std::bad_alloc();
    out << r.records.size() << " records\n";
  }
  nlohmann::json json_report(const DecodedReport &r, const ReportContext &) const override {
    if (fail) throw nlohmann::json::type_error::create(316, "invalid UTF-8", nullptr);
    return {{"records", r.records.size()}};
  }
};

TEST(Rescue, ARenderingThatThrowsKeepsTheRecords) {
  RescueDir dir;
  FailingFunction cmd;
  std::vector<uint8_t> settings(sizeof(diag_migrate_image_settings), 0);
  diag_version version{};
  ReportBytes bytes = migrations();
  for (bool json : {false, true}) {
    ReportResources res;
    std::ostringstream out, err;
    cmd.fail = true;
    EXPECT_EQ(cmd.deliver_report({bytes}, cmd.rescue_header(settings, version), res, json, true,
                                 out, err),
              kExitFailed);
    EXPECT_EQ(out.str(), "") << "nothing half-rendered reaches the output";
    EXPECT_NE(err.str().find(json ? "invalid UTF-8" : "bad_alloc"), std::string::npos)
        << err.str();
    auto files = dir.files();
    ASSERT_EQ(files.size(), 1u);
    RescuedReport r = read_rescue_file(files[0]);
    cmd.fail = false;
    std::ostringstream again, err2;
    EXPECT_EQ(cmd.deliver_report(r.batches, r.header, res, json, false, again, err2), kExitOk);
    EXPECT_EQ(again.str(), json ? "{\n  \"backend\": \"module\",\n  \"function\": \"migrate-image\",\n  \"lost\": 3,\n"
                                  "  \"lost_since_last_report\": {\n    \"1\": 3\n  },\n"
                                  "  \"records\": 2\n}\n"
                                : "WARNING: records were lost since the last report (buffer "
                                  "full); the counts below are incomplete: raise buf-kib or "
                                  "report more often\n2 records\nLOST: 3 records on CPU 1 since "
                                  "the last report (buffer full; raise buf-kib)\nLOST TOTAL: 3\n");
    std::filesystem::remove(files[0]);
  }
}

TEST(Rescue, BatchesOfAFollowSessionRenderAsOneReport) {
  RescueDir dir;
  auto cmd = command("migrate-image");
  std::vector<uint8_t> settings(sizeof(diag_migrate_image_settings), 0);
  diag_version version{};
  ReportBytes a, b;
  testing::append_record(a, testing::migrate(100, 10, 10, "main", 0, 1, 1));
  testing::append_record(b, testing::migrate(200, 10, 10, "main", 1, 0, 1));
  b.lost_total = 0;
  {
    RescueFile f = RescueFile::create(cmd->rescue_header(settings, version), "test");
    f.append(a);
    f.append(b);
  }
  auto files = dir.files();
  ASSERT_EQ(files.size(), 1u);
  auto [rc, out] = run_cli({"migrate-image", "--render", files[0], "--format", "json"});
  EXPECT_EQ(rc, kExitOk);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["migrations"], 2);
}

TEST(Rescue, MalformedFilesAreOneLineAndTheirOwnExitStatus) {
  RescueDir dir;
  const std::string path = dir.path + "/bad.rescue";
  for (const std::string &content :
       {std::string("not a rescue file\n"), std::string("diagnose-tools rescue 1\nfunction x\n"),
        std::string("diagnose-tools rescue 1\nfunction migrate-image\nsettings 99999999999\nend\n"),
        std::string("diagnose-tools rescue 1\nfunction migrate-image\nsettings 0\nend\n"
                    "batch 16 0 0 1\nshort")}) {
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_THROW(read_rescue_file(path), MalformedInput) << content;
    auto [rc, out] = run_cli({"migrate-image", "--render", path});
    EXPECT_EQ(rc, kExitMalformed) << content;
  }
  // a valid file of another function
  std::ofstream(path, std::ios::binary)
      << "diagnose-tools rescue 1\nfunction kprobe\nsettings 0\nend\nbatch 0 0 0 1\n";
  auto [rc, out] = run_cli({"migrate-image", "--render", path});
  EXPECT_EQ(rc, kExitUsage);
}

}  // namespace
}  // namespace diag

// ---- numbers read from files are range-checked ----

#include "migration_trace.h"
#include "svg_chart.h"

namespace diag {
namespace {

using mtrace::FormatError;

std::string trace_event(uint64_t ts, const std::string &rest) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx ", static_cast<unsigned long long>(ts));
  return buf + rest + "\n";
}

std::string what_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "no error";
}

TEST(TraceLimits, CpusBeyondTheKernelsMaximumAreOneLine) {
  EXPECT_EQ(what_of([] { mtrace::parse_trace("# nr_cpus 100000\n", "t"); }),
            "t:1: nr_cpus more than 8192: '# nr_cpus 100000'");
  EXPECT_THROW(mtrace::parse_trace(trace_event(1, "99999 0 1 5 1"), "t"), FormatError);
  EXPECT_NE(what_of([] {
              mtrace::parse_trace("# nr_cpus 4\n" + trace_event(1, "0 0 7 5 1"), "t");
            }).find("t:2: a CPU number not below 4 (the header's nr_cpus)"),
            std::string::npos);
  EXPECT_THROW(mtrace::parse_trace("# cause 4294967296 x\n", "t"), FormatError);
  EXPECT_THROW(mtrace::parse_trace(trace_event(1, "0 . . . start_sched_clock 99999999999 0"), "t"),
               FormatError);
  EXPECT_THROW(mtrace::parse_trace(trace_event(1, "0 . . . start_sched_clock 5 1000000"), "t"),
               FormatError);
}

TEST(TraceLimits, PeriodsOverAHugeWindowAreRefusedNotAllocated) {
  // a 2^62 ns window
  std::string text = trace_event(1, "0 . . . start_sched_clock 5 0") +
                     trace_event(2, "0 0 1 5 1") + trace_event(1ull << 62, "1 1 0 5 1");
  mtrace::Trace t = mtrace::parse_trace(text, "t");
  mtrace::Analysis a = mtrace::analyze(t, {});
  mtrace::PeriodGroups g;
  g.all = true;
  EXPECT_NE(what_of([&] { mtrace::period_stat(a, 1, g); }).find("more than the limit of 1000000"),
            std::string::npos);
  // wall-clock formatting at the far end does not overflow
  EXPECT_NO_THROW(mtrace::format_ts(a, UINT64_MAX, mtrace::TsMode::kAbsolute));
  EXPECT_EQ(mtrace::format_ts(a, 0, mtrace::TsMode::kRelative), "-0.000000");
}

TEST(TraceLimits, ManyCpusGiveCpuPairsNotAHugeMatrix) {
  mtrace::Trace t = mtrace::parse_trace("# nr_cpus 8192\n" + trace_event(5, "8191 8191 0 5 1"), "t");
  mtrace::Summary s = mtrace::summarize(mtrace::analyze(t, {}));
  EXPECT_TRUE(s.matrix.empty());
  EXPECT_EQ(s.pairs.size(), 1u);
  EXPECT_EQ((s.pairs.at({8191, 0})), 1u);
}

TEST(StatLimits, FieldNumbersAndValuesAreRangeChecked) {
  EXPECT_EQ(what_of([] { mtrace::parse_stat("# period_msec 10\n# field 4000000000 x\n", "s"); }),
            "s:2: not in 1..65536: '# field 4000000000 x'");
  EXPECT_THROW(mtrace::parse_stat("# period_msec -5\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# ts_field 0\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# field 2 a\n0 inf\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# field 2 a\n0 nan\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# field 2 a\n0 1 2\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# field 2 a\n0 1e999\n", "s"), FormatError);
  EXPECT_THROW(mtrace::parse_stat("# period_msec 10\n# field 2 a\n0 1\n# field 3 b\n", "s"),
               FormatError);
}

TEST(ChartLimits, TicksNearHugeValuesEnd) {
  for (double v : {1e17, 1e17 + 16, -1e17, 1e300, 1e308, 0.0, 5e-324}) {
    auto ticks = nice_ticks(v, v);
    ASSERT_GE(ticks.size(), 2u) << v;
    EXPECT_LE(ticks.size(), 20u) << v;
    for (size_t i = 1; i < ticks.size(); ++i) EXPECT_LT(ticks[i - 1], ticks[i]) << v;
  }
  auto t = nice_ticks(1e17, 1e17 + 1000);
  EXPECT_LE(t.size(), 20u);
  EXPECT_LE(nice_ticks(-1e308, 1e308).size(), 20u);
  EXPECT_LE(nice_ticks(NAN, INFINITY).size(), 20u);
  Chart c;
  c.series.push_back({"a\xff<b>", {{1e17, 1}, {1e17 + 1, 2}, {NAN, 3}, {2e17, INFINITY}}});
  std::string svg = render_svg(c);
  EXPECT_NE(svg.find("a\xEF\xBF\xBD&lt;b&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

}  // namespace
}  // namespace diag
