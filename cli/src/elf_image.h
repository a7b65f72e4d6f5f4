// SPDX-License-Identifier: GPL-2.0-or-later
// ELF files as the user-space symbolizer and unwinder need them: opened
// once and mapped read-only (libelf), with a sorted symbol table, the
// .eh_frame_hdr search table for CFI unwinding, and, on demand, DWARF line
// and inline information (elfutils libdw).  Symbols and DWARF come from the
// file itself or, when it is stripped, from its separate debug file
// (/usr/lib/debug/.build-id/xx/yyyy.debug or .gnu_debuglink).
//
// Addresses here are link-time virtual addresses ("vaddr"); a mapping's
// load_bias() turns run-time addresses into them.  Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct Elf;
struct Dwarf;

namespace diag {

class DwarfScopes;

// One frame of the inline chain at an address, innermost first.
struct SourceFrame {
  std::string function;  // demangled; empty when DWARF has no name
  std::string file;      // empty when unknown
  int line = 0;          // 0 when unknown
  bool inlined = false;  // inlined into the next frame of the chain
};

class ElfImage {
 public:
  struct Symbol {
    uint64_t addr = 0;
    uint64_t size = 0;
    const char *name = nullptr;  // mangled, inside the ELF image
  };
  struct EhFrameHdr {
    uint64_t vaddr = 0;        // of .eh_frame_hdr
    uint64_t table_vaddr = 0;  // of its binary-search table
    uint64_t fde_count = 0;
  };

  // Opens an ELF file; nullptr when it cannot be read or is not ELF.
  static std::shared_ptr<ElfImage> open(const std::string &path);
  // An ELF image held in memory (the vDSO); takes the bytes.
  static std::shared_ptr<ElfImage> from_bytes(const std::string &name, std::vector<uint8_t> bytes);

  ~ElfImage();
  ElfImage(const ElfImage &) = delete;
  ElfImage &operator=(const ElfImage &) = delete;

  const std::string &path() const { return path_; }
  uint64_t ino() const { return ino_; }
  uint64_t dev() const { return dev_; }  // st_dev

  // Run-time minus link-time address for a mapping of this file that starts
  // at map_start and maps file offset map_pgoff; nullopt when no loadable
  // segment covers that offset.
  std::optional<uint64_t> load_bias(uint64_t map_start, uint64_t map_pgoff) const;
  // [vaddr_lo, vaddr_hi): every loadable segment.
  uint64_t vaddr_lo() const { return vaddr_lo_; }
  uint64_t vaddr_hi() const { return vaddr_hi_; }
  // Reads file-backed bytes at a link-time address; false outside them.
  bool read(uint64_t vaddr, void *out, size_t n) const;

  const std::optional<EhFrameHdr> &eh_frame_hdr() const { return eh_frame_hdr_; }

  // The function symbol containing vaddr, or nullptr.
  const Symbol *symbol(uint64_t vaddr);
  // The demangled name of a symbol this image returned (cached).
  const std::string &demangled(const Symbol &sym);
  // The inline chain at vaddr from DWARF, innermost first; the outermost
  // entry is the real function.  Empty when there is no DWARF for vaddr.
  std::vector<SourceFrame> source(uint64_t vaddr);

 private:
  ElfImage() = default;
  bool init(Elf *elf, const std::string &path);
  void load_symbols();
  void open_debug_file();
  Dwarf *dwarf();

  std::string path_;
  uint64_t ino_ = 0, dev_ = 0;
  Elf *elf_ = nullptr;
  const uint8_t *raw_ = nullptr;  // the whole file
  size_t raw_size_ = 0;
  std::vector<uint8_t> owned_;    // from_bytes()
  struct Segment {
    uint64_t vaddr, memsz, offset, filesz;
  };
  std::vector<Segment> loads_;
  uint64_t vaddr_lo_ = 0, vaddr_hi_ = 0;
  std::optional<EhFrameHdr> eh_frame_hdr_;
  std::string build_id_;   // hex
  std::string debuglink_;  // .gnu_debuglink file name

  bool symbols_loaded_ = false;
  std::vector<Symbol> symbols_;  // sorted by addr, one per address, all sized
  std::deque<std::string> plt_names_;  // "name@plt", which symbols_ point into
  std::unordered_map<const char *, std::string> demangled_;

  bool debug_tried_ = false;
  std::shared_ptr<ElfImage> debug_;  // separate debug file
  bool dwarf_tried_ = false;
  Dwarf *dwarf_ = nullptr;
  ElfImage *dwarf_owner_ = nullptr;  // this or debug_
  std::unique_ptr<DwarfScopes> scopes_;  // inline chains, per compile unit
};

// Images by path, opened once per run; also the vDSO.
class ElfCache {
 public:
  // files = false: opens nothing (offline reports: tests, fuzzing).
  explicit ElfCache(bool files = true) : files_(files) {}
  // nullptr (remembered) when the file cannot be opened.
  std::shared_ptr<ElfImage> get(const std::string &path);
  // This process's vDSO: the kernel maps the same image into every
  // 64-bit process, so it symbolizes theirs too.
  std::shared_ptr<ElfImage> vdso();

 private:
  std::unordered_map<std::string, std::shared_ptr<ElfImage>> images_;
  bool files_;
  bool vdso_tried_ = false;
  std::shared_ptr<ElfImage> vdso_;
};

// abi::__cxa_demangle, or the name itself when it is not a C++ name.
std::string demangle(const char *name);

}  // namespace diag
