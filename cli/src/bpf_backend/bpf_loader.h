// SPDX-License-Identifier: GPL-2.0-or-later
// What every function's loader on the BPF backend shares: libbpf's
// messages turned into one-line errors, loading, attaching and pinning a
// skeleton, the task filter and the record ring's size.
#pragma once

#include <linux/types.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bpf/diag_bpf_abi.h"
#include "uapi/diagnose.h"

namespace diag {

// Throws EnvironmentError saying why when this machine cannot run the
// BPF backend; else routes libbpf's messages to the one-line errors.
void require_bpf_backend();

// Forgets libbpf's earlier messages: a failure after this names its own.
void reset_libbpf_log();

// Throws KernelError for a libbpf failure `err` of `what`, with the
// verifier's last words or libbpf's last line.
[[noreturn]] void load_failed(const char *what, int err);

// RAM the kernel manages, bytes (0 if unknown).
uint64_t ram_bytes();

// One ring for all CPUs (BPF ring buffers are shared): the module's per-CPU
// size times the CPUs, rounded up to a power of two as the map requires.
uint64_t ring_bytes(uint32_t buf_kib, uint32_t nr_cpus);

// The filter every program reads from its read-only data.
template <class Rodata>
void set_filter(Rodata *ro, const diag_common_settings &c) {
  ro->filter_tgid = c.tgid;
  ro->filter_pid = c.pid;
  std::memcpy(const_cast<char *>(ro->filter_comm), c.comm, DIAG_COMM_LEN);
  ro->filter_has_comm = c.comm[0] != '\0';
}

// Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted (libbpf
// reads a "tracepoint/" program's event id there).
void ensure_tracefs();

// Loads and attaches what `skel` holds (its programs set to load).
void load_attach(bpf_object_skeleton *skel);

// Pins the links and maps of a loaded and attached `skel` in `dir`, the
// settings in the `settings` map; a program set not to auto-attach is
// pinned itself, as prog_NAME (one the CLI runs with BPF_PROG_TEST_RUN).
void pin(bpf_object_skeleton *skel, bpf_map *settings_map, const void *settings,
         uint32_t settings_size, const std::string &dir);

// The deciding functions of DIAG_MIGRATE_CAUSE_SITES in this kernel,
// sorted by start, aliases dropped, at most DIAG_BPF_MAX_CAUSE_RANGES,
// from /proc/kallsyms; throws EnvironmentError when it shows no addresses.
std::vector<diag_cause_range> resolve_cause_ranges();

// Stores them in the ".data.causes" section of a skeleton whose program
// includes bpf/migrate_cause.bpf.h (skel->data_causes).
template <class DataCauses>
void set_cause_ranges(DataCauses *d) {
  std::vector<diag_cause_range> ranges = resolve_cause_ranges();
  std::copy(ranges.begin(), ranges.end(), d->cause_ranges);
  d->nr_cause_ranges = static_cast<uint32_t>(ranges.size());
}

// Where activations are pinned: kPinRoot/<function>/.
inline constexpr const char *kPinRoot = "/sys/fs/bpf/diagnose";

// Whether `path` is on a bpffs.
bool is_bpffs(const char *path);

// Every verb of every BPF function holds this lock (an flock on kPinRoot,
// mounting bpffs and creating kPinRoot first when needed): a ring has one
// consumer at a time, and an activation is pinned whole or not at all.
// Throws EnvironmentError.
class PinLock {
 public:
  PinLock();
  ~PinLock();
  PinLock(const PinLock &) = delete;
  PinLock &operator=(const PinLock &) = delete;

