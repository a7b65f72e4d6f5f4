// SPDX-License-Identifier: GPL-2.0-or-later
// The kprobe report model end to end on records built here: mappings
// snapshots as the module writes them (from /proc/self/maps) and hits whose
// user stack is this very process's, captured like the module captures one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "capture_stack.h"
#include "kprobe.h"
#include "process_maps.h"
#include "records.h"

namespace diag {
namespace {

using diag::testing::capture;
using diag::testing::Captured;

volatile int sink;

void append_bytes(ReportBytes &out, const void *p, size_t n) {
  const auto *b = static_cast<const uint8_t *>(p);
  out.data.insert(out.data.end(), b, b + n);
  out.data.resize((out.data.size() + 7) & ~size_t{7}, 0);
}

// One snapshot of this process's executable mappings, as TASK_MAPS records.
void append_maps(ReportBytes &out, uint64_t mm_key, uint32_t seq, const ProcessMaps &pm,
                 uint64_t ts) {
  uint32_t i = 0, n = static_cast<uint32_t>(pm.mappings().size());
  for (const auto &m : pm.mappings()) {
    diag_task_map_record r{};
    r.hdr.type = DIAG_REC_TASK_MAPS;
    r.hdr.ts_ns = ts;
    r.mm_key = mm_key;
    r.tgid = getpid();
    r.flags = m.flags;
    r.seq = seq;
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
    append_bytes(out, rec.data(), rec.size());
  }
}

void append_hit(ReportBytes &out, uint64_t ts, int32_t pid, const Captured *c, uint64_t mm_key) {
  diag_kprobe_record r{};
  r.hdr.type = DIAG_REC_KPROBE;
  r.hdr.ts_ns = ts;
  r.hdr.cpu = 1;
  r.pid = pid;
  r.tgid = pid;
  std::strcpy(r.comm, "unit");
  r.cgroup_id = 0;
  r.nr_chain = 2;
  r.chain[0].pid = pid;
  std::strcpy(r.chain[0].comm, "unit");
  r.chain[1].pid = 1;
  std::strcpy(r.chain[1].comm, "init");
  r.kstack.nr = 0;
  size_t len = 0;
  if (c) {
    std::memcpy(r.ustack.regs, c->regs, sizeof(r.ustack.regs));
    r.ustack.flags = DIAG_USTACK_VALID;
    r.ustack.sp = c->sp;
    r.ustack.len = static_cast<uint32_t>(c->stack.size());
    r.ustack.mm_key = mm_key;
    len = c->stack.size();
  } else {
    r.flags = DIAG_KPROBE_KTHREAD;
  }
  r.hdr.size = static_cast<uint32_t>((sizeof(r) + len + 7) & ~size_t{7});
  std::vector<uint8_t> rec(r.hdr.size, 0);
  std::memcpy(rec.data(), &r, sizeof(r));
  if (c) std::memcpy(rec.data() + sizeof(r), c->stack.data(), len);
  append_bytes(out, rec.data(), rec.size());
}

__attribute__((noinline)) void hit_site(Captured &c) {
  capture(c, 16384);
  sink = sink + 1;
}

__attribute__((noinline)) void other_site(Captured &c) {
  capture(c, 16384);
  sink = sink + 2;
}

std::vector<std::string> user_names(const StackBlock &b) {
  std::vector<std::string> out;
  for (const auto &f : b.user) out.push_back(f.symbol);
  return out;
}

TEST(KprobeReport, HitsOfAnExitedAddressSpaceSymbolizeFromTheSnapshot) {
  Captured a, b;
  hit_site(a);
  other_site(b);
  ProcessMaps self = ProcessMaps::from_proc(getpid());
  ReportBytes bytes;
  // a pid that does not exist: /proc cannot help, only the snapshot can
  const int32_t pid = 4000000;
  append_hit(bytes, 100, pid, &a, 77);
  append_hit(bytes, 110, pid, &a, 77);
  append_hit(bytes, 120, pid, &b, 77);
  append_hit(bytes, 130, 0, nullptr, 0);
  append_maps(bytes, 77, 0, self, 140);
  DecodedReport report = decode_records(bytes);

  uint64_t hits = 0;
  auto blocks = kprobe_blocks(report, {}, &hits);
  EXPECT_EQ(hits, 4u);
  ASSERT_EQ(blocks.size(), 3u);  // two identical hits aggregated
  EXPECT_EQ(blocks[0].block.count, 2u);
  EXPECT_EQ(blocks[0].first_ts_ns, 100u);
  EXPECT_EQ(blocks[0].last_ts_ns, 110u);
  EXPECT_EQ(blocks[0].block.fields["user_maps"], "snapshot");
  auto names = user_names(blocks[0].block);
  ASSERT_GE(names.size(), 3u) << ::testing::PrintToString(names);
  EXPECT_NE(names[0].find("capture("), std::string::npos) << ::testing::PrintToString(names);
  EXPECT_NE(names[1].find("hit_site("), std::string::npos) << ::testing::PrintToString(names);
  EXPECT_NE(user_names(blocks[1].block)[1].find("other_site("), std::string::npos);
  ASSERT_EQ(blocks[0].block.chain.size(), 2u);
  EXPECT_EQ(blocks[0].block.chain[1].comm, "init");
  // the kernel thread: no user stack
  EXPECT_TRUE(blocks[2].block.user.empty());
  EXPECT_EQ(blocks[2].block.fields["kernel_thread"], true);

  auto each = kprobe_blocks(report, {false, false, false}, nullptr);
  EXPECT_EQ(each.size(), 4u);
}

TEST(KprobeReport, WithoutMappingsFramesAreUnknownNotACrash) {
  Captured a;
  hit_site(a);
  ReportBytes bytes;
  append_hit(bytes, 100, 4000000, &a, 78);
  DecodedReport report = decode_records(bytes);
  auto blocks = kprobe_blocks(report, {}, nullptr);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].block.fields["user_maps"], "none");
  ASSERT_FALSE(blocks[0].block.user.empty());
  EXPECT_EQ(blocks[0].block.user[0].symbol, "[unknown]");
  EXPECT_EQ(blocks[0].block.user[0].module, "[unknown]");
}

