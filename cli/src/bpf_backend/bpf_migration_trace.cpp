// SPDX-License-Identifier: GPL-2.0-or-later
// The migration trace on the BPF backend: bpf/migration_trace.bpf.c
// loaded, pinned and driven with the module's rules (module/
// migration_trace.c), and its maps printed as migration_trace/trace.
//
// The pins, in /sys/fs/bpf/diagnose/migration-trace/: the maps (mt_control,
// the state word, mmapped here so that the CLI changes it with the same
// atomics as the programs; mt_events, the slots; mt_cpus, the per-CPU
// counters), the links of the tracepoint programs, and the control program
// (prog_mt_control_op) that the CLI runs for the start, task_list and mark
// events, and the task iterator mt_tasks (move_gap.bpf.h).  Tracing stops
// when the state leaves "running" (stop, or a buffer filling); the next
// command that holds the lock then drops the programs (their links and the
// control program: they are freed) and keeps the maps, which `reset`
// removes.
#include "bpf_backend/bpf_migration_trace.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "bpf_backend/bpf_backend.h"
#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "bpf/migration_trace_abi.h"
#include "errors.h"
#include "migration_trace.h"
#include "migration_trace.skel.h"

namespace diag::mtbpf {

namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(kPinRoot) + "/migration-trace";

static_assert(sizeof(diag_mt_event) == 32, "32-byte slots, as the module's records");

// What the settings map keeps for this trace (pin() stores it).
struct Settings {
  uint32_t buffer_kib;
  uint32_t reserved;
};


int open_pin(const std::string &name) {
  const std::string path = kDir + "/" + name;
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0)
    throw KernelError(errno, "the pinned " + path + " cannot be opened: " + std::strerror(errno) +
                                 " (reset the trace)");
  return fd;
}

class Control : public MappedControl<diag_mt_control> {
 public:
  Control() : MappedControl(kDir, "mt_control", "the trace") {}
  explicit Control(int fd) : MappedControl(fd, "the trace") {}
};

const char *state_name(uint64_t state) {
  switch (state) {
    case DIAG_MTB_RUNNING:
      return "running";
    case DIAG_MTB_FULL:
      return "full";
    default:
      // a start that died half-way (loaded, starting) is a stopped trace
      return "stopped";
  }
}

std::vector<diag_mt_cpu> read_cpus(uint32_t nr_cpus) {
  Fd fd(open_pin("mt_cpus"));
  std::vector<diag_mt_cpu> v(nr_cpus);
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, v.data()) != 0)
    throw KernelError(errno, std::string("reading the per-CPU counters failed: ") +
                                 std::strerror(errno));
  return v;
}

bool has_programs() { return has_program_pins(kDir); }

