// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration_trace.h"

#include <gtest/gtest.h>

#include <sstream>

#include "errors.h"

namespace diag::mtrace {
namespace {

// start 1 s into CLOCK_MONOTONIC; events at start + N ms
constexpr uint64_t kStart = 1000000000;
std::string at(uint64_t ms) {
  char buf[32];
  snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)(kStart + ms * 1000000));
  return buf;
}

std::string sample_trace() {
  std::string t =
      "# version 1.1.0\n"
      "# nr_cpus 2\n"
      "# ts_field 1\n"
      "# ts_clock CLOCK_MONOTONIC ns, hexadecimal\n"
      "# cause 0 unknown\n"
      "# cause 1 try_to_wake_up\n"
      "# cause 2 pull_task\n"
      "# cause 4 __migrate_task\n"
      "# loc 32 copy_process\n"
      "# loc 33 set_task_comm\n"
      "# loc 34 task_list\n"
      "# loc 35 mark\n"
      "# loc 36 fork_placement\n"
      "# state stopped\n"
      "# start_ts " + at(0) + "\n"
      "# stop_ts " + at(100) + "\n"
      "# lost 0\n";
  t += at(0) + " 0 . . . start_sched_clock 1700000000 500000\n";
  t += at(0) + " 1 . . . start_sched_clock 1700000000 500001\n";
  t += at(1) + " 0 . . 100 34 : worker\n";
  t += at(1) + " 0 . . 101 34 : hog one\n";
  t += at(10) + " 1 0 1 100 1\n";
  t += at(20) + " 0 . . 100 35 0x00000010\n";
  t += at(30) + " 0 1 0 101 2\n";
  t += at(40) + " 0 0 1 102 36\n";
  t += at(45) + " 0 . . 102 32 : worker\n";
  t += at(50) + " 1 . . 100 33 : renamed\n";
  t += at(60) + " 0 1 0 100 4\n";
  t += at(70) + " 1 . . 101 35 0x00000020\n";
  t += at(80) + " 1 0 1 101 1\n";
  return t;
}

TEST(MigrationTraceParse, ReadsHeaderAndEveryEventKind) {
  Trace t = parse_trace(sample_trace());
  EXPECT_EQ(t.header.version, "1.1.0");
  EXPECT_EQ(t.header.nr_cpus, 2u);
  EXPECT_EQ(t.header.state, "stopped");
  EXPECT_EQ(*t.header.stop_ts, kStart + 100000000);
  EXPECT_EQ(t.header.causes.at(2), "pull_task");
  EXPECT_EQ(t.header.kinds.at(36), "fork_placement");
  ASSERT_EQ(t.events.size(), 13u);
  std::map<EventType, int> n;
  for (auto &e : t.events) ++n[e.type];
  EXPECT_EQ(n[EventType::kStart], 2);
  EXPECT_EQ(n[EventType::kComm], 4);
  EXPECT_EQ(n[EventType::kMark], 2);
  EXPECT_EQ(n[EventType::kMigrate], 4);
  EXPECT_EQ(n[EventType::kForkPlacement], 1);
  EXPECT_EQ(t.events[3].comm, "hog one");  // a name keeps its spaces
  EXPECT_EQ(t.events[5].mark, 0x10u);
  EXPECT_EQ(t.events[6].from, 1u);
  EXPECT_EQ(t.events[6].to, 0u);
  EXPECT_EQ(t.events[6].pid, 101);
  EXPECT_EQ(t.events[1].wall_usec, 500001u);
}

TEST(MigrationTraceParse, SortsUnsortedInput) {
  std::string text = sample_trace();
  // move the last event line to the front of the events
  size_t last = text.rfind('\n', text.size() - 2);
  std::string tail = text.substr(last + 1);
  text.erase(last + 1);
  size_t first_event = text.find("\n0x") + 1;
  text.insert(first_event, tail);
  Trace t = parse_trace(text);
  for (size_t i = 1; i < t.events.size(); ++i) EXPECT_LE(t.events[i - 1].ts, t.events[i].ts);
  EXPECT_EQ(t.events.back().ts, kStart + 80000000);
}

TEST(MigrationTraceParse, NamesTheBadLine) {
  try {
    parse_trace("# nr_cpus 2\n" + at(1) + " 0 1 0 100\n");
    FAIL();
  } catch (const FormatError &e) {
    EXPECT_NE(std::string(e.what()).find("<trace>:2: "), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_trace(at(1) + " 0 1 0 100 99\n"), FormatError);  // no cause 99
  EXPECT_THROW(parse_trace("hello world\n"), FormatError);
  EXPECT_THROW(parse_trace(at(1) + " 0 . . 5 35 zz\n"), FormatError);
}

TEST(MigrationTraceParse, HeaderlessTraceUsesBuiltInNames) {
  Trace t = parse_trace(at(1) + " 0 1 0 100 1\n" + at(2) + " 0 . . 100 35 0x7\n");
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.cause_name(1), "try_to_wake_up");
  EXPECT_EQ(t.events[1].type, EventType::kMark);
  EXPECT_EQ(t.header.nr_cpus, 2u);
}