TEST(ProcessMaps, SnapshotsAreGroupedByNumberAndOverlaid) {
  auto map = [](uint64_t start, uint64_t end, const std::string &path) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.path = path;
    return m;
  };
  ProcessMaps first(1, ProcessMaps::Source::kSnapshot), second(1, ProcessMaps::Source::kSnapshot);
  first.add(map(0x1000, 0x2000, "/bin/prog"));
  first.add(map(0x7000, 0x8000, "/lib/ld.so"));
  second.add(map(0x1000, 0x2000, "/bin/prog"));
  second.add(map(0x5000, 0x6000, "/lib/libc.so"));
  ReportBytes bytes;
  append_maps(bytes, 9, 1, second, 20);
  append_maps(bytes, 9, 0, first, 10);
  append_maps(bytes, 9, 0, first, 15);  // written twice (a retry): no duplicates
  auto all = collect_task_maps(decode_records(bytes));
  ASSERT_EQ(all.size(), 1u);
  const ProcessMaps &pm = all.at(9);
  ASSERT_EQ(pm.mappings().size(), 3u);
  EXPECT_TRUE(pm.complete);
  EXPECT_EQ(pm.find(0x5100)->path, "/lib/libc.so");
  EXPECT_EQ(pm.find(0x7100)->path, "/lib/ld.so");  // unloaded since, still known
  EXPECT_EQ(pm.find(0x3000), nullptr);
}

TEST(ProcessMaps, ParsesProcMapsExecutableLinesOnly) {
  ProcessMaps pm = ProcessMaps::parse_proc_maps(
      5,
      "55d0c0000000-55d0c0001000 r--p 00000000 fe:00 123 /usr/bin/prog\n"
      "55d0c0001000-55d0c0005000 r-xp 00001000 fe:00 123 /usr/bin/prog\n"
      "7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]\n"
      "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 \n");
  ASSERT_EQ(pm.mappings().size(), 3u);
  const Mapping *prog = pm.find(0x55d0c0002000);
  ASSERT_NE(prog, nullptr);
  EXPECT_EQ(prog->path, "/usr/bin/prog");
  EXPECT_EQ(prog->pgoff, 0x1000u);
  EXPECT_EQ(prog->dev, (0xfeu << 20) | 0);
  EXPECT_EQ(prog->ino, 123u);
  EXPECT_EQ(pm.find(0x55d0c0000000), nullptr);  // not executable
  EXPECT_EQ(pm.find(0x7f0000000010)->flags, uint32_t{DIAG_MAP_ANON});
  EXPECT_EQ(pm.find(0x7ffd1010)->flags, uint32_t{DIAG_MAP_VDSO});
}

}  // namespace
}  // namespace diag