// A trace that stopped (by a stop, or by itself when a buffer filled):
// its skipped calls are kept, its programs are dropped (the
// module drops its probes likewise), and no program is writing a slot any
// more when this returns.  Lock held.
void settle(const Control &c) {
  const uint64_t state = c.state();
  if (state == DIAG_MTB_RUNNING) return;
  if (state == DIAG_MTB_FULL && !c->stop_ts) c->stop_ts = c->full_ts;
  if (has_programs()) {
    // before the programs go, which keep the expected counts current
    // until then; and no more after it (an exit whose program outlives
    // the move program's link would count the moves made meanwhile)
    count_unseen_moves(kDir, "mt_tasks");
    __atomic_store_n(&c->count_gaps, 0, __ATOMIC_SEQ_CST);
    c->misses = std::max<uint64_t>(c->misses, recursion_misses(kDir));
    drop_programs(kDir);
  }
  // no program runs any more, and each one that claimed a slot has
  // counted it done (a grace period where drop_programs() could not wait
  // for one: then wait for the count, bounded)
  const uint32_t nr_cpus = static_cast<uint32_t>(c->nr_cpus);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    bool quiet = true;
    for (const diag_mt_cpu &m : read_cpus(nr_cpus))
      if (m.done < std::min<uint64_t>(m.next, c->slots_per_cpu)) quiet = false;
    if (quiet) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw KernelError(EBUSY, "a program is still writing the trace 2 s after it stopped");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Runs the control program; returns its DIAG_MTB_RET_*.  On `cpu` (< 0:
// this CPU, in this task); ENXIO for an offline CPU.
int run_control(int prog_fd, uint64_t op, uint64_t a, uint64_t b, int cpu, int *err,
                uint64_t c = 0) {
  uint64_t args[4] = {op, a, b, c};
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.ctx_in = args;
  opts.ctx_size_in = sizeof(args);
  if (cpu >= 0) {
    opts.flags = BPF_F_TEST_RUN_ON_CPU;
    opts.cpu = static_cast<uint32_t>(cpu);
  }
  *err = 0;
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    *err = errno;
    return -1;
  }
  return static_cast<int>(opts.retval);
}

using Skel = std::unique_ptr<migration_trace_bpf, SkelDeleter<migration_trace_bpf>>;

// The memory the buffers may take: the backend's budget (an eighth of
// RAM), and what one BPF array can hold.
void check_budget(uint32_t buffer_kib, uint32_t nr_cpus, uint64_t *entries) {
  if (buffer_kib < 1 || buffer_kib > kMaxBufferKib)
    throw KernelError(EINVAL, "--buffer-kib " + std::to_string(buffer_kib) +
                                  " is out of range 1.." + std::to_string(kMaxBufferKib));
  const uint64_t slots = static_cast<uint64_t>(buffer_kib) * 1024 / sizeof(diag_mt_event);
  *entries = slots * nr_cpus;
  const uint64_t bytes = *entries * sizeof(diag_mt_event), limit = ram_bytes() / 8;
  if (bytes >= (1ull << 32) - (1ull << 16))
    throw KernelError(ENOMEM, "a trace of " + std::to_string(buffer_kib) + " KiB x " +
                                  std::to_string(nr_cpus) +
                                  " CPUs is over the 4 GiB one BPF array can hold");
  if (limit && bytes > limit)
    throw KernelError(ENOMEM, "a trace of " + std::to_string(buffer_kib) + " KiB x " +
                                  std::to_string(nr_cpus) + " CPUs is over the memory limit of " +
                                  std::to_string(limit >> 20) + " MiB (an eighth of RAM)");
}

// The names of every thread alive, from /proc (as the module's
// for_each_process_thread(); a task iterator would miss the tasks a
// kernel hides from it: on the build machine, pid 1 and its threads).  A
// thread that goes meanwhile is simply absent; one that comes meanwhile
// has its copy_process event.  Stops when the trace does (a buffer
// filled).
void record_tasks(int prog) {
  std::error_code ec;
  for (const auto &proc : fs::directory_iterator("/proc", ec)) {
    const std::string p = proc.path().filename().string();
    if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    for (const auto &task : fs::directory_iterator(proc.path() / "task", ec2)) {
      const std::string t = task.path().filename().string();
      if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) continue;
      char name[16] = {};
      Fd fd(::open((task.path() / "comm").c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) continue;  // gone
      ssize_t n = ::read(fd.get(), name, sizeof(name) - 1);
      if (n <= 0) continue;
      if (name[n - 1] == '\n') name[n - 1] = '\0';
      uint64_t words[2];
      std::memcpy(words, name, sizeof(words));
      int err, ret = run_control(prog, DIAG_MTB_OP_TASK, std::stoull(t), words[0], -1, &err,
                                 words[1]);
      if (ret < 0)
        throw KernelError(err, std::string("recording the task list failed: ") +
                                   std::strerror(err));
      if (ret != DIAG_MTB_RET_OK) return;  // the trace stopped
    }
  }
}

void start(uint32_t buffer_kib, uint32_t nr_cpus, uint64_t entries) {
  reset_libbpf_log();
  Skel skel(migration_trace_bpf__open(), {migration_trace_bpf__destroy});
  if (!skel) load_failed("opening the migration-trace BPF object", errno);
  skel->rodata->slots_per_cpu = entries / nr_cpus;
  skel->rodata->nr_cpus = nr_cpus;
  set_cause_ranges(skel->data_causes);
  bpf_map__set_max_entries(skel->maps.mt_events, static_cast<uint32_t>(entries));
  // the shared ring of diag.bpf.h: unused here, as small as it can be
  bpf_map__set_max_entries(skel->maps.records, static_cast<uint32_t>(::sysconf(_SC_PAGESIZE)));
  bpf_program__set_autoattach(skel->progs.mt_control_op, false);
  size_move_table(skel->maps.expected);
  load_attach(skel->skeleton);

  // the trace's shape before it is pinned: a command that dies after the
  // rename leaves a trace that reads (empty) and resets
  Control c(bpf_map__fd(skel->maps.mt_control));
  c->full_cpu = -1;
  c->buffer_kib = buffer_kib;
  c->nr_cpus = nr_cpus;
  c->slots_per_cpu = entries / nr_cpus;

  const std::string staging = kDir + "-staging";
  remove_pins(staging);
  Settings settings{buffer_kib, 0};
  try {
    pin(skel->skeleton, skel->maps.settings, &settings, sizeof(settings), staging);
    if (::rename(staging.c_str(), kDir.c_str()) != 0)
      throw KernelError(errno, "cannot rename " + staging + ": " + std::strerror(errno));
  } catch (...) {
    remove_pins(staging);
    throw;
  }
  // from here on the trace is pinned: a failure takes it away whole
  try {
    c.cas_state(DIAG_MTB_LOADED, DIAG_MTB_STARTING);
    // as the module's on_each_cpu(): each online CPU's clock against the
    // wall clock, before anything else is recorded
    const int prog = bpf_program__fd(skel->progs.mt_control_op);
    uint32_t online = 0;
    for (uint32_t cpu = 0; cpu < nr_cpus; ++cpu) {
      timeval tv{};
      ::gettimeofday(&tv, nullptr);
      int err, ret = run_control(prog, DIAG_MTB_OP_START, static_cast<uint64_t>(tv.tv_sec),
                                 static_cast<uint64_t>(tv.tv_usec), static_cast<int>(cpu), &err);
      if (ret < 0 && err == ENXIO) continue;  // offline
      if (ret < 0)
        throw KernelError(err, "running the start event on CPU " + std::to_string(cpu) +
                                   " failed: " + std::strerror(err));
      online++;
    }
    if (!online) throw KernelError(ENXIO, "no CPU ran the start event");
    // start_ts is when moves begin to be recorded; then every task's
    // moves are expected (move_gap.bpf.h), so that even a task's first
    // move is counted lost when no program sees it, and a move skipped
    // before is not: the moves the programs are not called for count once
    // the iterator is through (a buffer that filled with the start events
    // has stopped the trace)
    c->start_ts = mono_ns();
    if (c.cas_state(DIAG_MTB_STARTING, DIAG_MTB_RUNNING)) {
      expect_every_move(kDir, "mt_tasks");
      __atomic_store_n(&c->count_gaps, 1, __ATOMIC_SEQ_CST);
      record_tasks(prog);
    }
    settle(c);  // only if it stopped itself already
  } catch (...) {
    remove_pins(kDir);
    throw;
  }
}

// Appends the module's line for event `e` recorded on `cpu`.
void put_event(std::string &out, const diag_mt_event &e, uint32_t cpu) {
  char line[128];
  int n = std::snprintf(line, sizeof(line), "0x%016llx %u ",
                        static_cast<unsigned long long>(e.ts_ns), cpu);
  if (e.kind == DIAG_MTB_KIND_START) {
    n += std::snprintf(line + n, sizeof(line) - n, ". . . %s %lld %u", DIAG_MT_START_EVENT,
                       static_cast<long long>(e.start.sec), e.start.usec);
  } else if (e.kind == DIAG_MT_MARK) {
    n += std::snprintf(line + n, sizeof(line) - n, ". . %d %u 0x%08llx", e.pid, e.kind,
                       static_cast<unsigned long long>(e.mark));
  } else if (e.kind == DIAG_MT_COPY_PROCESS || e.kind == DIAG_MT_SET_TASK_COMM ||
             e.kind == DIAG_MT_TASK_LIST) {
    n += std::snprintf(line + n, sizeof(line) - n, ". . %d %u : ", e.pid, e.kind);
    // a name is the rest of its line: nothing may end or split the line
    for (size_t i = 0; i < sizeof(e.comm) && e.comm[i]; ++i) {
      const char ch = e.comm[i];
      line[n++] = (static_cast<unsigned char>(ch) < ' ' || ch == 0x7f) ? '?' : ch;
    }
  } else {
    // a migration (a cause) or a fork placement
    n += std::snprintf(line + n, sizeof(line) - n, "%u %u %d %u", e.move.orig_cpu,
                       e.move.dest_cpu, e.pid, e.kind);
  }
  line[n++] = '\n';
  out.append(line, static_cast<size_t>(n));
}

void put_header_start(std::string &out, uint32_t nr_cpus, const char *state) {
  out += "# version " DIAG_MT_FORMAT_VERSION "\n";
  out += "# nr_cpus " + std::to_string(nr_cpus) + "\n";
  out += "# ts_field 1\n";
  out += "# ts_clock CLOCK_MONOTONIC ns, hexadecimal\n";
#define MT_CAUSE_LINE(e, n, name, desc) out += "# cause " #n " " name "\n";
  DIAG_MIGRATE_CAUSES(MT_CAUSE_LINE)
#undef MT_CAUSE_LINE
#define MT_KIND_LINE(e, n, name, desc) out += "# loc " #n " " name "\n";
  DIAG_MT_EVENT_KINDS(MT_KIND_LINE)
#undef MT_KIND_LINE
  out += std::string("# state ") + state + "\n";
}

bool pinned() { return ::access((kDir + "/mt_control").c_str(), F_OK) == 0; }

}  // namespace

