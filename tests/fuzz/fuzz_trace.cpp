// SPDX-License-Identifier: GPL-2.0-or-later
// The migration trace parser and everything migrate-stats does with a
// trace: analysis, summary, periods, stat writer, chart, the command's text
// and JSON output.
#include <set>
#include <sstream>

#include "fuzz_common.h"
#include "migration_trace.h"
#include "svg_chart.h"

using namespace diag;
using namespace diag::mtrace;

namespace {

// --period over a long window is a large but legitimate amount of work
// (a million periods of a chart take seconds, minutes under the
// sanitizers): such periods are left out, as their work is no more than
// their size; periods beyond the limits, which must be refused at once,
// and small ones are run.
constexpr uint64_t kWorkBudget = 20000;  // stat values (periods x fields)

bool heavy(const Analysis &a, uint32_t period_ms, const PeriodGroups &g) {
  uint64_t nperiods = (a.end - a.begin) / (uint64_t{period_ms} * 1000000);
  std::set<std::pair<uint32_t, uint32_t>> pairs;
  if (g.cpu_pair)
    for (const auto &m : a.moves)
      if (!m.fork_placement) pairs.insert({m.from, m.to});
  uint64_t nfields = 1 + g.all + (g.cause ? a.trace->header.causes.size() : 0) +
                     (g.cpu ? 2ull * a.trace->header.nr_cpus : 0) + pairs.size();
  bool refused = nperiods > kMaxPeriods || nfields > kMaxStatFields ||
                 nperiods * nfields > kMaxStatValues;
  return !refused && nperiods * nfields > kWorkBudget;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  Trace trace;
  try {
    trace = parse_trace(text, "fuzz");
  } catch (const FormatError &) {
    return 0;
  }
  fuzz::NullStream out;
  bool cli_period = true;  // whether the command's --period 500 is run
  try {
    Analysis a = analyze(trace, {});
    Summary s = summarize(a);
    out << s.tasks.size() << s.pairs.size();
    for (const auto &m : a.moves)
      for (TsMode mode : {TsMode::kRaw, TsMode::kRelative, TsMode::kAbsolute})
        out << format_ts(a, m.ts, mode) << trace.cause_name(m.cause);
    PeriodGroups all{true, true, true, true};
    cli_period = !heavy(a, 500, {false, false, false, true});
    for (uint32_t period : {1u, 7u, 1000u}) {
      if (heavy(a, period, all)) continue;
      try {
        StatFile st = period_stat(a, period, all);
        std::ostringstream written;
        write_stat(st, written);
        // what migrate-extract reads back is what was written
        StatFile back = parse_stat(written.str(), "period_stat");
        if (back.rows.size() != st.rows.size()) __builtin_trap();
        Chart c;
        for (uint32_t f = st.min_field(); f && f <= st.max_field(); ++f)
          if (st.fields.count(f)) c.series.push_back({st.fields.at(f), st.extract(f)});
        out << render_svg(c);
      } catch (const UsageError &) {  // beyond the --period limits
      }
    }
  } catch (const UsageError &) {
  } catch (const std::runtime_error &e) {
    if (typeid(e) != typeid(std::runtime_error) || !fuzz::is_refusal(e)) throw;
  }
  // the command, as people run it
  fuzz::MemFile file(data, size);
  fuzz::run_cli({"migrate-stats", file.path()});
  fuzz::run_cli({"migrate-stats", "--migrate", "--fork", "--stats", "--ts_rel", "--format",
                 "json", file.path()});
  fuzz::run_cli({"migrate-stats", "--migrate", "--ts_abs", file.path()});
  if (cli_period)
    fuzz::run_cli({"migrate-stats", "--period", "500", "--period_cpu_pair", "--plot", "/dev/null",
                   file.path()});
  return 0;
}
