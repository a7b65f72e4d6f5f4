// SPDX-License-Identifier: GPL-2.0-or-later
// Names for user-space addresses: function symbols from each ELF's symbol
// table (or its separate debug file), C++ names demangled, and with
// `lines`, file:line and the inline chain from DWARF (elfutils libdw).
// Results are cached per (image, address), so symbolizing many stacks of
// the same program costs one lookup per distinct address.
//
// An address nothing resolves prints as "[unknown]+0x<offset>" within its
// module, or "[unknown]" in module "[unknown]" outside every mapping.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "elf_image.h"
#include "process_maps.h"
#include "stack_report.h"

namespace diag {

struct SymbolizeOptions {
  bool lines = false;  // file:line and inlined frames from DWARF
};

class Symbolizer {
 public:
  explicit Symbolizer(SymbolizeOptions opts = {}) : opts_(opts) {}

  // Appends the frames of one address, innermost first (inlined callees
  // before their caller with `lines`).  A return address (every frame but
  // the first of a stack) is looked up at addr - 1, inside the call.
  void symbolize(const AddressSpace &space, uint64_t addr, bool return_address,
                 std::vector<StackFrame> &out);

  // The same for an address already known to lie in `module` at link-time
  // address vaddr (what the benchmark feeds eu-addr2line).
  void symbolize_in(const AddressSpace::Module &module, uint64_t addr, uint64_t vaddr,
                    std::vector<StackFrame> &out);

  // Frames of a whole unwound stack.
  std::vector<StackFrame> symbolize_stack(const AddressSpace &space,
                                          const std::vector<uint64_t> &ips);

  // The cached frames of one address without copying them; their addr
  // fields are 0 (the caller knows the address).  Valid while the
  // Symbolizer lives.
  const std::vector<StackFrame> &frames_at(const AddressSpace &space, uint64_t addr,
                                           bool return_address);

 private:
  struct Key {
    const ElfImage *image;
    uint64_t vaddr;
    bool operator==(const Key &o) const { return image == o.image && vaddr == o.vaddr; }
  };
  struct KeyHash {
    size_t operator()(const Key &k) const {
      return std::hash<uint64_t>()(k.vaddr * 31 + reinterpret_cast<uintptr_t>(k.image));
    }
  };
  const std::vector<StackFrame> &lookup(ElfImage &image, uint64_t vaddr, const std::string &module);

  SymbolizeOptions opts_;
  std::unordered_map<Key, std::vector<StackFrame>, KeyHash> cache_;
  // frames of addresses in a module without an image, or in no module
  std::unordered_map<uint64_t, std::vector<StackFrame>> unknown_;
};

}  // namespace diag
