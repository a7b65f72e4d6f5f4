// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpf_backend/bpf_loader.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "errors.h"
#include "bpf_backend/bpf_backend.h"
#include "bpf_backend/bpf_functions.h"
#include "kallsyms.h"

namespace diag {

namespace {

// libbpf's messages: the last ones say why a load failed
std::string g_libbpf_log;

// $DIAGNOSE_BPF_LOG set: everything libbpf says (the verifier's log
// included) goes to stderr as well
int capture_libbpf(enum libbpf_print_level level, const char *fmt, va_list args) {
  static const bool verbose = std::getenv("DIAGNOSE_BPF_LOG") != nullptr;
  if (verbose) {
    va_list copy;
    va_copy(copy, args);
    std::vfprintf(stderr, fmt, copy);
    va_end(copy);
  }
  if (level == LIBBPF_DEBUG) return 0;
  // whole: one message can be the verifier's log of a program, whose last
  // words (before its end marker) say why it was refused
  va_list measure;
  va_copy(measure, args);
  int n = std::vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  if (n <= 0) return n;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), fmt, args);
  text.resize(static_cast<size_t>(n));
  g_libbpf_log += text;
  if (g_libbpf_log.size() > 256 * 1024) g_libbpf_log.erase(0, g_libbpf_log.size() - 128 * 1024);
  return n;
}

// The last non-empty line of `s`.
std::string last_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Why libbpf failed, in one line: the verifier's last words when it
// refused a program, else libbpf's last line.
std::string libbpf_reason() {
  std::string s = g_libbpf_log;
  size_t end = s.rfind("-- END PROG LOAD LOG --");
  if (end != std::string::npos) {
    // "libbpf: prog 'NAME': failed to load" follows the log: name the program
    std::string prog;
    size_t at = s.find("prog '", end);
    if (at != std::string::npos) {
      size_t close = s.find('\'', at + 6);
      if (close != std::string::npos) prog = s.substr(at + 6, close - at - 6);
    }
    s.resize(end);
    // the verifier's last words end in its statistics ("processed N insns"): the line before
    size_t stats = s.rfind("\nprocessed ");
    if (stats != std::string::npos) s.resize(stats);
    std::string last = last_line(s);
    return prog.empty() ? last : "program " + prog + ": " + last;
  }
  return last_line(s);
}

}  // namespace

void reset_libbpf_log() { g_libbpf_log.clear(); }

[[noreturn]] void load_failed(const char *what, int err) {
  err = err < 0 ? -err : err;
  std::string why = libbpf_reason();
  throw KernelError(err, std::string(what) + " failed: " +
                             (why.empty() ? std::strerror(err) : why));
}

uint64_t ram_bytes() {
  struct sysinfo si{};
  if (::sysinfo(&si) != 0) return 0;
  return static_cast<uint64_t>(si.totalram) * si.mem_unit;
}

namespace {

// The module's default buffer per CPU: DIAG_BUF_KIB_DEFAULT, less where
// that takes more than 1/64 of RAM, never less than the minimum.
uint32_t default_buf_kib(uint32_t nr_cpus) {
  uint64_t kib = ram_bytes() / 1024 / 64 / std::max<uint32_t>(nr_cpus, 1);
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(kib, DIAG_BUF_KIB_DEFAULT_MIN, DIAG_BUF_KIB_DEFAULT));
}

// what one BPF ring buffer map may hold (its size is a u32 power of two)
constexpr uint64_t kMaxRingBytes = 1ull << 31;

}  // namespace

uint64_t ring_bytes(uint32_t buf_kib, uint32_t nr_cpus) {
  uint64_t want = static_cast<uint64_t>(buf_kib) * 1024 * nr_cpus, bytes = 4096;
  while (bytes < want) bytes <<= 1;
  return bytes;
}

// libbpf attaches a "tracepoint/" program by the event's id, read from
// tracefs: /sys/kernel/debug/tracing when debugfs is mounted, else
// /sys/kernel/tracing, which is mounted here when it is not (a minimal
// init or a fresh container leaves it empty).
void ensure_tracefs() {
  constexpr const char *kTracefs = "/sys/kernel/tracing";
  struct stat st{};
  if (::stat("/sys/kernel/debug/tracing/events", &st) == 0 ||
      ::stat("/sys/kernel/tracing/events", &st) == 0)
    return;
  if (::mount("nodev", kTracefs, "tracefs", 0, nullptr) != 0) {
    const int err = errno;
    throw EnvironmentError(std::string("cannot mount tracefs on ") + kTracefs + ": " +
                           std::strerror(err) + " (mount -t tracefs nodev " + kTracefs + ")");
  }
}

