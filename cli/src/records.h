// SPDX-License-Identifier: GPL-2.0-or-later
// Decoding of the module's record stream (see uapi/diagnose.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
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

// A decoded report: records in timestamp order, lost counts per CPU.
struct DecodedReport {
  std::vector<RecordView> records;  // every record but LOST ones
  std::map<uint16_t, uint64_t> lost_by_cpu;
  uint64_t lost_total = 0;
  int64_t real_minus_mono_ns = 0;
};

// Validates and decodes a stream.  Throws std::runtime_error on a record
// whose size is not sane.  The views point into `bytes`, which must outlive
// the result.
DecodedReport decode_records(const ReportBytes &bytes);

// Wall-clock time of a monotonic timestamp, as "[sec:usec]" like the seed
// tools print, and as ISO 8601 with microseconds for JSON.
std::string format_seed_time(uint64_t mono_ns, int64_t real_minus_mono_ns);
std::string format_iso_time(uint64_t mono_ns, int64_t real_minus_mono_ns);

}  // namespace diag
