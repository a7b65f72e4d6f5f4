// SPDX-License-Identifier: GPL-2.0-or-later
// Builders of keytime-image and resource-image records for the unit tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include <sstream>

#include "device.h"
#include "function_command.h"
#include "uapi/diagnose.h"

namespace diag::testing {

// What `--report` prints for a decoded stream.
inline std::string render(const FunctionCommand &cmd, const DecodedReport &decoded,
                          const std::vector<uint8_t> &settings, bool json) {
  diag_version version{};
  std::ostringstream out;
  cmd.render_report(decoded, ReportContext{settings, version}, json, out);
  return out.str();
}

// A keytime record followed by `data`, padded to 8 bytes as the module does.
inline void append_keytime(ReportBytes &bytes, diag_keytime_record r,
                           const std::string &data = std::string()) {
  r.data_off = sizeof(r);
  r.data_len = static_cast<uint16_t>(data.size());
  r.hdr.size = static_cast<uint32_t>((sizeof(r) + data.size() + 7) / 8 * 8);
  r.hdr.type = DIAG_REC_KEYTIME;
  std::vector<uint8_t> rec(r.hdr.size, 0);
  std::memcpy(rec.data(), &r, sizeof(r));
  std::memcpy(rec.data() + sizeof(r), data.data(), data.size());
  bytes.data.insert(bytes.data.end(), rec.begin(), rec.end());
}

inline diag_keytime_record keytime(uint64_t ts, int32_t pid, int32_t tgid, uint32_t event,
                                   uint16_t cpu = 0) {
  diag_keytime_record r{};
  r.hdr.ts_ns = ts;
  r.hdr.cpu = cpu;
  r.pid = pid;
  r.tgid = tgid;
  std::strcpy(r.comm, "app");
  r.event = event;
  r.prio = 120;
  return r;
}

inline std::string stack_bytes(std::vector<uint64_t> ips) {
  diag_kernel_stack st{};
  st.nr = static_cast<uint32_t>(ips.size());
  for (size_t i = 0; i < ips.size(); ++i) st.ips[i] = ips[i];
  return std::string(reinterpret_cast<const char *>(&st), sizeof(st));
}

inline diag_resource_record resource(uint64_t start, uint64_t end, int32_t pid, int32_t tgid,
                                     uint64_t cpu_ns) {
  diag_resource_record r{};
  r.hdr.size = sizeof(r);
  r.hdr.type = DIAG_REC_RESOURCE;
  r.hdr.ts_ns = end;
  r.start_ns = start;
  r.pid = pid;
  r.tgid = tgid;
  std::strcpy(r.comm, "app");
  r.cpu_ns = cpu_ns;
  r.cpu = 1;
  r.cpus = 0x3;
  r.total_ram_bytes = 1000ull << 20;
  return r;
}

}  // namespace diag::testing