bool present() { return is_bpffs("/sys/fs/bpf") && pinned(); }

void enable(uint32_t buffer_kib) {
  require_bpf_backend();
  // a bad value is refused first, whatever the state
  if (buffer_kib < 1 || buffer_kib > kMaxBufferKib)
    throw KernelError(EINVAL, "--buffer-kib " + std::to_string(buffer_kib) +
                                  " is out of range 1.." + std::to_string(kMaxBufferKib));
  PinLock lock;
  if (pinned()) {
    Control c;
    if (c.state() == DIAG_MTB_RUNNING)
      throw KernelError(EALREADY, "already tracing");
    settle(c);
    throw KernelError(EEXIST, "a trace is held: reset it first");
  }
  // a half-made trace of a command that died is no trace
  remove_pins(kDir);
  const uint32_t nr_cpus = possible_cpus();
  uint64_t entries = 0;
  check_budget(buffer_kib, nr_cpus, &entries);
  start(buffer_kib, nr_cpus, entries);
}

void stop() {
  require_bpf_backend();
  PinLock lock;
  if (!pinned()) return;
  Control c;
  if (c.cas_state(DIAG_MTB_RUNNING, DIAG_MTB_STOPPED)) {
    c->stop_ts = mono_ns();
  } else {
    // a start that died half-way
    c.cas_state(DIAG_MTB_LOADED, DIAG_MTB_STOPPED);
    c.cas_state(DIAG_MTB_STARTING, DIAG_MTB_STOPPED);
  }
  settle(c);
}

