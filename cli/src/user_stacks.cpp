// SPDX-License-Identifier: GPL-2.0-or-later
#include "user_stacks.h"

#include "report_resources.h"

namespace diag {

UserStacks::UserStacks(ReportResources &resources, SymbolizeOptions sym_opts,
                       UnwindOptions unwind_opts)
    : res_(resources), symbolizer_(sym_opts), unwind_opts_(unwind_opts) {}

void UserStacks::add_snapshots(const DecodedReport &report) {
  // an address space built from an older view is built again when used
  for (uint64_t key : snapshots_.add(report)) spaces_.erase(key);
}

ProcessMaps UserStacks::proc_maps(int32_t tgid) const {
  if (!res_.live() || tgid <= 0) return ProcessMaps(tgid, ProcessMaps::Source::kProc);
  return ProcessMaps::from_proc(tgid);  // empty once the process is gone
}

const AddressSpace *UserStacks::space_for(uint64_t mm_key, int32_t tgid, uint64_t ip,
                                          std::string &source) {
  auto it = spaces_.find(mm_key);
  if (it == spaces_.end()) {
    ProcessMaps maps;
    if (auto s = snapshots_.maps().find(mm_key); s != snapshots_.maps().end())
      maps = s->second;
    else
      maps = proc_maps(tgid);
    it = spaces_.emplace(mm_key, std::make_unique<AddressSpace>(std::move(maps), res_.elf_cache()))
             .first;
  }
  // a snapshot without the code the task was in (lost, or older than a
  // library the task loaded since): what the process maps now, if it lives
  if (!it->second->maps().find(ip) && it->second->maps().source() == ProcessMaps::Source::kSnapshot) {
    ProcessMaps now = proc_maps(tgid);
    if (now.find(ip)) {
      ProcessMaps merged = it->second->maps();
      merged.overlay(now);
      merged = ProcessMaps(merged, ProcessMaps::Source::kSnapshotAndProc);
      it->second = std::make_unique<AddressSpace>(std::move(merged), res_.elf_cache());
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
