// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <sstream>

#include "errors.h"
#include "image_records.h"
#include "keytime_image.h"

namespace diag {
namespace {

using testing::append_keytime;
using testing::keytime;
using testing::stack_bytes;

constexpr uint64_t kFork = 0x1000000 | 0x200000;  // CLONE_CHILD_SETTID|CLEARTID
constexpr uint64_t kVfork = 0x100 | 0x4000;       // CLONE_VM|CLONE_VFORK
constexpr uint64_t kThread = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000;

struct KeytimeReportTest : ::testing::Test {
  KeytimeReportTest() : settings(sizeof(diag_keytime_image_settings), 0) {
    common_settings(settings).tgid = 10;
    auto start = keytime(100, 10, 10, DIAG_KT_CLONE_START);
    start.child_pid = 20;
    start.child_tgid = 20;
    start.clone_flags = kVfork;
    start.exit_signal = 17;
    append_keytime(bytes, start);
    auto off = keytime(150, 10, 10, DIAG_KT_OFFCPU, 1);
    off.state = 2;  // D
    off.sum_exec_ns = 5000;
    off.flags = DIAG_KT_STACK;
    append_keytime(bytes, off, stack_bytes({0xffffffff81000010, 0xffffffff81000110}));
    auto on = keytime(3150, 10, 10, DIAG_KT_ONCPU, 0);
    on.sum_exec_ns = 5000;
    append_keytime(bytes, on);
    auto end = start;
    end.hdr.ts_ns = 3200;
    end.event = DIAG_KT_CLONE_END;
    end.ret = 20;
    end.duration_ns = 3100;
    append_keytime(bytes, end);
    auto exec = keytime(4000, 10, 10, DIAG_KT_EXEC);
    exec.ret = -2;
    exec.child_pid = 10;
    append_keytime(bytes, exec, std::string("/bin/nope\0nope\0two words\0", 25));
    auto thread = keytime(5000, 10, 10, DIAG_KT_CLONE_START);
    thread.child_pid = 11;
    thread.child_tgid = 10;
    thread.clone_flags = kThread;
    append_keytime(bytes, thread);
    auto exit = keytime(6000, 11, 10, DIAG_KT_EXIT);
    exit.ret = 3 << 8;
    append_keytime(bytes, exit);
    auto killed = keytime(6100, 10, 10, DIAG_KT_EXIT);
    killed.ret = 9;
    killed.flags = DIAG_KT_GROUP_DEAD;
    append_keytime(bytes, killed);
    bytes.real_minus_mono_ns = 1700000000ll * 1000000000ll;
    decoded = decode_records(bytes);
  }
  std::string render(bool json) {
    return testing::render(*make_keytime_image_command(), decoded, settings, json);
  }
  std::vector<uint8_t> settings;
  ReportBytes bytes;
  DecodedReport decoded;
};

TEST_F(KeytimeReportTest, DecodesExecStringsAndStacks) {
  auto events = decode_keytime(decoded);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[4].filename, "/bin/nope");
  EXPECT_EQ(events[4].argv, (std::vector<std::string>{"nope", "two words"}));
  ASSERT_TRUE(events[1].stack.has_value());
  EXPECT_EQ(events[1].stack->nr, 2u);
  EXPECT_EQ(events[1].stack->ips[1], 0xffffffff81000110u);
}

TEST_F(KeytimeReportTest, NamesEventsByTheKindOfCreation) {
  auto events = decode_keytime(decoded);
  EXPECT_EQ(keytime_event_name(events[0].rec), "vfork_enter");
  EXPECT_EQ(keytime_event_name(events[3].rec), "vfork_exit");
  EXPECT_EQ(keytime_event_name(events[5].rec), "thread_enter");
  diag_keytime_record r = events[0].rec;
  r.clone_flags = kFork;
  EXPECT_EQ(creation_kind(r), "fork");
  r.clone_flags = 0x100;
  EXPECT_EQ(creation_kind(r), "clone");
  r.flags = DIAG_KT_FLAGS_UNKNOWN;
  r.child_tgid = r.tgid;
  EXPECT_EQ(creation_kind(r), "thread");
  EXPECT_EQ(clone_flags_text(kVfork, 17), "CLONE_VM|CLONE_VFORK|SIGCHLD");
  EXPECT_EQ(clone_flags_text(0, 0), "0");
  EXPECT_EQ(clone_flag_names(0x4000000000ull).back(), "0x4000000000");
}

TEST_F(KeytimeReportTest, TextHasTheSeedColumnsAndTheDerivedTimes) {
  std::string text = render(false);
  EXPECT_NE(text.find("TIME             TGID     PID      EVENT         ARGS/RET/OTHERS\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("vfork_enter   child_pid:20 flags:CLONE_VM|CLONE_VFORK|SIGCHLD"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("vfork_exit    child_pid:20 ret:20 time:3.1us"), std::string::npos);
  EXPECT_NE(text.find("offcpu        cpu:1 reason:blocked state:D"), std::string::npos);
  EXPECT_NE(text.find("oncpu         cpu:0 prio:120 off:3.0us"), std::string::npos) << text;
  EXPECT_NE(text.find("exec          filename:/bin/nope argv:[nope \"two words\"] "
                      "ret:-2(ENOENT)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("exit          exit_code:3\n"), std::string::npos);
  EXPECT_NE(text.find("exit          signal:SIGKILL last_thread\n"), std::string::npos);
  // the off-CPU period closed by the oncpu, in the shared stack format
  EXPECT_NE(text.find("OFF-CPU: PID: 10[app], TGID: 10, 1 time, 3.0us off CPU, blocked state D"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#@        0xffffffff81000010 "), std::string::npos);
  EXPECT_NE(text.find("#*        0xffffffffffffff app (UNKNOWN)\n#%        3\n##\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("LOST TOTAL: 0"), std::string::npos);
}

TEST_F(KeytimeReportTest, JsonCarriesEventsAndStacks) {
  auto j = nlohmann::json::parse(render(true));
  EXPECT_EQ(j["function"], "keytime-image");
  ASSERT_EQ(j["events"].size(), 8u);
  EXPECT_EQ(j["counts"]["vfork_enter"], 1);
  const auto &start = j["events"][0];
  EXPECT_EQ(start["kind"], "vfork");
  EXPECT_EQ(start["child_pid"], 20);
  EXPECT_EQ(start["clone_flags"], "0x4100");
  EXPECT_EQ(start["exit_signal"], "SIGCHLD");
  EXPECT_EQ(j["events"][2]["off_ns"], 3000);
  EXPECT_EQ(j["events"][3]["duration_ns"], 3100);
  EXPECT_EQ(j["events"][4]["error"], "ENOENT");
  EXPECT_EQ(j["events"][4]["argv"][1], "two words");
  EXPECT_EQ(j["events"][6]["exit_status"], 3);
  EXPECT_EQ(j["events"][7]["signal"], "SIGKILL");
  ASSERT_EQ(j["stacks"].size(), 1u);
  EXPECT_EQ(j["stacks"][0]["count"], 3);  // microseconds off CPU
  EXPECT_EQ(j["stacks"][0]["offcpu_ns"], 3000);
  EXPECT_EQ(j["stacks"][0]["kernel_stack"].size(), 2u);
}

TEST(KeytimeTimeline, PairsAcrossBatchesAndAggregates) {
  KeytimeTimeline tl;
  std::vector<KeytimeTimeline::OffcpuPeriod> ended;
  KeytimeEvent on;
  on.rec = keytime(100, 5, 5, DIAG_KT_ONCPU);
  on.rec.sum_exec_ns = 1000;
  EXPECT_FALSE(tl.observe(on, ended).off_ns);
  KeytimeEvent off;
  off.rec = keytime(200, 5, 5, DIAG_KT_OFFCPU);
  off.rec.sum_exec_ns = 1060;
  off.rec.state = 1;
  off.stack = diag_kernel_stack{};
  off.stack->nr = 1;
  off.stack->ips[0] = 0xffffffff81000000;
  EXPECT_EQ(*tl.observe(off, ended).ran_ns, 60u);
  on.rec.hdr.ts_ns = 2200;
  EXPECT_EQ(*tl.observe(on, ended).off_ns, 2000u);
  ASSERT_EQ(ended.size(), 1u);
  off.rec.hdr.ts_ns = 3000;
  tl.observe(off, ended);
  on.rec.hdr.ts_ns = 3500;
  tl.observe(on, ended);
  off.rec.hdr.ts_ns = 4000;
  tl.observe(off, ended);
  auto open = tl.close(10000);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0].open);
  EXPECT_EQ(open[0].off_ns, 6000u);
  for (auto &p : open) ended.push_back(p);
  std::istringstream syms("ffffffff81000000 T __schedule\n");
  auto blocks = offcpu_stack_blocks(ended, KernelSymbols::parse(syms));
  ASSERT_EQ(blocks.size(), 1u);  // one task, one stack
  EXPECT_EQ(blocks[0].count, 9u);  // 8.5 us, rounded up
  EXPECT_EQ(blocks[0].fields["events"], 3);
  EXPECT_EQ(blocks[0].kernel[0].symbol, "__schedule+0x0");
  // a dead task's last switch opens no period
  KeytimeTimeline dead;
  off.rec.state = 5;  // X
  dead.observe(off, ended);
  EXPECT_TRUE(dead.close(10000).empty());
}

TEST(KeytimeStream, FollowPrintsRowsThenStacksAsPeriodsEnd) {
  ReportBytes bytes;
  auto off = keytime(100, 7, 7, DIAG_KT_OFFCPU);
  off.flags = DIAG_KT_STACK | DIAG_KT_PREEMPTED | DIAG_KT_RUNNABLE;
  append_keytime(bytes, off, stack_bytes({0xffffffff81000000}));
  ReportBytes second;
  append_keytime(second, keytime(2100, 7, 7, DIAG_KT_ONCPU));
  std::vector<uint8_t> settings(sizeof(diag_keytime_image_settings), 0);
  diag_version version{};
  ReportContext ctx{settings, version};
  auto cmd = make_keytime_image_command();
  std::ostringstream text;
  auto s = cmd->make_stream(ctx, false, text);
  s->begin();
  s->batch(decode_records(bytes));
  EXPECT_EQ(text.str().find("OFF-CPU"), std::string::npos);  // still off CPU
  s->batch(decode_records(second));
  s->end();
  std::string t = text.str();
  auto row = t.find(" oncpu ");
  auto block = t.find("OFF-CPU: PID: 7[app]");
  ASSERT_NE(row, std::string::npos) << t;
  ASSERT_NE(block, std::string::npos) << t;
  EXPECT_LT(row, block);
  EXPECT_NE(t.find("reason:preempted state:R"), std::string::npos) << t;
  EXPECT_NE(t.find("#%        2\n"), std::string::npos) << t;
  EXPECT_EQ(t.substr(t.size() - 14), "LOST TOTAL: 0\n");

  std::ostringstream json;
  auto j = cmd->make_stream(ctx, true, json);
  j->begin();
  j->batch(decode_records(bytes));
  j->batch(decode_records(second));
  j->end();
  std::istringstream lines(json.str());
  std::string line;
  std::vector<std::string> types;
  while (std::getline(lines, line)) types.push_back(nlohmann::json::parse(line)["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"event", "event", "stack"}));
}

TEST(KeytimeSettings, StackImpliesOncpuAndAFilterIsNeeded) {
  auto cmd = make_keytime_image_command();
  auto s = cmd->encode_settings("tgid=3,stack=1", 4);
  const auto &k = *reinterpret_cast<const diag_keytime_image_settings *>(s.data());
  EXPECT_EQ(k.stack, 1u);
  EXPECT_EQ(k.oncpu, 1u);
  EXPECT_THROW(cmd->encode_settings("oncpu=1", 4), UsageError);
  EXPECT_THROW(cmd->encode_settings("pid=3,stack=1,oncpu=0", 4), UsageError);
  auto v = cmd->describe_settings(s);
  EXPECT_EQ(v.lines.back().key, "stack");
  EXPECT_EQ(v.lines.back().text, "yes");
}

}  // namespace
}  // namespace diag

namespace diag {
namespace {

TEST(KeytimeDecode, DataOutsideTheRecordIsRefused) {
  ReportBytes bytes;
  auto r = testing::keytime(1, 1, 1, DIAG_KT_EXEC);
  testing::append_keytime(bytes, r, "abc");
  auto *rec = reinterpret_cast<diag_keytime_record *>(bytes.data.data());
  rec->data_len = 200;  // more than the record holds
  auto decoded = decode_records(bytes);
  EXPECT_THROW(decode_keytime(decoded), std::runtime_error);
  rec->data_len = 3;
  rec->data_off = 4;  // inside the header
  decoded = decode_records(bytes);
  EXPECT_THROW(decode_keytime(decoded), std::runtime_error);
  rec->data_off = sizeof(diag_keytime_record);
  decoded = decode_records(bytes);
  EXPECT_EQ(decode_keytime(decoded).at(0).filename, "abc");
}

}  // namespace
}  // namespace diag
