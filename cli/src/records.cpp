// SPDX-License-Identifier: GPL-2.0-or-later
#include "records.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include "errors.h"

namespace diag {

DecodedReport decode_records(const ReportBytes &in) {
  DecodedReport out;
  out.lost_total = in.lost_total;
  out.real_minus_mono_ns = in.real_minus_mono_ns;
  size_t pos = 0;
  const auto &data = in.data;
  while (pos < data.size()) {
    if (data.size() - pos < sizeof(diag_record_header))
      throw MalformedInput("truncated record header at byte " + std::to_string(pos));
    const auto *hdr = reinterpret_cast<const diag_record_header *>(data.data() + pos);
    if (hdr->size < sizeof(diag_record_header) || hdr->size % 8 || hdr->size > data.size() - pos)
      throw MalformedInput("bad record size " + std::to_string(hdr->size) + " at byte " +
                           std::to_string(pos));
    RecordView view{hdr, std::span<const uint8_t>(data.data() + pos, hdr->size)};
    if (hdr->type == DIAG_REC_LOST) {
      uint64_t &lost = out.lost_by_cpu[hdr->cpu];
      lost = sat_add(lost, view.as<diag_lost_record>().count);
    } else if (hdr->type != DIAG_REC_PAD) {
      out.records.push_back(view);
    }
    pos += hdr->size;
  }
  // Each report call is merged by the module; successive calls may overlap
  // by a record or two, so make the whole stream ordered.
  std::stable_sort(out.records.begin(), out.records.end(),
                   [](const RecordView &a, const RecordView &b) {
                     return a.header->ts_ns < b.header->ts_ns;
                   });
  return out;
}

DecodedReport decode_batches(const std::vector<ReportBytes> &batches) {
  DecodedReport out;
  for (const auto &b : batches) {
    DecodedReport d = decode_records(b);
    out.records.insert(out.records.end(), d.records.begin(), d.records.end());
    for (const auto &[cpu, n] : d.lost_by_cpu) out.lost_by_cpu[cpu] = sat_add(out.lost_by_cpu[cpu], n);
    out.lost_total = d.lost_total;
    out.real_minus_mono_ns = d.real_minus_mono_ns;
  }
  std::stable_sort(out.records.begin(), out.records.end(),
                   [](const RecordView &a, const RecordView &b) {
                     return a.header->ts_ns < b.header->ts_ns;
                   });
  return out;
}

std::string format_seed_time(uint64_t mono_ns, int64_t real_minus_mono_ns) {
  int64_t real = real_time_ns(mono_ns, real_minus_mono_ns);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "[%lld:%06lld]", static_cast<long long>(real / 1000000000),
                static_cast<long long>((real % 1000000000) / 1000));
  return buf;
}

std::string format_iso_time(uint64_t mono_ns, int64_t real_minus_mono_ns) {
  int64_t real = real_time_ns(mono_ns, real_minus_mono_ns);
  time_t sec = real / 1000000000;
  struct tm tm {};
  gmtime_r(&sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%06lldZ",
           static_cast<long long>((real % 1000000000) / 1000));
  return buf;
}

}  // namespace diag
