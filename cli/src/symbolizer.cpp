// SPDX-License-Identifier: GPL-2.0-or-later
#include "symbolizer.h"

#include <cstdio>

namespace diag {

namespace {

std::string unknown_at(uint64_t offset) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "[unknown]+0x%llx", static_cast<unsigned long long>(offset));
  return buf;
}

}  // namespace

const std::vector<StackFrame> &Symbolizer::lookup(ElfImage &image, uint64_t vaddr,
                                                  const std::string &module) {
  auto [it, added] = cache_.try_emplace(Key{&image, vaddr});
  if (!added) return it->second;
  std::vector<StackFrame> &frames = it->second;
  const ElfImage::Symbol *sym = image.symbol(vaddr);
  if (opts_.lines) {
    for (auto &sf : image.source(vaddr)) {
      StackFrame f;
      f.module = module;
      f.inlined = sf.inlined;
      // the real function takes the symbol table's name, as without lines
      f.symbol = (!sf.inlined && sym) ? image.demangled(*sym)
                 : !sf.function.empty() ? sf.function
                                        : unknown_at(vaddr);
      if (!sf.file.empty()) f.file = sf.file;
      if (sf.line) f.line = sf.line;
      frames.push_back(std::move(f));
    }
  }
  if (frames.empty()) {
    StackFrame f;
    f.module = module;
    f.symbol = sym ? image.demangled(*sym) : unknown_at(vaddr);
    frames.push_back(std::move(f));
  }
  return frames;
}

void Symbolizer::symbolize_in(const AddressSpace::Module &module, uint64_t addr, uint64_t vaddr,
                              std::vector<StackFrame> &out) {
  size_t first = out.size();
  if (module.image) {
    const auto &frames = lookup(*module.image, vaddr, module.name);
    out.insert(out.end(), frames.begin(), frames.end());
  } else {
    StackFrame f;
    f.module = module.name;
    f.symbol = unknown_at(addr - module.start + module.mapping->pgoff);
    out.push_back(std::move(f));
  }
  for (size_t i = first; i < out.size(); ++i) out[i].addr = addr;
}

const std::vector<StackFrame> &Symbolizer::frames_at(const AddressSpace &space, uint64_t addr,
                                                     bool return_address) {
  uint64_t at = return_address ? addr - 1 : addr;
  const AddressSpace::Module *m = space.module_at(at);
  if (m && m->image) return lookup(*m->image, at - m->bias, m->name);
  auto [it, added] = unknown_.try_emplace(at);
  if (added) {
    StackFrame f;
    f.module = m ? m->name : "[unknown]";
    f.symbol = m ? unknown_at(at - m->start + m->mapping->pgoff) : "[unknown]";
    it->second.push_back(std::move(f));
  }
  return it->second;
}

void Symbolizer::symbolize(const AddressSpace &space, uint64_t addr, bool return_address,
                           std::vector<StackFrame> &out) {
  size_t first = out.size();
  const auto &frames = frames_at(space, addr, return_address);
  out.insert(out.end(), frames.begin(), frames.end());
  for (size_t i = first; i < out.size(); ++i) out[i].addr = addr;
}

std::vector<StackFrame> Symbolizer::symbolize_stack(const AddressSpace &space,
                                                    const std::vector<uint64_t> &ips) {
  std::vector<StackFrame> out;
  for (size_t i = 0; i < ips.size(); ++i) symbolize(space, ips[i], i > 0, out);
  return out;
}

}  // namespace diag
