// SPDX-License-Identifier: GPL-2.0-or-later
// The migration stat on the BPF backend: bpf/migration_stat.bpf.c loaded,
// pinned and driven with the module's rules (module/migration_stat.c),
// and its counts printed as migration_stat/stat.
//
// The pins, in /sys/fs/bpf/diagnose/migration-stat/: the maps (ms_control,
// the state word, mmapped here so that the CLI changes it with the same
// atomics as the programs; ms_counts, every CPU's counters) and the links
// of the programs.  Counting stops when the state leaves "running" (stop,
// or the time running past the last period); the next command that holds
// the lock then drops the programs and keeps the counts, which `reset`
// removes.
#include "bpf_backend/bpf_migration_stat.h"

#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "bpf_backend/bpf_loader.h"
#include "bpf/migration_stat_abi.h"
#include "errors.h"
#include "migration_stat.skel.h"
#include "migration_trace.h"

namespace diag::msbpf {

namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(kPinRoot) + "/migration-stat";
constexpr const char *kWhat = "the stat";
constexpr uint64_t kNsPerMs = 1000000;

// What the settings map keeps for this stat (pin() stores it).
struct Settings {
  uint32_t period_msec;
  uint32_t hours;
};

class Control : public MappedControl<diag_ms_control> {
 public:
  Control() : MappedControl(kDir, "ms_control", kWhat) {}
  explicit Control(int fd) : MappedControl(fd, kWhat) {}
  uint64_t period_ns() const { return (*this)->period_msec * kNsPerMs; }
  // where the last period ends: counting cannot go on past it.  Saturated
  // (hours x period can reach past 2^64 ns): such a stat never fills.
  uint64_t capacity_end() const {
    uint64_t span, end;
    if (__builtin_mul_overflow((*this)->periods, period_ns(), &span) ||
        __builtin_add_overflow((*this)->start_ts, span, &end))
      return UINT64_MAX;
    return end;
  }
};

bool pinned() { return ::access((kDir + "/ms_control").c_str(), F_OK) == 0; }

bool has_programs() { return has_program_pins(kDir); }

const char *state_name(uint64_t state) {
  switch (state) {
    case DIAG_MSB_RUNNING:
      return "running";
    case DIAG_MSB_FULL:
      return "full";
    default:
      return "stopped";
  }
}

// Counting also ends when the time passes the last period with no
// migration to notice it: checked whenever someone looks (the module
// does the same).  Lock held.
void check_full(const Control &c) {
  if (c.state() == DIAG_MSB_RUNNING && mono_ns() >= c.capacity_end() &&
      c.cas_state(DIAG_MSB_RUNNING, DIAG_MSB_FULL))
    c->stop_ts = c.capacity_end();
}

// A stat that stopped (by a stop, or by itself at its last period): its
// skipped calls are kept, its programs are dropped, and no
// program is counting any more when this returns.  Lock held.
void settle(const Control &c) {
  const uint64_t state = c.state();
  if (state == DIAG_MSB_RUNNING) return;
  if (state == DIAG_MSB_FULL) c->stop_ts = c.capacity_end();
  if (has_programs()) {
    // before the programs go, which keep the expected counts current
    // until then
    count_unseen_moves(kDir, "ms_tasks");
    c->misses = skipped_calls(kDir, c->misses);
    drop_programs(kDir);
  }
}

void check_values(uint32_t period_msec, uint32_t hours) {
  if (period_msec < 1 || period_msec > kMaxPeriodMsec)
    throw KernelError(EINVAL, "--period-msec " + std::to_string(period_msec) +
                                  " is out of range 1.." + std::to_string(kMaxPeriodMsec));
  if (hours < 1 || hours > kMaxHours)
    throw KernelError(EINVAL, "--hours " + std::to_string(hours) + " is out of range 1.." +
                                  std::to_string(kMaxHours));
}

// The counters' memory: the backend's budget (an eighth of RAM), and what
// one BPF array can hold.  Returns the number of periods per CPU.
uint64_t check_budget(uint32_t hours, uint32_t nr_cpus) {
  const uint64_t periods = static_cast<uint64_t>(hours) * 3600;
  const uint64_t bytes = periods * nr_cpus * sizeof(diag_ms_period), limit = ram_bytes() / 8;
  const std::string what = "a stat of " + std::to_string(hours) + " h x " +
                           std::to_string(nr_cpus) + " CPUs (" + std::to_string(bytes >> 20) +
                           " MiB)";
  if (bytes >= (1ull << 32) - (1ull << 16))
    throw KernelError(ENOMEM, what + " is over the 4 GiB one BPF array can hold");
  if (limit && bytes > limit)
    throw KernelError(ENOMEM, what + " is over the memory limit of " +
                                  std::to_string(limit >> 20) + " MiB (an eighth of RAM)");
  return periods;
}

using Skel = std::unique_ptr<migration_stat_bpf, SkelDeleter<migration_stat_bpf>>;

void start(uint32_t period_msec, uint32_t hours, uint32_t nr_cpus, uint64_t periods) {
  reset_libbpf_log();
  Skel skel(migration_stat_bpf__open(), {migration_stat_bpf__destroy});
  if (!skel) load_failed("opening the migration-stat BPF object", errno);
  skel->rodata->period_ns = period_msec * kNsPerMs;
  skel->rodata->periods = periods;
  set_cause_ranges(skel->data_causes);
  bpf_map__set_max_entries(skel->maps.ms_counts, static_cast<uint32_t>(periods * nr_cpus));
  // the shared ring of diag.bpf.h: unused here, as small as it can be
  bpf_map__set_max_entries(skel->maps.records, static_cast<uint32_t>(::sysconf(_SC_PAGESIZE)));
  size_move_table(skel->maps.expected);
  load_attach(skel->skeleton);

  // the stat's shape before it is pinned: a command that dies after the
  // rename leaves a stat that reads (empty) and resets
  Control c(bpf_map__fd(skel->maps.ms_control));
  c->nr_cpus = nr_cpus;
  c->period_msec = period_msec;
  c->hours = hours;
  c->periods = periods;

  const std::string staging = kDir + "-staging";
  remove_pins(staging);
  Settings settings{period_msec, hours};
  try {
    pin(skel->skeleton, skel->maps.settings, &settings, sizeof(settings), staging);
    if (::rename(staging.c_str(), kDir.c_str()) != 0)
      throw KernelError(errno, "cannot rename " + staging + ": " + std::strerror(errno));
  } catch (...) {
    remove_pins(staging);
    throw;
  }
  try {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    c->start_sec = tv.tv_sec;
    c->start_usec = static_cast<uint32_t>(tv.tv_usec);
    c->start_ts = mono_ns();
    // every task's moves expected from here on (move_gap.bpf.h), so that
    // even a task's first move is counted lost when no program sees it
    expect_every_move(kDir, "ms_tasks");
    // a full barrier: the programs see the start before the state
    c.cas_state(DIAG_MSB_LOADED, DIAG_MSB_RUNNING);
  } catch (...) {
    remove_pins(kDir);
    throw;
  }
}

}  // namespace