// Loads and attaches what `skel` holds (its programs set to load).
void load_attach(bpf_object_skeleton *skel) {
  int err = bpf_object__load_skeleton(skel);
  if (err) load_failed("loading the BPF programs", err);
  err = bpf_object__attach_skeleton(skel);
  if (err) load_failed("attaching the BPF programs", err);
}

// Pins the links and maps of a loaded and attached `skel` in `dir`
// (bpffs takes no dots in names: "link_PROG"), the settings in the
// `settings` map.
void pin(bpf_object_skeleton *skel, bpf_map *settings_map, const void *settings,
         uint32_t settings_size, const std::string &dir) {
  int err;

  diag_settings_blob blob{};
  std::memcpy(blob.bytes, settings, std::min<size_t>(settings_size, sizeof(blob.bytes)));
  uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(settings_map), &zero, &blob, BPF_ANY) != 0)
    load_failed("storing the settings", errno);

  if (::mkdir(dir.c_str(), 0700) != 0)
    throw KernelError(errno, "cannot create " + dir + ": " + std::strerror(errno));
  bpf_map *map;
  bpf_object__for_each_map(map, *skel->obj) {
    if (bpf_map__is_internal(map)) continue;
    const std::string path = dir + "/" + bpf_map__name(map);
    if ((err = bpf_map__pin(map, path.c_str())) != 0) load_failed(("pinning " + path).c_str(), err);
  }
  for (int i = 0; i < skel->prog_cnt; ++i) {
    bpf_program *prog = *skel->progs[i].prog;
    if (!bpf_program__autoload(prog)) continue;  // not wanted by the settings
    if (!bpf_program__autoattach(prog)) {
      // attached to nothing, run by the CLI (BPF_PROG_TEST_RUN): the program itself
      const std::string path = dir + "/prog_" + skel->progs[i].name;
      if ((err = bpf_program__pin(prog, path.c_str())) != 0)
        load_failed(("pinning " + path).c_str(), err);
      continue;
    }
    bpf_link *link = *skel->progs[i].link;
    const std::string path = dir + "/link_" + skel->progs[i].name;
    if (!link) throw KernelError(ENOENT, std::string("program ") + skel->progs[i].name + " is not attached");
    if ((err = bpf_link__pin(link, path.c_str())) != 0) load_failed(("pinning " + path).c_str(), err);
  }
}

std::vector<diag_cause_range> resolve_cause_ranges() {
  struct Site {
    const char *sym;
    uint32_t cause;
  };
  static const Site sites[] = {
#define CAUSE_SITE(sym, cause) {sym, cause},
      DIAG_MIGRATE_CAUSE_SITES(CAUSE_SITE)
#undef CAUSE_SITE
  };
  KernelSymbols ksyms = KernelSymbols::load();
  if (ksyms.empty())
    throw EnvironmentError(
        "/proc/kallsyms shows no addresses (kernel.kptr_restrict?): the BPF backend needs them "
        "to tell why tasks migrate");
  std::vector<diag_cause_range> ranges;
  for (const Site &s : sites) {
    auto r = ksyms.range_of(s.sym);
    if (!r) continue;
    diag_cause_range c{};
    c.start = r->first;
    c.end = r->second;
    c.cause = s.cause;
    ranges.push_back(c);
  }
  std::stable_sort(ranges.begin(), ranges.end(), [](const diag_cause_range &a,
                                                    const diag_cause_range &b) {
    return a.start < b.start;
  });
  // aliases of one function: keep the first
  ranges.erase(std::unique(ranges.begin(), ranges.end(),
                           [](const diag_cause_range &a, const diag_cause_range &b) {
                             return a.start == b.start;
                           }),
               ranges.end());
  if (ranges.size() > DIAG_BPF_MAX_CAUSE_RANGES) ranges.resize(DIAG_BPF_MAX_CAUSE_RANGES);
  return ranges;
}

