// SPDX-License-Identifier: GPL-2.0-or-later
#include "user_stacks.h"

namespace diag {

UserStacks::UserStacks(const DecodedReport &report, SymbolizeOptions sym_opts,
                       UnwindOptions unwind_opts)
    : symbolizer_(sym_opts), unwind_opts_(unwind_opts), snapshots_(collect_task_maps(report)) {}

const AddressSpace *UserStacks::space_for(uint64_t mm_key, int32_t tgid, uint64_t ip,
                                          std::string &source) {
  auto it = spaces_.find(mm_key);
  if (it == spaces_.end()) {
    ProcessMaps maps;
    if (auto s = snapshots_.find(mm_key); s != snapshots_.end())
      maps = s->second;
    else
      maps = ProcessMaps::from_proc(tgid);  // empty once the process is gone
    it = spaces_.emplace(mm_key, std::make_unique<AddressSpace>(std::move(maps), cache_)).first;
  }
  // a snapshot without the code the task was in (lost, or older than a
  // library the task loaded since): what the process maps now, if it lives
  if (!it->second->maps().find(ip) && it->second->maps().source() == ProcessMaps::Source::kSnapshot) {
    ProcessMaps now = ProcessMaps::from_proc(tgid);
    if (now.find(ip)) {
      ProcessMaps merged = it->second->maps();
      merged.overlay(now);
      merged = ProcessMaps(merged, ProcessMaps::Source::kSnapshotAndProc);
      it->second = std::make_unique<AddressSpace>(std::move(merged), cache_);
    }
  }
  const ProcessMaps &m = it->second->maps();
  switch (m.mappings().empty() ? ProcessMaps::Source::kProc : m.source()) {
    case ProcessMaps::Source::kSnapshot:
      source = "snapshot";
      break;
    case ProcessMaps::Source::kSnapshotAndProc:
      source = "snapshot+proc";
      break;
    default:
      source = m.mappings().empty() ? "none" : "proc";
  }
  return it->second.get();
}

UserStacks::Result UserStacks::resolve(int32_t tgid, const diag_user_stack &us,
                                       std::span<const uint8_t> stack) {
  Result r;
  if (!(us.flags & DIAG_USTACK_VALID)) return r;
  const AddressSpace *space = space_for(us.mm_key, tgid, us.regs[DIAG_UREG_IP], r.maps);
  UnwindResult u;
  if (us.flags & DIAG_USTACK_COMPAT) {
    u.ips.push_back(us.regs[DIAG_UREG_IP]);  // 32-bit: the IP only
  } else {
    UserStackCopy copy{reinterpret_cast<const uint64_t *>(us.regs), us.sp, stack.first(std::min<size_t>(us.len, stack.size()))};
    u = unwind_user_stack(*space, copy, unwind_opts_);
  }
  r.method = u.method;
  r.truncated = u.truncated;
  r.frames = symbolizer_.symbolize_stack(*space, u.ips);
  return r;
}

}  // namespace diag
