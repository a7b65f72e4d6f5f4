// SPDX-License-Identifier: GPL-2.0-or-later
// Writes the binary seeds of the record targets (tests/fuzz/corpus/
// fuzz_records_*): a function's settings struct followed by a record
// stream as a drain returns it, built from the ABI's own structs; and the
// same records as rescue files (fuzz_rescue).
//   c++ -std=c++20 -I. tests/fuzz/make_record_seeds.cpp -o /tmp/seeds && /tmp/seeds
// (from the repository root).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "uapi/diagnose.h"

namespace {

using Bytes = std::vector<uint8_t>;

template <typename T>
void add(Bytes &b, const T &v) {
  const auto *p = reinterpret_cast<const uint8_t *>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

// A record of fixed part T followed by `extra`, padded to 8 bytes.
template <typename T>
void record(Bytes &b, T r, uint16_t type, const std::string &extra = {}) {
  r.hdr.type = type;
  r.hdr.size = static_cast<uint32_t>((sizeof(T) + extra.size() + 7) / 8 * 8);
  Bytes rec(r.hdr.size, 0);
  std::memcpy(rec.data(), &r, sizeof(T));
  std::memcpy(rec.data() + sizeof(T), extra.data(), extra.size());
  b.insert(b.end(), rec.begin(), rec.end());
}

void lost(Bytes &b, uint16_t cpu, uint64_t n) {
  diag_lost_record r{};
  r.hdr.cpu = cpu;
  r.count = n;
  record(b, r, DIAG_REC_LOST);
}

void write(const std::string &target, const std::string &name, const Bytes &b) {
  std::filesystem::path dir = "tests/fuzz/corpus/" + target;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char *>(b.data()),
                                                    static_cast<std::streamsize>(b.size()));
}

// The same bytes as a rescue file of `function` (cli/src/rescue.h): the
// settings struct, then the records in two batches, the second empty.
void write_rescue(const std::string &function, uint32_t id, size_t settings_size,
                  const std::string &name, const Bytes &b) {
  std::string head = "diagnose-tools rescue 1\nfunction " + function +
                     "\nfunction_id " + std::to_string(id) +
                     "\nabi_version " + std::to_string(DIAG_ABI_VERSION) +
                     "\nnr_cpu_ids 4\nfunctions 15\nmodule_version 0.1.0\nsettings " +
                     std::to_string(settings_size) + "\nend\n";
  Bytes out(head.begin(), head.end());
  out.insert(out.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(settings_size));
  std::string batch = "batch " + std::to_string(b.size() - settings_size) +
                      " 3 1700000000000000000 4\n";
  out.insert(out.end(), batch.begin(), batch.end());
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(settings_size), b.end());
  batch = "batch 0 5 1700000000000000000 4\n";
  out.insert(out.end(), batch.begin(), batch.end());
  write("fuzz_rescue", name, out);
}

template <typename S>
Bytes settings(int verbose, int32_t tgid) {
  S s{};
  s.common.activated = 1;
  s.common.verbose = verbose;
  s.common.tgid = tgid;
  Bytes b;
  add(b, s);
  return b;
}

diag_migrate_record migrate(uint64_t ts, int32_t pid, const char *comm, uint32_t from,
                            uint32_t to, uint32_t cause, uint32_t flags) {
  diag_migrate_record r{};
  r.hdr.ts_ns = ts;
  r.hdr.cpu = to;
  r.pid = pid;
  r.tgid = 10;
  std::strncpy(r.comm, comm, sizeof(r.comm) - 1);
  r.prio = 120;
  r.cause = cause;
  r.orig_cpu = from;
  r.dest_cpu = to;
  r.flags = flags;
  r.load_avg = 300;
  r.util_avg = 200;
  r.rss_bytes = 4 << 20;
  r.rchar = 10;
  r.wchar = 20;
  r.caller = 0xffffffff81001234;
  return r;
}

diag_kernel_stack kstack(std::initializer_list<uint64_t> ips) {
  diag_kernel_stack s{};
  for (uint64_t ip : ips) s.ips[s.nr++] = ip;
  return s;
}

}  // namespace

