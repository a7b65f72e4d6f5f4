// SPDX-License-Identifier: GPL-2.0-or-later
// kprobe on the BPF backend: bpf/kprobe.bpf.c, attached with a BPF
// trampoline (fentry) where the kernel has trampolines and the function
// takes one, else with a kprobe; refused in one line when neither works.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"
#include "kallsyms.h"
#include "kprobe.skel.h"

namespace diag {

namespace {

using KprobeSkel = std::unique_ptr<kprobe_bpf, SkelDeleter<kprobe_bpf>>;

// The function to probe, resolved in /proc/kallsyms: "name" in the kernel
// image (or any module), "module:name" in that module.
struct Target {
  std::string spec;    // as given
  std::string name;    // the function's own name
  uint64_t start = 0;  // [start, end): where its frames are
  uint64_t end = 0;
};

// The module's checks of its settings (module/kprobe.c, kprobe_validate).
void validate(const diag_kprobe_settings &s, uint32_t nr_cpus) {
  auto refuse = [](const std::string &why) { throw KernelError(EINVAL, why); };
  if (!std::memchr(s.probe, '\0', sizeof(s.probe)))
    refuse("probe name is longer than " + std::to_string(sizeof(s.probe) - 1) + " characters");
  if (!s.probe[0]) refuse("no function to probe: give probe=FUNCTION");
  if (s.dump_style > 1) refuse("dump-style must be 0 or 1");
  if (s.ustack_kib > DIAG_USTACK_KIB_MAX)
    refuse("ustack-kib " + std::to_string(s.ustack_kib) + " is over the limit of " +
           std::to_string(DIAG_USTACK_KIB_MAX));
  if (s.reserved) refuse("reserved settings field is not zero");
  if (s.cpus_set > 1) refuse("cpus_set must be 0 or 1");
  if (s.cpus_set) {
    bool any = false;
    for (uint32_t cpu = 0; cpu < DIAG_CPUSET_WORDS * 64; ++cpu) {
      if (!(s.cpus[cpu / 64] & (1ull << (cpu % 64)))) continue;
      if (cpu >= nr_cpus)
        refuse("CPU " + std::to_string(cpu) + " does not exist (" + std::to_string(nr_cpus) +
               " possible CPUs)");
      any = true;
    }
    if (!any) refuse("the CPU list is empty");
  }
  // a BPF program cannot write the kernel log (bpf_printk goes to
  // trace_pipe): refused rather than done differently
  if (s.dump_style == 1)
    throw KernelError(EOPNOTSUPP,
                      "dump-style=1 (hits in the kernel log) is not available on the BPF "
                      "backend, whose programs cannot print to the kernel log: use diagnose.ko");
}

Target resolve(const std::string &spec) {
  Target t;
  t.spec = spec;
  std::string module = "*";
  t.name = spec;
  if (size_t colon = spec.find(':'); colon != std::string::npos) {
    module = spec.substr(0, colon);
    t.name = spec.substr(colon + 1);
  }
  KernelSymbols ksyms = KernelSymbols::load();
  if (ksyms.empty())
    throw EnvironmentError("/proc/kallsyms shows no addresses (kptr_restrict?): the function "
                           "to probe cannot be found");
  auto range = ksyms.range_in(t.name, module);
  if (!range) throw KernelError(ENOENT, "the kernel has no function " + spec);
  t.start = range->first;
  t.end = range->second;
  return t;
}

// The kprobe blacklist (NOKPROBE_SYMBOL, noinstr and entry code), where
// debugfs shows it: the module cannot probe these, and neither does this.
bool blacklisted(uint64_t addr) {
  std::ifstream in("/sys/kernel/debug/kprobes/blacklist");
  std::string line;
  while (std::getline(in, line)) {
    // "0xffffffff81001000-0xffffffff81001020\tname"
    unsigned long long from = 0, to = 0;
    if (std::sscanf(line.c_str(), "0x%llx-0x%llx", &from, &to) == 2 && addr >= from && addr < to)
      return true;
  }
  return false;
}

// Whether the kernel can make kprobes for BPF: the perf kprobe PMU, or
// tracefs's kprobe_events (libbpf's fallback); both need CONFIG_KPROBES.
bool have_kprobes() {
  struct stat st{};
  return ::stat("/sys/bus/event_source/devices/kprobe/type", &st) == 0 ||
         ::stat("/sys/kernel/tracing/kprobe_events", &st) == 0 ||
         ::stat("/sys/kernel/debug/tracing/kprobe_events", &st) == 0;
}

enum class Attach { kFentry, kKprobe };

// Whether the kernel can resolve the x86 preempt count's per-CPU variable
// for a program (kallsyms_lookup_name: data symbols need
// CONFIG_KALLSYMS_ALL): __preempt_count before 6.2 and since 6.15,
// pcpu_hot between.
bool preempt_count_listed() {
  static const bool listed =
      KernelSymbols::lists("__preempt_count") || KernelSymbols::lists("pcpu_hot");
  return listed;
}

KprobeSkel open_kprobe(const diag_kprobe_settings &s, uint32_t nr_cpus, const Target &t,
                       Attach how) {
  reset_libbpf_log();
  KprobeSkel skel(kprobe_bpf__open(), {kprobe_bpf__destroy});
  if (!skel) load_failed("opening the kprobe BPF object", errno);
  auto *ro = skel->rodata;
  set_filter(ro, s.common);
  ro->ustack_bytes = (s.ustack_kib ? s.ustack_kib : DIAG_USTACK_KIB_DEFAULT) * 1024;
  ro->cpus_set = s.cpus_set;
  std::memcpy(const_cast<uint64_t *>(reinterpret_cast<const volatile uint64_t *>(ro->cpus)),
              s.cpus, sizeof(s.cpus));
  ro->func_start = t.start;
  ro->func_end = t.end;
  // the programs that read the preempt count need its variable in kallsyms
  const bool irq = preempt_count_listed();
  auto &p = skel->progs;
  bpf_program__set_autoload(p.on_fentry, how == Attach::kFentry && irq);
  bpf_program__set_autoload(p.on_fentry_noirq, how == Attach::kFentry && !irq);
  bpf_program__set_autoload(p.on_kprobe, how == Attach::kKprobe && irq);
  bpf_program__set_autoload(p.on_kprobe_noirq, how == Attach::kKprobe && !irq);
  if (how == Attach::kFentry) {
    int err = bpf_program__set_attach_target(irq ? p.on_fentry : p.on_fentry_noirq, 0,
                                             t.name.c_str());
    if (err) load_failed(("a BPF trampoline on " + t.spec).c_str(), err);
  }
  bpf_map__set_max_entries(skel->maps.scratch, nr_cpus);
  bpf_map__set_max_entries(skel->maps.records,
                           static_cast<uint32_t>(ring_bytes(s.common.buf_kib, nr_cpus)));
  return skel;
}

KprobeSkel attach_fentry(const diag_kprobe_settings &s, uint32_t nr_cpus, const Target &t) {
  KprobeSkel skel = open_kprobe(s, nr_cpus, t, Attach::kFentry);
  load_attach(skel->skeleton);
  return skel;
}

// The kernel's refusals of a kprobe, in the module's words (register_probe).
[[noreturn]] void kprobe_refused(const Target &t, int err) {
  switch (err) {
    case ENOENT:
      throw KernelError(err, "the kernel has no function " + t.spec);
    case EINVAL:
      throw KernelError(err, "the kernel refuses to probe " + t.spec +
                                 " (kprobe blacklist or not probeable)");
    case EADDRNOTAVAIL:
      throw KernelError(err, t.spec + " names more than one kernel function; ambiguous");
    case EILSEQ:
      throw KernelError(err, "the kernel refuses to probe " + t.spec +
                                 ": not an instruction boundary");
    default:
      load_failed(("a kprobe on " + t.spec).c_str(), err);
  }
}

KprobeSkel attach_kprobe(const diag_kprobe_settings &s, uint32_t nr_cpus, const Target &t) {
  KprobeSkel skel = open_kprobe(s, nr_cpus, t, Attach::kKprobe);
  load_attach(skel->skeleton);  // loads; SEC("kprobe") names no function to attach to
  reset_libbpf_log();
  const bool irq = preempt_count_listed();
  bpf_link *link = bpf_program__attach_kprobe(
      irq ? skel->progs.on_kprobe : skel->progs.on_kprobe_noirq, false, t.spec.c_str());
  if (!link) kprobe_refused(t, errno);
  // destroyed, and pinned, with the skeleton
  (irq ? skel->links.on_kprobe : skel->links.on_kprobe_noirq) = link;
  return skel;
}

// $DIAGNOSE_BPF_KPROBE_ATTACH=fentry or kprobe: that attach type only (the
// tests use it to cover the kprobe path on kernels with trampolines).
std::optional<Attach> forced_attach() {
  const char *v = std::getenv("DIAGNOSE_BPF_KPROBE_ATTACH");
  if (!v || !*v) return std::nullopt;
  if (!std::strcmp(v, "fentry")) return Attach::kFentry;
  if (!std::strcmp(v, "kprobe")) return Attach::kKprobe;
  throw UsageError(std::string("DIAGNOSE_BPF_KPROBE_ATTACH must be fentry or kprobe, not '") +
                   v + "'");
}

// The programs load (as a kprobe program, which any kernel with BPF loads;
// attaching one is what needs kprobes), or the load's own error is thrown:
// after this a failed trampoline is the kernel's doing, not the program's.
void check_loads(const diag_kprobe_settings &s, uint32_t nr_cpus, const Target &t) {
  KprobeSkel skel = open_kprobe(s, nr_cpus, t, Attach::kKprobe);
  load_attach(skel->skeleton);  // SEC("kprobe") names no function: nothing attaches
}

// A function every kernel with trampolines can take one on: whether a
// failed trampoline is the function's or the kernel's.
constexpr const char *kTrampolineCheck = "vfs_read";

bool kernel_has_trampolines(const diag_kprobe_settings &s, uint32_t nr_cpus) {
  try {
    Target t = resolve(kTrampolineCheck);
    attach_fentry(s, nr_cpus, t);  // detached again as it goes
    return true;
  } catch (const std::exception &) {
    return false;
  }
}

}  // namespace

void activate_kprobe(const void *settings, uint32_t nr_cpus, const std::string &dir) {
  diag_kprobe_settings s = *static_cast<const diag_kprobe_settings *>(settings);
  validate(s, nr_cpus);
  const std::optional<Attach> forced = forced_attach();
  const Target t = resolve(s.probe);
  if (blacklisted(t.start))
    throw KernelError(EINVAL, "the kernel refuses to probe " + t.spec +
                                  " (kprobe blacklist or not probeable)");
  s.probe_addr = t.start;

  KprobeSkel skel;
  std::string fentry_failure;
  if (forced != Attach::kKprobe) {
    try {
      skel = attach_fentry(s, nr_cpus, t);
    } catch (const KernelError &e) {
      if (forced == Attach::kFentry) throw;
      fentry_failure = e.what();
    }
  }
  if (!skel && have_kprobes()) skel = attach_kprobe(s, nr_cpus, t);
  if (!skel) {
    check_loads(s, nr_cpus, t);
    if (forced == Attach::kKprobe || !kernel_has_trampolines(s, nr_cpus))
      throw KernelError(EOPNOTSUPP,
                        "kprobe on the BPF backend needs kprobes (CONFIG_KPROBES) or BPF "
                        "trampolines; this kernel has neither: use diagnose.ko");
    throw KernelError(EOPNOTSUPP, "a BPF trampoline on " + t.spec + " failed (" + fentry_failure +
                                      ") and this kernel has no kprobes (CONFIG_KPROBES) to "
                                      "fall back on: use diagnose.ko");
  }
  pin(skel->skeleton, skel->maps.settings, &s, sizeof(s), dir);
}

namespace {

// bpf_link_info of a perf-event link (kernel 6.6, "missed" from 6.7),
// which the uapi headers this builds with may predate.
struct PerfLinkInfo {
  uint32_t type, id, prog_id, pad;
  uint32_t perf_event_type, pad2;
  uint64_t func_name;
  uint32_t name_len, offset;
  uint64_t addr;
  uint64_t missed;
  uint64_t cookie;
  uint8_t rest[128];  // the kernel's larger union members, zero
};
constexpr uint32_t kLinkTypePerfEvent = 7;  // BPF_LINK_TYPE_PERF_EVENT
constexpr uint32_t kPerfEventKprobe = 3;    // BPF_PERF_EVENT_KPROBE

}  // namespace

void kprobe_settings_out(const std::string &dir, void *settings) {
  auto &s = *static_cast<diag_kprobe_settings *>(settings);
  // a trampoline's skipped calls are its program's recursion misses,
  // which the reports count as lost; a kprobe's own recursion misses are
  // the kprobe core's, which the link shows from 6.7 on (before: 0)
  s.missed = 0;
  s.maps_dropped = 0;  // no maps table: user stacks are symbolized from /proc
  int fd = bpf_obj_get((dir + "/link_on_kprobe").c_str());
  if (fd < 0) fd = bpf_obj_get((dir + "/link_on_kprobe_noirq").c_str());
  if (fd < 0) return;
  PerfLinkInfo info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == kLinkTypePerfEvent &&
      info.perf_event_type == kPerfEventKprobe)
    s.missed = info.missed;
  ::close(fd);
}

}  // namespace diag
