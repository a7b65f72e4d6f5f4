// SPDX-License-Identifier: GPL-2.0-or-later
// resource-image on the BPF backend: bpf/resource_image.bpf.c.  Its task
// iterator (on_report) runs before every drain, as the module's sync does:
// it samples the watched tasks that are off CPU past their interval.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"
#include "kallsyms.h"
#include "resource_image.skel.h"
#include "resource_image_nopcpu.skel.h"

namespace diag {

namespace {

// The module's checks (module/resource_image.c resource_validate).
void validate(const diag_resource_image_settings &s) {
  const uint32_t interval = s.interval_ms ? s.interval_ms : DIAG_RI_INTERVAL_MS_DEFAULT;
  const uint32_t tasks = s.max_tasks ? s.max_tasks : DIAG_RI_TASKS_DEFAULT;
  if (interval < DIAG_RI_INTERVAL_MS_MIN || interval > DIAG_RI_INTERVAL_MS_MAX)
    throw KernelError(EINVAL, "interval of " + std::to_string(interval) + " ms is outside " +
                                  std::to_string(DIAG_RI_INTERVAL_MS_MIN) + ".." +
                                  std::to_string(DIAG_RI_INTERVAL_MS_MAX) + " ms");
  if (tasks > DIAG_RI_TASKS_MAX)
    throw KernelError(EINVAL, "max_tasks of " + std::to_string(tasks) +
                                  " is over the limit of " + std::to_string(DIAG_RI_TASKS_MAX));
  if (!s.common.pid && !s.common.tgid && !s.common.comm[0])
    throw KernelError(EINVAL, "resource-image needs a task to watch: pid, tgid or comm");
}

template <class Skel>
void load_resource_image(Skel *(*open)(), void (*destroy)(Skel *),
                         const diag_resource_image_settings &s, uint32_t nr_cpus,
                         const std::string &dir) {
  const uint32_t tasks = s.max_tasks ? s.max_tasks : DIAG_RI_TASKS_DEFAULT;
  reset_libbpf_log();
  std::unique_ptr<Skel, SkelDeleter<Skel>> skel(open(), {destroy});
  if (!skel) load_failed("opening the resource-image BPF object", errno);
  set_filter(skel->rodata, s.common);
  skel->rodata->interval_ns =
      static_cast<uint64_t>(s.interval_ms ? s.interval_ms : DIAG_RI_INTERVAL_MS_DEFAULT) *
      1000000ull;
  skel->rodata->max_tasks = tasks;
  skel->rodata->total_ram_bytes = ram_bytes();
  skel->rodata->nr_cpus = nr_cpus;
  // twice max_tasks: slots retired by a report stay until their task
  // execs or exits (bpf/resource_image.bpf.c)
  bpf_map__set_max_entries(skel->maps.slots, 2 * std::max<uint32_t>(tasks, 1));
  bpf_map__set_max_entries(skel->maps.records,
                           static_cast<uint32_t>(ring_bytes(s.common.buf_kib, nr_cpus)));
  load_attach(skel->skeleton);
  pin(skel->skeleton, skel->maps.settings, &s, sizeof(s), dir);
}

}  // namespace

// The program as built where the kernel resolves per-CPU variables (RSS
// summed over the CPUs as VmRSS, samples from the tick told by the preempt
// count), else without them (bpf/diag.bpf.h).
void activate_resource_image(const void *settings, uint32_t nr_cpus, const std::string &dir) {
  const auto &s = *static_cast<const diag_resource_image_settings *>(settings);
  validate(s);
  // the verifier resolves per-CPU variables by /proc/kallsyms, which lists
  // data symbols such as runqueues only with CONFIG_KALLSYMS_ALL
  if (KernelSymbols::lists("runqueues"))
    load_resource_image(resource_image_bpf__open, resource_image_bpf__destroy, s, nr_cpus, dir);
  else
    load_resource_image(resource_image_nopcpu_bpf__open, resource_image_nopcpu_bpf__destroy, s,
                        nr_cpus, dir);
}

// Runs the task iterator once: its records go to the ring, its text
// output is none.
void sync_resource_image(const std::string &dir) {
  run_task_iterator(dir, "on_report", "running the off-CPU sampler");
}

}  // namespace diag