bool present() { return is_bpffs("/sys/fs/bpf") && pinned(); }

void enable(uint32_t period_msec, uint32_t hours) {
  require_bpf_backend();
  check_values(period_msec, hours);  // a bad value first, whatever the state
  PinLock lock;
  if (pinned()) {
    Control c;
    check_full(c);
    if (c.state() == DIAG_MSB_RUNNING) throw KernelError(EALREADY, "already counting");
    settle(c);
    throw KernelError(EEXIST, "the stat holds data: reset it first");
  }
  remove_pins(kDir);  // a half-made stat of a command that died is no stat
  const uint32_t nr_cpus = possible_cpus();
  start(period_msec, hours, nr_cpus, check_budget(hours, nr_cpus));
}

void stop() {
  require_bpf_backend();
  PinLock lock;
  if (!pinned()) return;
  Control c;
  check_full(c);
  if (c.cas_state(DIAG_MSB_RUNNING, DIAG_MSB_STOPPED))
    c->stop_ts = mono_ns();
  else
    c.cas_state(DIAG_MSB_LOADED, DIAG_MSB_STOPPED);  // a start that died half-way
  settle(c);
}

void reset() {
  require_bpf_backend();
  PinLock lock;
  if (pinned()) {
    Control c;
    c.cas_state(DIAG_MSB_RUNNING, DIAG_MSB_STOPPED);
  }
  remove_pins(kDir);
}