TEST(MigrationTraceAnalysis, WholeTrace) {
  Trace t = parse_trace(sample_trace());
  Analysis a = analyze(t, {});
  EXPECT_EQ(a.start, kStart);
  EXPECT_EQ(a.begin, kStart);
  EXPECT_EQ(a.end, kStart + 100000000);
  EXPECT_EQ(a.migrations, 4u);
  EXPECT_EQ(a.fork_placements, 1u);
  ASSERT_EQ(a.moves.size(), 5u);
  EXPECT_EQ(a.moves[0].comm, "worker");
  EXPECT_EQ(a.moves[3].comm, "renamed");  // named at that moment
  EXPECT_EQ(a.moves[1].comm, "hog one");
  Summary s = summarize(a);
  EXPECT_EQ(s.by_cause[1], 2u);
  EXPECT_EQ(s.by_cause[2], 1u);
  EXPECT_EQ(s.by_cause[4], 1u);
  EXPECT_EQ(s.matrix[0][1], 2u);
  EXPECT_EQ(s.matrix[1][0], 2u);
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.tasks[0].migrations, 2u);
}

TEST(MigrationTraceAnalysis, BeginEndFilters) {
  Trace t = parse_trace(sample_trace());
  Filters f;
  f.begin_mark = 0x10;
  f.end_mark = 0x20;
  Analysis a = analyze(t, f);
  EXPECT_EQ(a.migrations, 2u);  // at 30 and 60 ms
  EXPECT_EQ(a.begin, kStart + 20000000);
  EXPECT_EQ(a.end, kStart + 70000000);

  Filters g;
  g.begin_sec = 0.025;
  g.end_sec = 0.065;
  EXPECT_EQ(analyze(t, g).migrations, 2u);
  Filters h;
  h.begin_ts = kStart + 60000000;  // inclusive
  EXPECT_EQ(analyze(t, h).migrations, 2u);

  Filters missing;
  missing.begin_mark = 0x99;
  EXPECT_THROW(analyze(t, missing), UsageError);
  Filters empty;
  empty.begin_sec = 0.09;
  empty.end_sec = 0.05;
  EXPECT_THROW(analyze(t, empty), UsageError);
}

TEST(MigrationTraceAnalysis, IncludeExcludeFilters) {
  Trace t = parse_trace(sample_trace());
  Filters f;
  f.pids = {100};
  EXPECT_EQ(analyze(t, f).migrations, 2u);
  f = {};
  f.exclude_pids = {100};
  EXPECT_EQ(analyze(t, f).migrations, 2u);
  f = {};
  f.comms = {"hog one"};
  EXPECT_EQ(analyze(t, f).migrations, 2u);
  f = {};
  f.exclude_comms = {"worker"};  // 100 is "renamed" at 60 ms
  EXPECT_EQ(analyze(t, f).migrations, 3u);
  f = {};
  f.causes = {1};
  EXPECT_EQ(analyze(t, f).migrations, 2u);
  f = {};
  f.exclude_causes = {1, 2};
  EXPECT_EQ(analyze(t, f).migrations, 1u);
  f = {};
  f.cpus = {1};  // every move touches CPU 1
  EXPECT_EQ(analyze(t, f).migrations, 4u);
  f = {};
  f.exclude_cpus = {0};
  EXPECT_EQ(analyze(t, f).migrations, 0u);
}

TEST(MigrationTraceAnalysis, TimestampFormats) {
  Trace t = parse_trace(sample_trace());
  Analysis a = analyze(t, {});
  uint64_t ts = kStart + 1234567890;
  EXPECT_EQ(format_ts(a, ts, TsMode::kRaw), "0x000000008530ccd2");
  EXPECT_EQ(format_ts(a, ts, TsMode::kRelative), "1.234567");
  EXPECT_EQ(format_ts(a, ts, TsMode::kAbsolute), "1700000001.734567");
}

TEST(MigrationTraceAnalysis, FullBufferEndsTheTrace) {
  std::string text = sample_trace();
  text.insert(text.find("# lost"), "# full_cpu 1\n# full_ts " + at(50) + "\n");
  Trace t = parse_trace(text);
  Analysis a = analyze(t, {});
  EXPECT_EQ(a.end, kStart + 50000000);
  EXPECT_EQ(a.migrations, 2u);
  EXPECT_EQ(a.dropped_after_full, 2u);
}