void mark(uint64_t value) {
  require_bpf_backend();
  PinLock lock;
  if (!pinned()) throw KernelError(EPIPE, "not tracing: the mark would be lost");
  Control c;
  if (c.state() != DIAG_MTB_RUNNING) {
    settle(c);
    throw KernelError(EPIPE, "not tracing: the mark would be lost");
  }
  Fd prog(open_pin("prog_mt_control_op"));
  int err, ret = run_control(prog.get(), DIAG_MTB_OP_MARK, value, 0, -1, &err);
  if (ret < 0)
    throw KernelError(err, std::string("running the mark failed: ") + std::strerror(err));
  if (ret == DIAG_MTB_RET_OK) return;
  settle(c);
  if (ret == DIAG_MTB_RET_FULL)
    throw KernelError(EPIPE, "the buffer filled: tracing stopped and the mark is counted lost");
  throw KernelError(EPIPE, "not tracing: the mark would be lost");
}

void reset() {
  require_bpf_backend();
  PinLock lock;
  if (!pinned()) {
    remove_pins(kDir);  // what a command that died left
    return;
  }
  {
    Control c;
    c.cas_state(DIAG_MTB_RUNNING, DIAG_MTB_STOPPED);
  }
  remove_pins(kDir);
}

void write_trace(const std::function<void(const char *, size_t)> &sink) {
  require_bpf_backend();
  // held while the trace is settled and mapped, not while it goes out
  // (to a pipe whose reader may itself wait for the lock): the mapping
  // keeps the maps, so a reset meanwhile takes nothing from under us
  std::optional<PinLock> lock;
  lock.emplace();
  std::string out;
  const uint32_t possible = possible_cpus();
  if (!pinned()) {
    put_header_start(out, possible, "empty");
    sink(out.data(), out.size());
    return;
  }
  Control c;
  if (c.state() == DIAG_MTB_RUNNING)
    throw KernelError(EBUSY, "tracing: stop it first (migration-trace stop)");
  settle(c);
  const uint32_t nr_cpus = static_cast<uint32_t>(c->nr_cpus);
  const uint64_t slots = c->slots_per_cpu;
  std::vector<diag_mt_cpu> cpus = read_cpus(nr_cpus);
  PinnedMapping events(kDir, "mt_events", slots * nr_cpus * sizeof(diag_mt_event), PROT_READ,
                       "the trace");
  const auto *slot = static_cast<const diag_mt_event *>(events.get());

  // every event, merged across CPUs in timestamp order (ties: CPU, then
  // the order of the CPU's buffer)
  struct Ref {
    uint64_t ts;
    uint32_t cpu;
    uint64_t index;
  };
  std::vector<Ref> refs;
  uint64_t lost = 0;
  for (uint32_t cpu = 0; cpu < nr_cpus; ++cpu) {
    lost += cpus[cpu].lost;
    const uint64_t n = std::min<uint64_t>(cpus[cpu].next, slots);
    for (uint64_t i = 0; i < n; ++i) {
      const diag_mt_event &e = slot[cpu * slots + i];
      if (e.ts_ns) refs.push_back({e.ts_ns, cpu, cpu * slots + i});
    }
  }
  std::sort(refs.begin(), refs.end(), [](const Ref &a, const Ref &b) {
    return a.ts != b.ts ? a.ts < b.ts : a.index < b.index;
  });

  const uint64_t state = c.state();
  put_header_start(out, nr_cpus, state_name(state));
  out += "# buffer_kib " + std::to_string(c->buffer_kib) + "\n";
  out += "# starts 1\n";
  out += "# start_ts " + mtrace::hex_ts(c->start_ts) + "\n";
  if (c->stop_ts) out += "# stop_ts " + mtrace::hex_ts(c->stop_ts) + "\n";
  if (c->full_cpu >= 0) {
    out += "# full_cpu " + std::to_string(c->full_cpu) + "\n";
    out += "# full_ts " + mtrace::hex_ts(c->full_ts) + "\n";
    out += "# tracing stopped itself: the buffer of CPU " + std::to_string(c->full_cpu) +
           " filled (" + std::to_string(c->buffer_kib) +
           " KiB per CPU); events after full_ts are incomplete\n";
  }
  out += "# lost " + std::to_string(lost) + "\n";
  out += "# skipped_calls " + std::to_string(skipped_calls(kDir, c->misses)) + "\n";
  lock.reset();
  for (const Ref &r : refs) {
    put_event(out, slot[r.index], r.cpu);
    pass_on(out, sink);
  }
  pass_on(out, sink, true);
}

std::string trace_text() { return whole_text(write_trace); }

Status status() {
  require_bpf_backend();
  PinLock lock;
  Status s;
  if (!pinned()) {
    s.state = "empty";
    return s;
  }
  Control c;
  settle(c);
  s.state = state_name(c.state());
  s.buffer_kib = c->buffer_kib;
  s.nr_cpus = static_cast<uint32_t>(c->nr_cpus);
  s.capacity = c->slots_per_cpu * s.nr_cpus;
  s.start_ts = c->start_ts;
  s.stop_ts = c->stop_ts;
  s.full_cpu = c->full_cpu;
  s.skipped_calls = skipped_calls(kDir, c->misses);
  for (const diag_mt_cpu &m : read_cpus(s.nr_cpus)) {
    s.events += std::min<uint64_t>(m.next, c->slots_per_cpu);
    s.lost += m.lost;
  }
  s.programs = has_programs();
  return s;
}

}  // namespace diag::mtbpf