void write_stat(const std::function<void(const char *, size_t)> &sink) {
  require_bpf_backend();
  // held while the stat is settled and mapped, not while it goes out: the
  // mappings keep the maps, so a reset meanwhile takes nothing from under us
  std::optional<PinLock> lock;
  lock.emplace();
  std::optional<Control> c;
  std::optional<PinnedMapping> counts;
  uint64_t periods = kDefaultHours * 3600ull, complete = 0, period_ns = kDefaultPeriodMsec * kNsPerMs;
  uint32_t nr_cpus = possible_cpus(), period_msec = kDefaultPeriodMsec;
  std::string state = "empty", out;
  if (pinned()) {
    c.emplace();
    check_full(*c);
    settle(*c);
    // the unseen moves of tasks that have not moved since, in this print
    if (c->state() == DIAG_MSB_RUNNING) count_unseen_moves(kDir, "ms_tasks");
    const uint64_t s = c->state();
    state = state_name(s);
    nr_cpus = (*c)->nr_cpus;
    periods = (*c)->periods;
    period_msec = (*c)->period_msec;
    period_ns = c->period_ns();
    const uint64_t start = (*c)->start_ts, end = s == DIAG_MSB_RUNNING ? mono_ns() : (*c)->stop_ts;
    complete = end > start ? std::min((end - start) / period_ns, periods) : 0;
    counts.emplace(kDir, "ms_counts", periods * nr_cpus * sizeof(diag_ms_period), PROT_READ, kWhat);
  }

  out += "# version " DIAG_MSTAT_FORMAT_VERSION "\n";
  out += "# period_msec " + std::to_string(period_msec) + "\n";
  out += "# gettimeofday " + std::to_string(c ? (*c)->start_sec : 0) + " " +
         std::to_string(c ? (*c)->start_usec : 0) + "\n";
  out += "# ts_field 1\n";
  uint32_t field = 2;
#define MS_CAUSE_FIELD(e, n, name, desc) out += "# field " + std::to_string(field++) + " " name "\n";
  DIAG_MIGRATE_CAUSES(MS_CAUSE_FIELD)
#undef MS_CAUSE_FIELD
  out += "# field " + std::to_string(field++) + " fork_placement\n";
  out += "# field " + std::to_string(field) + " migrate\n";
  out += "# nr_cpus " + std::to_string(nr_cpus) + "\n";
  out += "# capacity_periods " + std::to_string(periods) + "\n";
  out += "# start_ts " + mtrace::hex_ts(c ? (*c)->start_ts : 0) + "\n";
  out += "# state " + state + "\n";
  if (c) {
    out += "# lost " + std::to_string((*c)->lost) + "\n";
    out += "# skipped_calls " +
           std::to_string(skipped_calls(kDir, (*c)->misses)) + "\n";
    if (state == "full")
      out += "# counting stopped itself: its " + std::to_string(periods) +
             " periods are over (--hours)\n";
  }
  lock.reset();

  const auto *slot = counts ? static_cast<const diag_ms_period *>(counts->get()) : nullptr;
  char num[32];
  for (uint64_t p = 0; p < complete; ++p) {
    const uint64_t ms = p * period_ns / kNsPerMs;
    out.append(num, static_cast<size_t>(std::snprintf(
                        num, sizeof(num), "%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
                        static_cast<unsigned long long>(ms % 1000))));
    uint64_t migrate = 0;
    for (uint32_t f = 0; f < DIAG_MS_NR_FIELDS; ++f) {
      uint64_t sum = 0;
      for (uint32_t cpu = 0; cpu < nr_cpus; ++cpu)
        sum += __atomic_load_n(&slot[cpu * periods + p].count[f], __ATOMIC_RELAXED);
      if (f < DIAG_NR_CAUSES) migrate += sum;
      out.append(num, static_cast<size_t>(std::snprintf(num, sizeof(num), " %llu",
                                                        static_cast<unsigned long long>(sum))));
    }
    out.append(num, static_cast<size_t>(std::snprintf(num, sizeof(num), " %llu\n",
                                                      static_cast<unsigned long long>(migrate))));
    pass_on(out, sink);
  }
  pass_on(out, sink, true);
}

std::string stat_text() { return whole_text(write_stat); }

Status status() {
  require_bpf_backend();
  PinLock lock;
  Status s;
  if (!pinned()) {
    s.state = "empty";
    return s;
  }
  Control c;
  check_full(c);
  settle(c);
  const uint64_t state = c.state();
  s.state = state_name(state);
  s.period_msec = c->period_msec;
  s.hours = c->hours;
  s.nr_cpus = c->nr_cpus;
  s.capacity = c->periods;
  s.start_ts = c->start_ts;
  s.stop_ts = c->stop_ts;
  const uint64_t end = state == DIAG_MSB_RUNNING ? mono_ns() : c->stop_ts;
  s.complete = end > s.start_ts ? std::min((end - s.start_ts) / c.period_ns(), s.capacity) : 0;
  s.lost = c->lost;
  s.skipped_calls = skipped_calls(kDir, c->misses);
  s.programs = has_programs();
  return s;
}

}  // namespace diag::msbpf
