// SPDX-License-Identifier: GPL-2.0-or-later
#include "user_unwind.h"

#include <libunwind.h>

#include <cstring>
#include <set>
#include <utility>

// Not in libunwind.h, but exported by libunwind-x86_64 (perf declares it
// the same way): searches an .eh_frame_hdr table in the remote space.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
                                                  unw_dyn_info_t *di, unw_proc_info_t *pi,
                                                  int need_unwind_info, void *arg);

namespace diag {

namespace {

struct UnwindContext {
  const AddressSpace *space;
  const UserStackCopy *copy;
  bool read_past_copy = false;
};

bool read_stack(const UserStackCopy &c, uint64_t addr, void *out, size_t n) {
  if (addr < c.sp || addr - c.sp > c.stack.size() || c.stack.size() - (addr - c.sp) < n)
    return false;
  std::memcpy(out, c.stack.data() + (addr - c.sp), n);
  return true;
}

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info,
                   void *arg) {
  auto *ctx = static_cast<UnwindContext *>(arg);
  const AddressSpace::Module *m = ctx->space->module_at(ip);
  if (!m || !m->image || !m->image->eh_frame_hdr()) return -UNW_ENOINFO;
  const auto &hdr = *m->image->eh_frame_hdr();
  unw_dyn_info_t di{};
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = m->bias + m->image->vaddr_lo();
  di.end_ip = m->bias + m->image->vaddr_hi();
  di.u.rti.segbase = m->bias + hdr.vaddr;
  di.u.rti.table_data = m->bias + hdr.table_vaddr;
  // entries are two int32 each; table_len counts words
  di.u.rti.table_len = hdr.fde_count * 8 / sizeof(unw_word_t);
  return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
}

void put_unwind_info(unw_addr_space_t, unw_proc_info_t *, void *) {}

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t *, void *) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t *val, int write, void *arg) {
  auto *ctx = static_cast<UnwindContext *>(arg);
  if (write) return -UNW_EINVAL;
  if (read_stack(*ctx->copy, addr, val, sizeof(*val))) return 0;
  if (const AddressSpace::Module *m = ctx->space->object_at(addr))
    if (m->image->read(addr - m->bias, val, sizeof(*val))) return 0;
  // above the copy: the stack was deeper than what was saved
  if (addr >= ctx->copy->sp) ctx->read_past_copy = true;
  return -UNW_EINVAL;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
  auto *ctx = static_cast<UnwindContext *>(arg);
  if (write || reg < 0 || reg >= DIAG_UREGS_NR) return -UNW_EBADREG;
  *val = ctx->copy->regs[reg];
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t *, int, void *) {
  return -UNW_EBADREG;
}

int resume(unw_addr_space_t, unw_cursor_t *, void *) { return -UNW_EINVAL; }

int get_proc_name(unw_addr_space_t, unw_word_t, char *, size_t, unw_word_t *, void *) {
  return -UNW_ENOINFO;  // the symbolizer names frames
}

unw_addr_space_t address_space() {
  static unw_accessors_t accessors = {find_proc_info, put_unwind_info, get_dyn_info_list_addr,
                                      access_mem,     access_reg,      access_fpreg,
                                      resume,         get_proc_name};
  static unw_addr_space_t as = [] {
    unw_addr_space_t a = unw_create_addr_space(&accessors, 0);
    // the same addresses mean different code in different processes
    if (a) unw_set_caching_policy(a, UNW_CACHE_NONE);
    return a;
  }();
  return as;
}

}  // namespace

const char *unwind_method_name(UnwindResult::Method m) {
  switch (m) {
    case UnwindResult::Method::kCfi:
      return "cfi";
    case UnwindResult::Method::kFramePointer:
      return "fp";
    default:
      return "none";
  }
}

UnwindResult unwind_frame_pointers(const UserStackCopy &copy, size_t max_frames) {
  UnwindResult r;
  r.method = UnwindResult::Method::kFramePointer;
  r.ips.push_back(copy.regs[DIAG_UREG_IP]);
  uint64_t bp = copy.regs[DIAG_UREG_BP];
  while (r.ips.size() < max_frames) {
    uint64_t frame[2];  // saved rbp, return address
    if (!read_stack(copy, bp, frame, sizeof(frame))) {
      // a frame pointer into the stack above the copy: more was there
      if (bp >= copy.sp && bp - copy.sp < (64u << 20)) r.truncated = true;
      break;
    }
    if (frame[1] == 0) break;
    r.ips.push_back(frame[1]);
    if (frame[0] <= bp) break;  // frames grow upwards; anything else is not a chain
    bp = frame[0];
  }
  return r;
}

UnwindResult unwind_user_stack(const AddressSpace &space, const UserStackCopy &copy,
                               const UnwindOptions &opts) {
  UnwindResult r;
  const size_t max_frames = opts.max_frames;
  if (!copy.regs) return r;
  if (opts.frame_pointers_only) return unwind_frame_pointers(copy, max_frames);
  UnwindContext ctx{&space, &copy};
  unw_addr_space_t as = address_space();
  unw_cursor_t cursor;
  if (as && unw_init_remote(&cursor, as, &ctx) == 0) {
    r.method = UnwindResult::Method::kCfi;
    std::set<std::pair<uint64_t, uint64_t>> seen;  // (ip, sp): a loop ends the walk
    while (r.ips.size() < max_frames) {
      unw_word_t ip = 0, sp = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
      unw_get_reg(&cursor, UNW_REG_SP, &sp);
      if (!seen.insert({ip, sp}).second) break;
      r.ips.push_back(ip);
      if (unw_step(&cursor) <= 0) break;
    }
    r.truncated = ctx.read_past_copy && copy.stack.size() > 0;
  }
  if (r.ips.size() <= 1) {
    UnwindResult fp = unwind_frame_pointers(copy, max_frames);
    if (fp.ips.size() > r.ips.size()) return fp;
  }
  if (r.ips.empty()) r.ips.push_back(copy.regs[DIAG_UREG_IP]);
  return r;
}

}  // namespace diag