namespace {

constexpr const char *kBpffs = "/sys/fs/bpf";
constexpr long kBpffsMagic = 0xcafe4a11;  // BPF_FS_MAGIC

// bpffs at /sys/fs/bpf, mounted when it is not (systemd mounts it; a
// container or a minimal init may not).
void ensure_bpffs() {
  if (is_bpffs(kBpffs)) return;
  if (::mount("bpf", kBpffs, "bpf", 0, "mode=0700") != 0)
    throw EnvironmentError(std::string("cannot mount the BPF filesystem on ") + kBpffs + ": " +
                           std::strerror(errno) + " (mount -t bpf bpf " + kBpffs + ")");
}

}  // namespace

bool is_bpffs(const char *path) {
  struct statfs st{};
  return ::statfs(path, &st) == 0 && static_cast<long>(st.f_type) == kBpffsMagic;
}

PinLock::PinLock() {
  ensure_bpffs();
  if (::mkdir(kPinRoot, 0700) != 0 && errno != EEXIST)
    throw EnvironmentError(std::string("cannot create ") + kPinRoot + ": " +
                           std::strerror(errno));
  fd_ = ::open(kPinRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
    int err = errno;
    if (fd_ >= 0) ::close(fd_);
    throw EnvironmentError(std::string("cannot lock ") + kPinRoot + ": " + std::strerror(err));
  }
}

PinLock::~PinLock() { ::close(fd_); }

void remove_pins(const std::string &dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  const std::string dying = dir + "-dying";
  fs::remove_all(dying, ec);
  const std::string &gone = ::rename(dir.c_str(), dying.c_str()) == 0 ? dying : dir;
  fs::remove_all(gone, ec);
  if (ec)
    throw KernelError(ec.value(), "cannot remove the pins in " + gone + ": " + ec.message() +
                                      " (the programs stay attached until they are removed)");
}

void drop_programs(const std::string &dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("link_", 0) != 0 && name.rfind("prog_", 0) != 0) continue;
    if (::unlink(entry.path().c_str()) != 0 && errno != ENOENT)
      throw KernelError(errno, "cannot remove " + entry.path().string() + ": " +
                                   std::strerror(errno));
  }
  // a tracepoint calls its programs under rcu_read_lock() (with
  // preemption off, or on PREEMPT_RT migration off): one grace period
  // after the caller's state change ends every call that saw the old state
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

uint32_t possible_cpus() {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) throw KernelError(n ? -n : EINVAL, "cannot tell the number of possible CPUs");
  return static_cast<uint32_t>(n);
}

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

PinnedMapping::PinnedMapping(const std::string &dir, const char *name, size_t bytes, int prot,
                             const char *what) {
  const std::string path = dir + "/" + name;
  Fd fd(bpf_obj_get(path.c_str()));
  if (fd.get() < 0)
    throw KernelError(errno, std::string("the pinned ") + path + " cannot be opened: " +
                                 std::strerror(errno) + " (reset " + what + ")");
  map(fd.get(), bytes, prot, what);
}

PinnedMapping::PinnedMapping(int map_fd, size_t bytes, int prot, const char *what) {
  map(map_fd, bytes, prot, what);
}

void PinnedMapping::map(int fd, size_t bytes, int prot, const char *what) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_ = (bytes + page - 1) / page * page;
  addr_ = ::mmap(nullptr, size_, prot, MAP_SHARED, fd, 0);
  if (addr_ == MAP_FAILED)
    throw KernelError(errno, std::string("cannot map ") + what + ": " + std::strerror(errno));
}

PinnedMapping::~PinnedMapping() { ::munmap(addr_, size_); }

