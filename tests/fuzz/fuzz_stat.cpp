// SPDX-License-Identifier: GPL-2.0-or-later
// The stat parser and everything migrate-extract does with a stat file.
#include <sstream>

#include "fuzz_common.h"
#include "migration_trace.h"
#include "svg_chart.h"

using namespace diag;
using namespace diag::mtrace;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  StatFile s;
  try {
    s = parse_stat(text, "fuzz");
  } catch (const FormatError &) {
    return 0;
  }
  fuzz::NullStream out;
  std::ostringstream written;
  write_stat(s, written);
  Chart c;
  for (const auto &[f, name] : s.fields) {
    if (f == s.ts_field) continue;
    c.series.push_back({name, s.extract(f)});
    out << s.field_num(name).value_or(0);
  }
  out << s.min_field() << s.max_field();
  drop_flat_series(c);
  out << render_svg(c);
  fuzz::MemFile file(data, size);
  fuzz::run_cli({"migrate-extract", "--max_field", file.path()});
  fuzz::run_cli({"migrate-extract", "--min_field", "--format", "json", file.path()});
  if (s.max_field()) {
    std::string f = std::to_string(s.max_field());
    fuzz::run_cli({"migrate-extract", "--field_name", f, file.path()});
    fuzz::run_cli({"migrate-extract", "--extract", f, "--format", "json", file.path()});
    fuzz::run_cli({"migrate-extract", "--extract", f, "--plot", "/dev/null", file.path()});
  }
  return 0;
}
