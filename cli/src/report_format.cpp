// SPDX-License-Identifier: GPL-2.0-or-later
#include "report_format.h"

#include <time.h>

#include <cstdio>

#include "records.h"

namespace diag {

std::string format_clock_time(uint64_t mono_ns, int64_t real_minus_mono_ns) {
  int64_t real = real_time_ns(mono_ns, real_minus_mono_ns);
  time_t sec = real / 1000000000;
  struct tm tm {};
  localtime_r(&sec, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%06lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>((real % 1000000000) / 1000));
  return buf;
}

std::string format_duration(uint64_t ns) {
  char buf[32];
  if (ns < 1000)
    std::snprintf(buf, sizeof(buf), "%lluns", static_cast<unsigned long long>(ns));
  else if (ns < 1000000)
    std::snprintf(buf, sizeof(buf), "%.1fus", ns / 1e3);
  else if (ns < 1000000000)
    std::snprintf(buf, sizeof(buf), "%.3fms", ns / 1e6);
  else
    std::snprintf(buf, sizeof(buf), "%.3fs", ns / 1e9);
  return buf;
}

std::string format_rate(double bps) {
  char buf[32];
  if (bps < 1024)
    std::snprintf(buf, sizeof(buf), "%.0fB/s", bps);
  else if (bps < 1024.0 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1fKiB/s", bps / 1024);
  else if (bps < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1fMiB/s", bps / (1024.0 * 1024));
  else
    std::snprintf(buf, sizeof(buf), "%.1fGiB/s", bps / (1024.0 * 1024 * 1024));
  return buf;
}

uint64_t monotonic_now_ns() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string fixed_columns(const std::vector<std::string> &cells,
                          const std::vector<size_t> &widths) {
  std::string s;
  for (size_t c = 0; c < cells.size(); ++c) {
    s += cells[c];
    if (c + 1 == cells.size()) break;
    size_t w = c < widths.size() ? widths[c] : cells[c].size();
    s.append(cells[c].size() < w ? w - cells[c].size() + 2 : 2, ' ');
  }
  return s;
}

}  // namespace diag
