// SPDX-License-Identifier: GPL-2.0-or-later
// Builders of record streams for the unit tests.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "device.h"
#include "uapi/diagnose.h"

namespace diag::testing {

template <typename T>
void append_record(ReportBytes &bytes, const T &rec) {
  const auto *p = reinterpret_cast<const uint8_t *>(&rec);
  bytes.data.insert(bytes.data.end(), p, p + sizeof(T));
}

inline diag_migrate_record migrate(uint64_t ts, int32_t pid, int32_t tgid, const std::string &comm,
                                   uint32_t from, uint32_t to, uint32_t cause,
                                   uint32_t flags = 0) {
  diag_migrate_record r{};
  r.hdr.size = sizeof(r);
  r.hdr.type = DIAG_REC_MIGRATE;
  r.hdr.cpu = static_cast<uint16_t>(to);
  r.hdr.ts_ns = ts;
  r.pid = pid;
  r.tgid = tgid;
  std::memcpy(r.comm, comm.c_str(), std::min(comm.size(), sizeof(r.comm) - 1));
  r.prio = 120;
  r.orig_cpu = from;
  r.dest_cpu = to;
  r.cause = cause;
  r.flags = flags;
  r.load_avg = 100 + pid;
  r.util_avg = 50;
  r.rss_bytes = 4096 * 1000;
  r.rchar = 10;
  r.wchar = 20;
  return r;
}

inline diag_lost_record lost(uint16_t cpu, uint64_t count) {
  diag_lost_record r{};
  r.hdr.size = sizeof(r);
  r.hdr.type = DIAG_REC_LOST;
  r.hdr.cpu = cpu;
  r.count = count;
  return r;
}

}  // namespace diag::testing