int main() {
  // ---- migrate-image
  for (int verbose : {0, 1}) {
    Bytes b = settings<diag_migrate_image_settings>(verbose, 10);
    record(b, migrate(100, 10, "main", 0, 1, DIAG_CAUSE_TRY_TO_WAKE_UP, 0), DIAG_REC_MIGRATE);
    record(b, migrate(200, 11, "wor\xffker", 1, 0, DIAG_CAUSE_MIGRATE_TASK,
                      DIAG_MIGRATE_SRC_DISALLOWED), DIAG_REC_MIGRATE);
    lost(b, 1, 7);
    record(b, migrate(150, 12, "child", 0, 1, DIAG_CAUSE_SCHED_FORK, DIAG_MIGRATE_FORK_PLACEMENT),
           DIAG_REC_MIGRATE);
    record(b, migrate(UINT64_MAX, 13, "\x1b[2J", 8191, 0, 999, DIAG_MIGRATE_KTHREAD),
           DIAG_REC_MIGRATE);
    write("fuzz_records_migrate_image", verbose ? "verbose" : "plain", b);
    write_rescue("migrate-image", DIAG_FN_MIGRATE_IMAGE, sizeof(diag_migrate_image_settings),
                 verbose ? "migrate-image-verbose" : "migrate-image", b);
  }

  // ---- kprobe
  {
    diag_kprobe_settings s{};
    s.common.activated = 1;
    s.common.verbose = 1;
    std::strcpy(s.probe, "schedule");
    s.cpus_set = 1;
    s.cpus[0] = 0x5;
    Bytes b;
    add(b, s);
    // a snapshot of two mappings
    for (uint32_t i = 0; i < 2; ++i) {
      diag_task_map_record m{};
      m.hdr.ts_ns = 50;
      m.mm_key = 77;
      m.tgid = 7;
      m.seq = 0;
      m.index = i;
      m.count = 2;
      m.start = 0x400000 + i * 0x100000;
      m.end = m.start + 0x10000;
      std::string path = i ? "/nonexistent/lib\xff.so" : "/bin/true";
      m.path_len = static_cast<uint32_t>(path.size() + 1);
      record(b, m, DIAG_REC_TASK_MAPS, path + '\0');
    }
    diag_kprobe_record r{};
    r.hdr.ts_ns = 100;
    r.hdr.cpu = 2;
    r.pid = r.tgid = 7;
    std::strcpy(r.comm, "app");
    r.cgroup_id = 1234;
    r.nr_chain = 2;
    r.chain[0].pid = 7;
    std::strcpy(r.chain[0].comm, "app");
    r.chain[1].pid = 1;
    std::strcpy(r.chain[1].comm, "in\xffit");
    r.kstack = kstack({0xffffffff81001010, 0xffffffff81002020, 0xffffffffc0000010, 0x1});
    r.ustack.flags = DIAG_USTACK_VALID;
    r.ustack.mm_key = 77;
    r.ustack.regs[DIAG_UREG_IP] = 0x401000;
    r.ustack.regs[DIAG_UREG_SP] = 0x7ffc0000;
    r.ustack.regs[DIAG_UREG_BP] = 0x7ffc0010;
    r.ustack.sp = 0x7ffc0000;
    // a frame-pointer chain in the copy: [bp] = next bp, [bp+8] = return
    std::string copy(64, '\0');
    uint64_t words[8] = {0, 0, 0x7ffc0020, 0x401234, 0, 0, 0, 0x501000};
    std::memcpy(copy.data(), words, sizeof(words));
    r.ustack.len = static_cast<uint32_t>(copy.size());
    record(b, r, DIAG_REC_KPROBE, copy);
    r.hdr.ts_ns = 110;
    record(b, r, DIAG_REC_KPROBE, copy);  // aggregated with the first
    diag_kprobe_record k{};
    k.hdr.ts_ns = 120;
    k.pid = k.tgid = 2;
    std::strcpy(k.comm, "kworker/0:1");
    k.flags = DIAG_KPROBE_KTHREAD | DIAG_KPROBE_IN_IRQ;
    k.nr_chain = 99;
    k.kstack = kstack({0xffffffff81001010});
    k.kstack.nr = 1000;
    record(b, k, DIAG_REC_KPROBE);
    lost(b, 0, 3);
    write("fuzz_records_kprobe", "hits", b);
    write_rescue("kprobe", DIAG_FN_KPROBE, sizeof(diag_kprobe_settings), "kprobe", b);
  }

  // ---- keytime-image
  {
    Bytes b = settings<diag_keytime_image_settings>(0, 5);
    auto ev = [](uint64_t ts, uint32_t event, uint32_t flags = 0) {
      diag_keytime_record r{};
      r.hdr.ts_ns = ts;
      r.hdr.cpu = 1;
      r.pid = r.tgid = 5;
      std::strcpy(r.comm, "sh");
      r.event = event;
      r.flags = flags;
      r.prio = 120;
      r.data_off = sizeof(diag_keytime_record);
      return r;
    };
    auto start = ev(100, DIAG_KT_CLONE_START);
    start.child_pid = 6;
    start.clone_flags = 0x1200011;  // fork's
    start.exit_signal = 17;
    record(b, start, DIAG_REC_KEYTIME);
    auto end = ev(120, DIAG_KT_CLONE_END);
    end.child_pid = 6;
    end.ret = 6;
    end.duration_ns = 30000;
    end.clone_flags = 0x4111;  // vfork's
    record(b, end, DIAG_REC_KEYTIME);
    std::string exec_data("/bin/\xffls\0ls\0-l\0a b\0\x01", 20);
    auto exec = ev(130, DIAG_KT_EXEC, DIAG_KT_TRUNCATED);
    exec.data_len = static_cast<uint16_t>(exec_data.size());
    record(b, exec, DIAG_REC_KEYTIME, exec_data);
    auto failed = ev(131, DIAG_KT_EXEC);
    failed.ret = -2;
    record(b, failed, DIAG_REC_KEYTIME);
    diag_kernel_stack st = kstack({0xffffffff81001010, 0xffffffff81002020});
    std::string sd(reinterpret_cast<const char *>(&st), sizeof(st));
    auto off = ev(140, DIAG_KT_OFFCPU, DIAG_KT_STACK | DIAG_KT_PREEMPTED | DIAG_KT_RUNNABLE);
    off.data_len = static_cast<uint16_t>(sd.size());
    off.sum_exec_ns = 1000;
    record(b, off, DIAG_REC_KEYTIME, sd);
    auto on = ev(200, DIAG_KT_ONCPU);
    on.sum_exec_ns = 1000;
    record(b, on, DIAG_REC_KEYTIME);
    auto off2 = ev(300, DIAG_KT_OFFCPU, DIAG_KT_STACK);
    off2.state = 1;
    off2.data_len = static_cast<uint16_t>(sd.size());
    record(b, off2, DIAG_REC_KEYTIME, sd);
    auto ex = ev(400, DIAG_KT_EXIT, DIAG_KT_GROUP_DEAD);
    ex.ret = 0x8b;  // SIGSEGV with a core
    record(b, ex, DIAG_REC_KEYTIME);
    auto odd = ev(500, 77, DIAG_KT_FLAGS_UNKNOWN);
    odd.ret = INT64_MIN;
    record(b, odd, DIAG_REC_KEYTIME);
    write("fuzz_records_keytime_image", "life", b);
    write_rescue("keytime-image", DIAG_FN_KEYTIME_IMAGE, sizeof(diag_keytime_image_settings),
                 "keytime-image", b);
  }

  // ---- resource-image
  {
    Bytes b = settings<diag_resource_image_settings>(0, 9);
    auto sample = [](uint64_t start, uint64_t end, int32_t pid, uint32_t flags) {
      diag_resource_record r{};
      r.hdr.ts_ns = end;
      r.start_ns = start;
      r.pid = pid;
      r.tgid = 9;
      std::strcpy(r.comm, "db\xff");
      r.cpu_ns = (end - start) / 2;
      r.cpus = 0x8000000000000003ull;
      r.cpu = 1;
      r.flags = flags;
      r.rss_bytes = 100 << 20;
      r.total_ram_bytes = 1ull << 34;
      r.rchar = 4096;
      r.wchar = UINT64_MAX;
      return r;
    };
    record(b, sample(1000000, 2000000, 9, 0), DIAG_REC_RESOURCE);
    record(b, sample(2000000, 3000000, 9, DIAG_RI_RUNNING), DIAG_REC_RESOURCE);
    record(b, sample(1500000, 3500000, 10, DIAG_RI_EXITED), DIAG_REC_RESOURCE);
    record(b, sample(0, 0, 11, DIAG_RI_TABLE_FULL), DIAG_REC_RESOURCE);
    record(b, sample(5000000, 1000, 12, DIAG_RI_OFF_CPU | DIAG_RI_KTHREAD), DIAG_REC_RESOURCE);
    write("fuzz_records_resource_image", "samples", b);
    write_rescue("resource-image", DIAG_FN_RESOURCE_IMAGE, sizeof(diag_resource_image_settings),
                 "resource-image", b);
  }
  return 0;
}