 private:
  int fd_ = -1;
};

// Removes a pin directory.  It is renamed out of the way first, so that
// from then on the function is inactive whatever happens to the rest.
// Throws KernelError when something stays.
void remove_pins(const std::string &dir);

// Runs the task iterator pinned as `dir`/link_`prog` once, to its end (its
// text output, if any, is dropped).  Throws KernelError saying `what`
// failed.  (It sees the tasks of the caller's pid namespace, and not all
// of them where the kernel hides some: on the build machine, pid 1 and its
// threads.)
void run_task_iterator(const std::string &dir, const char *prog, const char *what);

// Every task's moves expected from now on by the programs whose links are
// pinned in `dir` (move_gap.bpf.h), through their task iterator `prog`.
// Throws KernelError.
void expect_every_move(const std::string &dir, const char *prog);

// The moves the kernel made without calling the programs whose links are
// pinned in `dir`, and that nothing has counted yet, counted lost now
// (move_gap.bpf.h) by the task iterator `prog`.  A failure leaves the data
// readable: one warning line on stderr says that '# lost' may be short.
void count_unseen_moves(const std::string &dir, const char *prog);

// Sizes move_gap.bpf.h's table `expected` (before load) for the tasks
// alive now, and as many again.
void size_move_table(bpf_map *expected);

// Whether `dir` holds program pins (link_*, prog_*): programs attached.
bool has_program_pins(const std::string &dir);

// The calls of the programs whose links are pinned in `dir` (link_*) that
// the kernel skipped because the program was already running on that CPU
// (bpf_prog_info's recursion_misses), summed.
uint64_t recursion_misses(const std::string &dir);

// The calls the kernel skipped: `kept` (what a stop saved of the programs'
// recursion_misses before it dropped them), or the attached programs' own
// count where that is more.  Reported apart from lost events: a skipped
// call is a move (which the move_gap check counts lost once the task
// moves again or exits), or an exit or exec (not a move).
inline uint64_t skipped_calls(const std::string &dir, uint64_t kept) {
  return std::max(kept, recursion_misses(dir));
}

// Unlinks the program pins in `dir` (link_*, prog_*), then waits one RCU
// grace period (membarrier's global command; where the kernel refuses it,
// nohz_full, 100 ms of sleep instead).  The caller has already set the
// state word its programs check to a stopped state: the wait ends every
// call that saw the old one, since the kernel runs tracepoint programs
// under rcu_read_lock().  The detach itself completes later (bpffs drops
// a pin's link after a grace period, the link's release may go through a
// workqueue): for a moment bpftool can still list the programs, but they
// count or write nothing.  Throws KernelError when a pin stays.
void drop_programs(const std::string &dir);

// The possible CPUs (libbpf's count); throws KernelError.
uint32_t possible_cpus();

// clock_gettime(id) in nanoseconds.
uint64_t clock_ns(clockid_t id);
inline uint64_t mono_ns() { return clock_ns(CLOCK_MONOTONIC); }

// A shared mapping of a pinned mmapable array map: `dir`/`name`, `bytes`
// of it.  Throws KernelError naming `what` (and saying to reset).
class PinnedMapping {
 public:
  PinnedMapping(const std::string &dir, const char *name, size_t bytes, int prot,
                const char *what);
  // the same, of a map this process holds
  PinnedMapping(int map_fd, size_t bytes, int prot, const char *what);
  ~PinnedMapping();
  PinnedMapping(const PinnedMapping &) = delete;
  PinnedMapping &operator=(const PinnedMapping &) = delete;
  void *get() const { return addr_; }

 private:
  void map(int fd, size_t bytes, int prot, const char *what);
  void *addr_ = nullptr;
  size_t size_ = 0;
};

// The control word of a pinned function run from the command line (the
// migration trace and stat): a struct T whose first member is the __u64
// `state`, the one element of an mmapable array, mapped so that the CLI
// changes the state with the same atomics as the programs.
template <class T>
class MappedControl {
 public:
  MappedControl(const std::string &dir, const char *name, const char *what)
      : map_(dir, name, sizeof(T), PROT_READ | PROT_WRITE, what) {}
  MappedControl(int map_fd, const char *what)
      : map_(map_fd, sizeof(T), PROT_READ | PROT_WRITE, what) {}
  T *operator->() const { return static_cast<T *>(map_.get()); }
  uint64_t state() const { return __atomic_load_n(&(*this)->state, __ATOMIC_SEQ_CST); }
  bool cas_state(uint64_t from, uint64_t to) const {
    // the map's type: __u64 is unsigned long long, uint64_t unsigned long
    __u64 expected = from;
    return __atomic_compare_exchange_n(&(*this)->state, &expected, to, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
  }

 private:
  PinnedMapping map_;
};

// Text handed out in pieces as it is made: `out` goes to `sink` once it
// holds a MiB (or, with `last`, whatever it holds), then is emptied.
using TextSink = std::function<void(const char *, size_t)>;
inline void pass_on(std::string &out, const TextSink &sink, bool last = false) {
  if (out.size() >= (1u << 20) || (last && !out.empty())) {
    sink(out.data(), out.size());
    out.clear();
  }
}

// What a writer of pieces makes, whole.
inline std::string whole_text(void (*write)(const TextSink &)) {
  std::string text;
  write([&text](const char *p, size_t n) { text.append(p, n); });
  return text;
}

// A file descriptor closed with its owner (-1: none).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A skeleton owned by a unique_ptr: SkelPtr<migrate_image_bpf>.
template <class Skel>
struct SkelDeleter {
  void (*destroy)(Skel *);
  void operator()(Skel *s) const { destroy(s); }
};

}  // namespace diag
