// SPDX-License-Identifier: GPL-2.0-or-later
// Decoding of the module's record stream (see uapi/diagnose.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "device.h"
#include "uapi/diagnose.h"

namespace diag {

// A view of one record inside a report's bytes.
struct RecordView {
  const diag_record_header *header;
  std::span<const uint8_t> bytes;  // the whole record, header included

  uint16_t type() const { return header->type; }
  // Copies the record into T; records shorter than T (older modules) are
  // zero-extended, longer ones (newer modules) truncated.
  template <typename T>
  T as() const {
    T out{};
    std::memcpy(&out, bytes.data(), std::min(sizeof(T), bytes.size()));
    return out;
  }
};

// A NUL-padded name field of a record (a comm), as the bytes it holds.
// Any user can name a task anything: the result need not be UTF-8 or
// printable, so it reaches output through printable() or dump_json()
// (output.h).
template <size_t N>
std::string comm_of(const char (&field)[N]) {
  return std::string(field, strnlen(field, N));
}

// a + b, or UINT64_MAX when that does not fit: counts and sums of them
// stay ordered and never wrap into small numbers.
inline uint64_t sat_add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

// A decoded report: records in timestamp order, lost counts per CPU.
struct DecodedReport {
  std::vector<RecordView> records;  // every record but LOST ones
  std::map<uint16_t, uint64_t> lost_by_cpu;
  uint64_t lost_total = 0;
  int64_t real_minus_mono_ns = 0;
};

// Validates and decodes a stream.  Throws MalformedInput on a record whose
// size is not sane.  The views point into `bytes`, which must outlive
// the result.
DecodedReport decode_records(const ReportBytes &bytes);
// The same for several drains of one function (a --follow session kept in
// a rescue file): one report, records merged in timestamp order, losses
// summed, the counters of the last drain.
DecodedReport decode_batches(const std::vector<ReportBytes> &batches);

// CLOCK_REALTIME ns of a CLOCK_MONOTONIC timestamp (wrapping, never
// undefined, for timestamps no clock can have).
inline int64_t real_time_ns(uint64_t mono_ns, int64_t real_minus_mono_ns) {
  return static_cast<int64_t>(mono_ns + static_cast<uint64_t>(real_minus_mono_ns));
}

// Wall-clock time of a monotonic timestamp, as "[sec:usec]" like the seed
// tools print, and as ISO 8601 with microseconds for JSON.
std::string format_seed_time(uint64_t mono_ns, int64_t real_minus_mono_ns);
std::string format_iso_time(uint64_t mono_ns, int64_t real_minus_mono_ns);

}  // namespace diag