void run_task_iterator(const std::string &dir, const char *prog, const char *what) {
  const std::string path = dir + "/link_" + prog;
  Fd link(bpf_obj_get(path.c_str()));
  int err = errno;
  if (link.get() < 0)
    throw KernelError(err, "the pinned iterator " + path + " cannot be opened: " +
                               std::strerror(err));
  Fd iter(bpf_iter_create(link.get()));
  err = errno;
  if (iter.get() < 0) throw KernelError(err, std::string(what) + " failed: " + std::strerror(err));
  char buf[256];
  ssize_t n;
  while ((n = ::read(iter.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
  }
  err = errno;
  if (n < 0) throw KernelError(err, std::string(what) + " failed: " + std::strerror(err));
}

void count_unseen_moves(const std::string &dir, const char *prog) {
  try {
    run_task_iterator(dir, prog, "counting the moves no program saw");
  } catch (const KernelError &e) {
    std::fprintf(stderr,
                 "diagnose-tools: warning: %s; '# lost' may miss moves the kernel made without "
                 "calling the programs\n",
                 e.what());
  }
}

void expect_every_move(const std::string &dir, const char *prog) {
  run_task_iterator(dir, prog, "listing the tasks whose moves are checked");
}

void size_move_table(bpf_map *expected) {
  // one entry per task, and room for as many again to come and go
  uint64_t tasks = 0;
  if (FILE *f = std::fopen("/proc/loadavg", "re")) {
    double l1, l5, l15;
    unsigned running = 0, total = 0;
    if (std::fscanf(f, "%lf %lf %lf %u/%u", &l1, &l5, &l15, &running, &total) == 5) tasks = total;
    std::fclose(f);
  }
  const uint64_t want = std::clamp<uint64_t>(2 * tasks + 4096, 16384, 262144);
  int err = bpf_map__set_max_entries(expected, static_cast<uint32_t>(want));
  if (err) load_failed("sizing the table of expected moves", err);
}

bool has_program_pins(const std::string &dir) {
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("link_", 0) == 0 || name.rfind("prog_", 0) == 0) return true;
  }
  return false;
}

uint64_t recursion_misses(const std::string &dir) {
  namespace fs = std::filesystem;
  uint64_t sum = 0;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    if (ec) break;
    const std::string name = entry.path().filename().string();
    if (name.rfind("link_", 0) != 0) continue;
    int link = bpf_obj_get(entry.path().c_str());
    if (link < 0) continue;
    bpf_link_info li{};
    uint32_t len = sizeof(li);
    int prog = bpf_obj_get_info_by_fd(link, &li, &len) == 0 ? bpf_prog_get_fd_by_id(li.prog_id) : -1;
    ::close(link);
    if (prog < 0) continue;
    bpf_prog_info pi{};
    len = sizeof(pi);
    if (bpf_obj_get_info_by_fd(prog, &pi, &len) == 0) sum += pi.recursion_misses;
    ::close(prog);
  }
  return sum;
}

void install_libbpf_log() { libbpf_set_print(capture_libbpf); }

void require_bpf_backend() {
  std::string why = BpfBackend::unavailable_reason();
  if (!why.empty()) throw EnvironmentError(why);
  install_libbpf_log();
}

void validate_bpf_settings(const BpfFunction &fn, diag_common_settings &c, uint32_t nr_cpus) {
  auto refuse = [](const std::string &why) { throw KernelError(EINVAL, why); };
  if (!c.buf_kib) c.buf_kib = default_buf_kib(nr_cpus);
  if (c.tgid < 0 || c.pid < 0) refuse("tgid and pid must not be negative");
  if (!std::memchr(c.comm, '\0', DIAG_COMM_LEN))
    refuse("comm is longer than " + std::to_string(DIAG_COMM_LEN - 1) + " characters");
  if (c.buf_kib > DIAG_BUF_KIB_MAX)
    refuse("buffer of " + std::to_string(c.buf_kib) + " KiB per CPU is over the limit of " +
           std::to_string(DIAG_BUF_KIB_MAX) + " KiB");
  if (static_cast<uint64_t>(c.buf_kib) * 1024 < 2ull * fn.max_record)
    refuse("buffer of " + std::to_string(c.buf_kib) + " KiB per CPU is too small: " + fn.name +
           " records take up to " + std::to_string(fn.max_record) + " bytes");
  if (c.verbose > DIAG_VERBOSE_MAX)
    refuse("verbose " + std::to_string(c.verbose) + " is over the limit of " +
           std::to_string(DIAG_VERBOSE_MAX));
  if (c.reserved) refuse("reserved settings field is not zero");
  // the module's memory budget: an eighth of RAM for all buffers
  const uint64_t bytes = ring_bytes(c.buf_kib, nr_cpus), limit = ram_bytes() / 8;
  if (bytes > kMaxRingBytes)
    throw KernelError(E2BIG, "a BPF ring of " + std::to_string(bytes >> 20) +
                                 " MiB (buf-kib times " + std::to_string(nr_cpus) +
                                 " CPUs) is over the 2048 MiB a BPF ring buffer can hold");
  if (limit && bytes > limit)
    throw KernelError(ENOMEM, "the buffer of " + std::to_string(bytes >> 10) +
                                  " KiB is over the memory limit of " +
                                  std::to_string(limit >> 20) + " MiB (an eighth of RAM)");
}

}  // namespace diag
