// SPDX-License-Identifier: GPL-2.0-or-later
#include "bpf_backend/bpf_backend.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"

namespace diag {

namespace {

namespace fs = std::filesystem;

constexpr const char *kBpffs = "/sys/fs/bpf";
constexpr const char *kKernelBtf = "/sys/kernel/btf/vmlinux";

std::string pin_dir(const BpfFunction &fn) { return std::string(kPinRoot) + "/" + fn.name; }

int open_pinned(const std::string &dir, const char *name) {
  const std::string path = dir + "/" + name;
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0)
    throw KernelError(errno, "the pinned map " + path + " cannot be opened: " +
                                 std::strerror(errno));
  return fd;
}


// The per-CPU values of a one-entry per-CPU array.
std::vector<uint64_t> read_percpu(int fd, uint32_t nr_cpus) {
  std::vector<uint64_t> v(nr_cpus);
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd, &zero, v.data()) != 0)
    throw KernelError(errno, std::string("reading a per-CPU counter failed: ") +
                                 std::strerror(errno));
  return v;
}

// The function's BPF side; a function without one is refused in one line.
const BpfFunction &implemented(uint32_t function) {
  if (const BpfFunction *fn = find_bpf_function(function)) return *fn;
  throw KernelError(EOPNOTSUPP, "function " + std::to_string(function) +
                                    " has no BPF implementation yet: it needs diagnose.ko");
}

// An activation is renamed into place whole from its staging directory and
// renamed away first on deactivation: its settings pin is there exactly
// while the function is active.
bool pinned(const std::string &dir) { return ::access((dir + "/settings").c_str(), F_OK) == 0; }

}  // namespace

std::string BpfBackend::unavailable_reason() {
  if (bpf_functions().empty()) return "this diagnose-tools was built without BPF programs";
  if (::geteuid() != 0) return "the BPF backend needs root (sudo diagnose-tools ...)";
  if (::access(kKernelBtf, R_OK) != 0)
    return std::string("this kernel has no BTF (") + kKernelBtf +
           ", CONFIG_DEBUG_INFO_BTF), which the BPF programs need";
  return "";
}

std::unique_ptr<BpfBackend> BpfBackend::open() {
  std::string why = unavailable_reason();
  if (!why.empty()) throw EnvironmentError(why);
  return std::unique_ptr<BpfBackend>(new BpfBackend());
}

BpfBackend::BpfBackend() {
  install_libbpf_log();
  int cpus = libbpf_num_possible_cpus();
  version_.abi_version = DIAG_ABI_VERSION;
  version_.nr_cpu_ids = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
  for (const BpfFunction &fn : bpf_functions()) version_.functions |= 1ull << fn.id;
  std::snprintf(version_.module_version, sizeof(version_.module_version), "bpf (libbpf %d.%d)",
                LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
}

bool BpfBackend::has(uint32_t function) { return find_bpf_function(function) != nullptr; }

bool BpfBackend::active(uint32_t function) {
  const BpfFunction *fn = find_bpf_function(function);
  return fn && is_bpffs(kBpffs) && pinned(pin_dir(*fn));
}

void BpfBackend::call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size) {
  const BpfFunction *fn = &implemented(function);
  PinLock lock;
  const std::string dir = pin_dir(*fn);
  const bool is_active = pinned(dir);
  switch (verb) {
    case DIAG_VERB_ACTIVATE: {
      if (arg_size != fn->settings_size)
        throw KernelError(EINVAL, "settings of " + std::to_string(arg_size) +
                                      " bytes, the BPF backend expects " +
                                      std::to_string(fn->settings_size));
      if (is_active)
        throw KernelError(EBUSY, std::string(fn->name) + " is already active; deactivate it first");
      auto *common = static_cast<diag_common_settings *>(arg);
      validate_bpf_settings(*fn, *common, version_.nr_cpu_ids);
      common->activated = 1;
      // a half-made activation of a command that died is not an activation
      remove_pins(dir);
      // bpffs refuses names with a dot
      const std::string staging = dir + "-staging";
      remove_pins(staging);
      try {
        fn->activate(arg, version_.nr_cpu_ids, staging);
        if (::rename(staging.c_str(), dir.c_str()) != 0)
          throw KernelError(errno, "cannot rename " + staging + ": " + std::strerror(errno));
      } catch (...) {
        remove_pins(staging);
        throw;
      }
      return;
    }
    case DIAG_VERB_DEACTIVATE:
      if (arg || arg_size)
        throw KernelError(EINVAL, "deactivate takes no argument (size " +
                                      std::to_string(arg_size) + " given)");
      if (!is_active) throw KernelError(ENODATA, std::string(fn->name) + " is not active");
      // the links go with their last pin: the programs detach, the maps
      // are freed
      remove_pins(dir);
      return;
    case DIAG_VERB_SETTINGS: {
      if (arg_size != fn->settings_size)
        throw KernelError(EINVAL, "settings of " + std::to_string(arg_size) +
                                      " bytes, the BPF backend expects " +
                                      std::to_string(fn->settings_size));
      std::memset(arg, 0, arg_size);
      if (!is_active) return;
      if (fn->sync) fn->sync(dir);
      Fd fd(open_pinned(dir, "settings"));
      diag_settings_blob blob{};
      uint32_t zero = 0;
      if (bpf_map_lookup_elem(fd.get(), &zero, &blob) != 0)
        throw KernelError(errno, std::string("reading the settings failed: ") +
                                     std::strerror(errno));
      std::memcpy(arg, blob.bytes, arg_size);
      if (fn->settings_out) fn->settings_out(dir, arg);
      return;
    }
    default:
      throw KernelError(EINVAL, "verb " + std::to_string(verb) + " is not for call(); use report()");
  }
}

