// SPDX-License-Identifier: GPL-2.0-or-later
// Small formatting pieces shared by the per-event reports (keytime-image,
// resource-image): wall-clock times of module timestamps, durations, byte
// rates, fixed-width columns for output that streams.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diag {

// Local wall-clock time of a CLOCK_MONOTONIC timestamp: "HH:MM:SS.uuuuuu".
std::string format_clock_time(uint64_t mono_ns, int64_t real_minus_mono_ns);

// "850ns", "12.3us", "4.567ms", "2.001s".
std::string format_duration(uint64_t ns);

// "0B/s", "512B/s", "1.5KiB/s", "20.0MiB/s".
std::string format_rate(double bytes_per_sec);

// CLOCK_MONOTONIC now, the clock of the module's timestamps.
uint64_t monotonic_now_ns();

// A line of fixed-width columns (each padded to its width plus two spaces;
// the last is not padded), for tables printed one row at a time.
std::string fixed_columns(const std::vector<std::string> &cells, const std::vector<size_t> &widths);

}  // namespace diag
