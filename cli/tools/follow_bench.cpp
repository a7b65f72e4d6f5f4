// SPDX-License-Identifier: GPL-2.0-or-later
// The cost of one --report --follow batch: a kprobe session's batches
// rendered as --follow renders them (each batch a JSON line of its own),
// once with one ReportResources for the whole session (what --follow does:
// kallsyms, ELF images, symbol caches, cgroup names and address-space
// snapshots kept across batches) and once with fresh ones per batch (what
// it did before: everything loaded again every 200 ms).  The hits are this
// process's own: user stacks captured like the module captures them,
// kernel stacks of addresses from /proc/kallsyms; the first batch carries
// the address-space snapshot, as a session's does.
//
//   diag_follow_bench [BATCHES] [HITS_PER_BATCH]
// prints one line per mode: the first batch, then the median and the
// largest of the others, in ms.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../tests/capture_stack.h"
#include "function_command.h"
#include "kprobe.h"
#include "process_maps.h"
#include "records.h"

using namespace diag;

namespace {

volatile int sink;

__attribute__((noinline)) void depth3(testing::Captured &c) {
  testing::capture(c, 16384);
  sink = sink + 1;
}
__attribute__((noinline)) void depth2(testing::Captured &c, int n) {
  if (n) depth2(c, n - 1); else depth3(c);
  sink = sink + 1;
}

void append(ReportBytes &out, const void *p, size_t n) {
  const auto *b = static_cast<const uint8_t *>(p);
  out.data.insert(out.data.end(), b, b + n);
  out.data.resize((out.data.size() + 7) & ~size_t{7}, 0);
}

void append_snapshot(ReportBytes &out, uint64_t mm_key) {
  ProcessMaps pm = ProcessMaps::from_proc(getpid());
  uint32_t i = 0, n = static_cast<uint32_t>(pm.mappings().size());
  for (const auto &m : pm.mappings()) {
    diag_task_map_record r{};
    r.hdr.type = DIAG_REC_TASK_MAPS;
    r.mm_key = mm_key;
    r.tgid = getpid();
    r.flags = m.flags;
    r.index = i++;
    r.count = n;
    r.start = m.start;
    r.end = m.end;
    r.pgoff = m.pgoff;
    r.ino = m.ino;
    r.dev = m.dev;
    r.path_len = static_cast<uint32_t>(m.path.size() + 1);
    r.hdr.size = static_cast<uint32_t>((sizeof(r) + r.path_len + 7) & ~size_t{7});
    std::vector<uint8_t> rec(r.hdr.size, 0);
    std::memcpy(rec.data(), &r, sizeof(r));
    std::memcpy(rec.data() + sizeof(r), m.path.c_str(), m.path.size());
    append(out, rec.data(), rec.size());
  }
}

std::vector<uint64_t> kernel_addresses(size_t want) {
  std::ifstream in("/proc/kallsyms");
  std::vector<uint64_t> out;
  std::string line;
  while (out.size() < want && std::getline(in, line)) {
    unsigned long long a = std::strtoull(line.c_str(), nullptr, 16);
    if (a && line.find(" T ") != std::string::npos && out.size() < want) out.push_back(a + 16);
  }
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char **argv) {
  int batches = argc > 1 ? std::atoi(argv[1]) : 20;
  int hits = argc > 2 ? std::atoi(argv[2]) : 200;
  std::vector<testing::Captured> stacks(8);
  for (int i = 0; i < 8; ++i) depth2(stacks[i], i);
  std::vector<uint64_t> kips = kernel_addresses(4000);
  if (kips.size() < 8) {
    std::fprintf(stderr, "follow_bench: /proc/kallsyms shows no addresses (run as root)\n");
    return 1;
  }

  std::vector<ReportBytes> session(batches);
  uint64_t ts = 1000;
  for (int b = 0; b < batches; ++b) {
    if (b == 0) append_snapshot(session[b], 42);
    for (int h = 0; h < hits; ++h) {
      const testing::Captured &c = stacks[h % stacks.size()];
      diag_kprobe_record r{};
      r.hdr.type = DIAG_REC_KPROBE;
      r.hdr.ts_ns = ts++;
      r.pid = r.tgid = getpid();
      std::strcpy(r.comm, "bench");
      r.cgroup_id = 1 + h % 3;
      r.nr_chain = 1;
      r.chain[0].pid = getpid();
      std::strcpy(r.chain[0].comm, "bench");
      r.kstack.nr = 6;
      for (uint32_t k = 0; k < r.kstack.nr; ++k)
        r.kstack.ips[k] = kips[(b * 131 + h * 7 + k * 13) % kips.size()];
      std::memcpy(r.ustack.regs, c.regs, sizeof(r.ustack.regs));
      r.ustack.flags = DIAG_USTACK_VALID;
      r.ustack.sp = c.sp;
      r.ustack.len = static_cast<uint32_t>(c.stack.size());
      r.ustack.mm_key = 42;
      r.hdr.size = static_cast<uint32_t>((sizeof(r) + c.stack.size() + 7) & ~size_t{7});
      std::vector<uint8_t> rec(r.hdr.size, 0);
      std::memcpy(rec.data(), &r, sizeof(r));
      std::memcpy(rec.data() + sizeof(r), c.stack.data(), c.stack.size());
      append(session[b], rec.data(), rec.size());
    }
  }

  auto cmd = make_kprobe_command();
  diag_kprobe_settings ks{};
  std::strcpy(ks.probe, "vfs_read");
  std::vector<uint8_t> settings(sizeof(ks));
  std::memcpy(settings.data(), &ks, sizeof(ks));
  diag_version version{};
  std::printf("%d batches of %d kprobe hits (user and kernel stacks), as --follow --format json\n",
              batches, hits);
  for (bool shared : {true, false}) {
    std::vector<double> ms;
    std::ostringstream out;
    ReportResources session_res;
    ReportContext session_ctx{settings, version, &session_res};
    auto stream = cmd->make_stream(session_ctx, true, out);
    for (const auto &b : session) {
      auto t0 = std::chrono::steady_clock::now();
      if (shared) {
        stream->batch(decode_records(b));
      } else {
        ReportResources fresh;
        ReportContext ctx{settings, version, &fresh};
        cmd->make_stream(ctx, true, out)->batch(decode_records(b));
      }
      ms.push_back(ms_since(t0));
      out.str("");
    }
    std::vector<double> rest(ms.begin() + 1, ms.end());
    std::sort(rest.begin(), rest.end());
    std::printf("%-34s first batch %8.2f ms, then median %8.2f ms, max %8.2f ms\n",
                shared ? "one session (--follow now):" : "fresh per batch (before):", ms[0],
                rest.empty() ? 0 : rest[rest.size() / 2], rest.empty() ? 0 : rest.back());
  }
  return 0;
}