namespace {

struct Drained {
  std::vector<uint8_t> bytes;
  uint32_t records = 0;
};

int on_record(void *ctx, void *data, size_t size) {
  auto *d = static_cast<Drained *>(ctx);
  const auto *p = static_cast<const uint8_t *>(data);
  d->bytes.insert(d->bytes.end(), p, p + size);
  d->records++;
  return 0;
}

// The records of one drain in timestamp order (the ring holds them in the
// order they were reserved, which is not quite that across CPUs).
std::vector<uint8_t> sort_by_time(const std::vector<uint8_t> &in) {
  struct Ref {
    uint64_t ts;
    size_t off, size;
  };
  std::vector<Ref> refs;
  for (size_t off = 0; off + sizeof(diag_record_header) <= in.size();) {
    diag_record_header h;
    std::memcpy(&h, in.data() + off, sizeof(h));
    if (h.size < sizeof(h) || off + h.size > in.size()) break;
    refs.push_back({h.ts_ns, off, h.size});
    off += h.size;
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref &a, const Ref &b) { return a.ts < b.ts; });
  std::vector<uint8_t> out;
  out.reserve(in.size());
  for (const Ref &r : refs) out.insert(out.end(), in.begin() + r.off, in.begin() + r.off + r.size);
  return out;
}

}  // namespace

void BpfBackend::report(uint32_t function, ReportBytes &out, int *rounds) {
  if (rounds) *rounds = 0;
  const BpfFunction *fn = &implemented(function);
  PinLock lock;
  const std::string dir = pin_dir(*fn);
  if (!pinned(dir)) throw KernelError(ENODATA, std::string(fn->name) + " is not active");
  if (fn->sync) fn->sync(dir);

  Fd ring_fd(open_pinned(dir, "records"));
  Fd lost_fd(open_pinned(dir, "lost"));
  Fd reported_fd(open_pinned(dir, "lost_reported"));
  // absent from an activation by an older CLI: its misses go unreported
  Fd misses_fd(bpf_obj_get((dir + "/misses_reported").c_str()));
  const uint32_t cpus = version_.nr_cpu_ids;
  Drained drained;
  ring_buffer *rb = ring_buffer__new(ring_fd.get(), on_record, &drained, nullptr);
  if (!rb) throw KernelError(errno, std::string("cannot map the record ring: ") + std::strerror(errno));
  // the losses before the drain: once the ring is drained, nothing may
  // fail before the records are the caller's
  std::vector<uint64_t> lost, reported;
  // the misses said so far only grow: a program whose count could not be
  // read this time does not make them be said again later
  uint64_t misses = 0, misses_said = 0;
  uint32_t zero = 0;
  try {
    lost = read_percpu(lost_fd.get(), cpus);
    reported = read_percpu(reported_fd.get(), cpus);
    if (misses_fd.get() >= 0) {
      if (bpf_map_lookup_elem(misses_fd.get(), &zero, &misses_said) != 0)
        throw KernelError(errno, std::string("reading the reported misses failed: ") +
                                     std::strerror(errno));
      misses = std::max(recursion_misses(dir), misses_said);
    }
    // the misses' mark last: a failure before it leaves them to be said
    if (bpf_map_update_elem(reported_fd.get(), &zero, lost.data(), BPF_ANY) != 0 ||
        (misses_fd.get() >= 0 &&
         bpf_map_update_elem(misses_fd.get(), &zero, &misses, BPF_ANY) != 0))
      throw KernelError(errno, std::string("updating the reported losses failed: ") +
                                   std::strerror(errno));
  } catch (...) {
    ring_buffer__free(rb);
    throw;
  }
  int n = ring_buffer__consume(rb);
  int err = errno;
  ring_buffer__free(rb);
  std::vector<uint8_t> records = sort_by_time(drained.bytes);
  // what was lost since the last report, per CPU, as the module's
  // DIAG_REC_LOST records; `lost_reported` remembers what was said
  const uint64_t now = clock_ns(CLOCK_MONOTONIC);
  uint64_t total = 0;
  // the kernel does not say on which CPU it skipped a call: those count on
  // CPU 0, as possibly lost (an unwatched task's call would have been
  // filtered out)
  if (cpus) {
    lost[0] += misses;
    reported[0] += misses_said;
  }
  for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
    total += lost[cpu];
    if (lost[cpu] <= reported[cpu]) continue;
    diag_lost_record r{};
    r.hdr.size = sizeof(r);
    r.hdr.type = DIAG_REC_LOST;
    r.hdr.cpu = static_cast<uint16_t>(cpu);
    r.hdr.ts_ns = now;
    r.count = lost[cpu] - reported[cpu];
    const auto *p = reinterpret_cast<const uint8_t *>(&r);
    records.insert(records.end(), p, p + sizeof(r));
  }
  out.data.insert(out.data.end(), records.begin(), records.end());
  out.lost_total = total;
  out.real_minus_mono_ns =
      static_cast<int64_t>(clock_ns(CLOCK_REALTIME)) - static_cast<int64_t>(clock_ns(CLOCK_MONOTONIC));
  out.nr_cpus = cpus;
  if (rounds) *rounds = 1;
  if (n < 0) throw KernelError(err, std::string("draining the record ring failed: ") + std::strerror(err));
}

}  // namespace diag
