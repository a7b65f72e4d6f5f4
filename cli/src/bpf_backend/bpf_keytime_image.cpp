// SPDX-License-Identifier: GPL-2.0-or-later
// keytime-image on the BPF backend: bpf/keytime_image.bpf.c, its calls
// probed with trampolines where the kernel has them, else tracepoints.
#include <cerrno>
#include <memory>
#include <utility>

#include "bpf_backend/bpf_functions.h"
#include "bpf_backend/bpf_loader.h"
#include "errors.h"
#include "kallsyms.h"
#include "keytime_image.skel.h"

namespace diag {

namespace {

using KeytimeSkel = std::unique_ptr<keytime_image_bpf, SkelDeleter<keytime_image_bpf>>;

// keytime-image's creation and exec calls: fentry/fexit on kernel_clone()
// and the exec system calls where the kernel has BPF trampolines, else the
// system calls' tracepoints (which send every system call of every task
// through the tracing entry path while attached: the dearer way).
// `sched` is __schedule's range, where off-CPU stacks start (0, 0: none).
KeytimeSkel open_keytime(const diag_keytime_image_settings &s, uint32_t nr_cpus,
                         std::pair<uint64_t, uint64_t> sched, bool trampolines) {
  reset_libbpf_log();
  KeytimeSkel skel(keytime_image_bpf__open(), {keytime_image_bpf__destroy});
  if (!skel) load_failed("opening the keytime-image BPF object", errno);
  set_filter(skel->rodata, s.common);
  skel->rodata->want_stack = s.stack;
  skel->rodata->sched_start = sched.first;
  skel->rodata->sched_end = sched.second;
  auto &p = skel->progs;
  for (bpf_program *prog : {p.on_kernel_clone, p.on_kernel_clone_exit, p.on_execve_entry,
                            p.on_execveat_entry, p.on_execve_exit, p.on_execveat_exit})
    bpf_program__set_autoload(prog, trampolines);
  for (bpf_program *prog : {p.on_enter_clone, p.on_enter_clone3, p.on_enter_fork,
                            p.on_enter_vfork, p.on_exit_clone, p.on_exit_clone3, p.on_exit_fork,
                            p.on_exit_vfork, p.on_enter_execve, p.on_enter_execveat,
                            p.on_exit_execve, p.on_exit_execveat})
    bpf_program__set_autoload(prog, !trampolines);
  // sched_switch, every switch of the machine, only when asked for
  bpf_program__set_autoload(p.on_switch, s.oncpu || s.stack);
  bpf_map__set_max_entries(skel->maps.records,
                           static_cast<uint32_t>(ring_bytes(s.common.buf_kib, nr_cpus)));
  return skel;
}

}  // namespace

void activate_keytime_image(const void *settings, uint32_t nr_cpus, const std::string &dir) {
  const auto &s = *static_cast<const diag_keytime_image_settings *>(settings);
  // the module's own checks (module/keytime_image.c)
  if (s.oncpu > 1 || s.stack > 1) throw KernelError(EINVAL, "oncpu and stack take 0 or 1");
  if (!s.common.pid && !s.common.tgid && !s.common.comm[0])
    throw KernelError(EINVAL, "keytime-image needs a task to watch: pid, tgid or comm");
  // off-CPU stacks start at __schedule, as the module cuts them
  std::pair<uint64_t, uint64_t> sched{0, 0};
  if (s.stack) {
    if (auto r = KernelSymbols::load().range_of("__schedule")) sched = *r;
  }
  KeytimeSkel skel = open_keytime(s, nr_cpus, sched, true);
  try {
    load_attach(skel->skeleton);
  } catch (const KernelError &) {
    // no trampolines here (or not for these functions): tracepoints only
    ensure_tracefs();
    skel = open_keytime(s, nr_cpus, sched, false);
    load_attach(skel->skeleton);
  }
  pin(skel->skeleton, skel->maps.settings, settings, sizeof(s), dir);
}

}  // namespace diag