TEST(MigrationTracePeriods, CountsCompletePeriodsFromTheWindowStart) {
  Trace t = parse_trace(sample_trace());
  Analysis a = analyze(t, {});
  PeriodGroups g;
  g.all = g.cause = g.cpu = g.cpu_pair = true;
  StatFile s = period_stat(a, 20, g);
  ASSERT_EQ(s.rows.size(), 5u);  // 100 ms / 20 ms, all complete
  auto col = [&](const std::string &name) { return *s.field_num(name) - 1; };
  std::vector<double> migrate, ttwu, from1, pair01;
  for (auto &r : s.rows) {
    migrate.push_back(r[col("migrate")]);
    ttwu.push_back(r[col("try_to_wake_up")]);
    from1.push_back(r[col("from_cpu_1")]);
    pair01.push_back(r[col("cpu_0_to_1")]);
  }
  EXPECT_EQ(migrate, (std::vector<double>{1, 1, 0, 1, 1}));  // the fork placement is not one
  EXPECT_EQ(ttwu, (std::vector<double>{1, 0, 0, 0, 1}));
  EXPECT_EQ(from1, (std::vector<double>{0, 1, 0, 1, 0}));
  EXPECT_EQ(pair01, (std::vector<double>{1, 0, 0, 0, 1}));
  EXPECT_EQ(s.rows[3][0], 0.06);
  EXPECT_FALSE(s.field_num("cpu_0_to_0"));  // only pairs that occur
  EXPECT_EQ(s.gtod_sec, 1700000000);
  EXPECT_EQ(s.gtod_usec, 500000u);

  // 30 ms: three complete periods, the move at 80 ms is in the third
  PeriodGroups all;
  all.all = true;
  StatFile s30 = period_stat(a, 30, all);
  ASSERT_EQ(s30.rows.size(), 3u);
  EXPECT_EQ(s30.rows[2][1], 2);
  // 40 ms: two complete periods; the move at 80 ms is in the incomplete one
  StatFile s40 = period_stat(a, 40, all);
  ASSERT_EQ(s40.rows.size(), 2u);
  EXPECT_EQ(s40.rows[0][1] + s40.rows[1][1], 3);
}

TEST(MigrationTracePeriods, AlignsToTheBeginFilter) {
  Trace t = parse_trace(sample_trace());
  Filters f;
  f.begin_ts = kStart + 25000000;
  Analysis a = analyze(t, f);
  PeriodGroups all;
  all.all = true;
  StatFile s = period_stat(a, 25, all);
  ASSERT_EQ(s.rows.size(), 3u);  // 25..100 ms
  EXPECT_EQ(s.rows[0][1], 1);    // 30
  EXPECT_EQ(s.rows[1][1], 1);    // 60
  EXPECT_EQ(s.rows[2][1], 1);    // 80
  EXPECT_EQ(s.gtod_usec, 525000u);
}

TEST(MigrationStat, RoundTripsAndExtractsPerSecond) {
  Trace t = parse_trace(sample_trace());
  Analysis a = analyze(t, {});
  PeriodGroups g;
  g.all = g.cause = true;
  StatFile s = period_stat(a, 20, g);
  std::ostringstream out;
  write_stat(s, out);
  StatFile r = parse_stat(out.str());
  EXPECT_EQ(r.period_msec, 20u);
  EXPECT_EQ(r.fields, [&] {
    auto f = s.fields;
    f.erase(1);  // the timestamp field has no "# field" line
    return f;
  }());
  EXPECT_EQ(r.rows, s.rows);
  EXPECT_EQ(r.min_field(), 2u);
  EXPECT_EQ(r.max_field(), 2u + 4);
  auto per_sec = r.extract(*r.field_num("migrate"));
  ASSERT_EQ(per_sec.size(), 5u);
  EXPECT_EQ(per_sec[2], (std::pair<double, double>{0.04, 0.0}));
  EXPECT_EQ(per_sec[3], (std::pair<double, double>{0.06, 50.0}));  // 1 per 20 ms
}

TEST(MigrationStat, ReadsTheKernelsFile) {
  const char *kernel =
      "# version 1.1.0\n"
      "# period_msec 250\n"
      "# gettimeofday 1700000000 123456\n"
      "# ts_field 1\n"
      "# field 2 unknown\n"
      "# field 3 try_to_wake_up\n"
      "# field 4 fork_placement\n"
      "# field 5 migrate\n"
      "# nr_cpus 2\n"
      "# state stopped\n"
      "0.000 0 3 1 3\n"
      "0.250 1 2 0 3\n";
  StatFile s = parse_stat(kernel);
  EXPECT_EQ(s.period_msec, 250u);
  EXPECT_EQ(s.gtod_usec, 123456u);
  EXPECT_EQ(s.min_field(), 2u);
  EXPECT_EQ(s.max_field(), 5u);
  EXPECT_EQ(*s.field_num("migrate"), 5u);
  EXPECT_FALSE(s.field_num("nothing"));
  EXPECT_EQ(s.other_header.size(), 2u);
  auto m = s.extract(5);
  EXPECT_EQ(m[1], (std::pair<double, double>{0.25, 12.0}));
  EXPECT_THROW(parse_stat("# period_msec 1\n# field 2 a\n0.0 1 2\n"), FormatError);
  EXPECT_THROW(parse_stat("0.0 1\n"), FormatError);
  EXPECT_THROW(parse_stat("# period_msec 0\n"), FormatError);
  EXPECT_THROW(parse_stat("# period_msec 10\n# field 2 a\n0.0 x\n"), FormatError);
}

}  // namespace
}  // namespace diag::mtrace
