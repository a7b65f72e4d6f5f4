// SPDX-License-Identifier: GPL-2.0-or-later
#include "stack_report.h"

#include <algorithm>
#include <cstdio>

#include "output.h"

namespace diag {

namespace {

std::string hex(uint64_t v, int width = 0) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

void frame_line(std::ostream &out, const char *tag, const StackFrame &f, bool kernel) {
  out << tag << "        " << hex(f.addr, kernel ? 0 : 16) << ' ' << printable(f.symbol);
  if (f.file) {
    out << " at " << printable(*f.file);
    if (f.line) out << ':' << *f.line;
  }
  if (f.inlined) out << " [inlined]";
  out << (kernel ? "  (" : " (") << printable(f.module) << ")\n";
}

nlohmann::json frame_json(const StackFrame &f) {
  nlohmann::json j = {{"addr", hex(f.addr)}, {"symbol", f.symbol}, {"module", f.module}};
  if (f.file) j["file"] = *f.file;
  if (f.line) j["line"] = *f.line;
  if (f.inlined) j["inlined"] = true;
  return j;
}

}  // namespace

std::vector<StackFrame> kernel_frames(const diag_kernel_stack &stack, const KernelSymbols &ksyms) {
  std::vector<StackFrame> frames;
  uint32_t nr = std::min<uint32_t>(stack.nr, DIAG_KSTACK_MAX);
  for (uint32_t i = 0; i < nr; ++i) {
    StackFrame f;
    f.addr = stack.ips[i];
    const KernelSymbols::Symbol *s = ksyms.find(f.addr);
    if (s) {
      f.symbol = ksyms.describe(f.addr);
      // describe() appends " [module]"; the module goes in its own field
      if (!s->module.empty()) f.symbol.resize(f.symbol.size() - s->module.size() - 3);
      f.module = s->module.empty() ? "[kernel.kallsyms]" : "[" + s->module + "]";
    } else {
      f.symbol = "[unknown]";
      f.module = "[kernel.kallsyms]";
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

void write_stack_block(const StackBlock &b, std::ostream &out) {
  for (const auto &h : b.header) out << h << '\n';
  out << "    KERNEL STACK:\n";
  for (const auto &f : b.kernel) frame_line(out, "#@", f, true);
  out << "    USER STACK:\n";
  for (const auto &f : b.user) frame_line(out, "#~", f, false);
  out << "#*        0xffffffffffffff " << printable(b.process) << " (UNKNOWN)\n";
  if (!b.chain.empty()) {
    out << "    PROCESS CHAIN:\n";
    for (const auto &p : b.chain)
      out << "#^        0xffffffffffffff " << printable(p.comm) << '[' << p.pid
          << "] (UNKNOWN)\n";
  }
  if (b.count != 1) out << "#%        " << b.count << '\n';
  out << "##\n";
}

nlohmann::json stack_block_json(const StackBlock &b) {
  nlohmann::json j = b.fields;
  j["count"] = b.count;
  j["kernel_stack"] = nlohmann::json::array();
  for (const auto &f : b.kernel) j["kernel_stack"].push_back(frame_json(f));
  j["user_stack"] = nlohmann::json::array();
  for (const auto &f : b.user) j["user_stack"].push_back(frame_json(f));
  j["process_chain"] = nlohmann::json::array();
  for (const auto &p : b.chain) j["process_chain"].push_back({{"pid", p.pid}, {"comm", p.comm}});
  return j;
}

}  // namespace diag
