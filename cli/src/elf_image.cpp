// SPDX-License-Identifier: GPL-2.0-or-later
#include "elf_image.h"

#include "dwarf_scopes.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace diag {

namespace {

void elf_library_init() {
  static bool done = [] { return elf_version(EV_CURRENT) != EV_NONE; }();
  (void)done;
}

int binding_rank(unsigned char bind) {
  switch (bind) {
    case STB_GLOBAL:
      return 0;
    case STB_WEAK:
      return 1;
    default:
      return 2;
  }
}

size_t leading_underscores(const char *s) {
  size_t n = 0;
  while (s[n] == '_') ++n;
  return n;
}

bool file_exists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string die_name(Dwarf_Die *die) {
  Dwarf_Attribute attr;
  const char *s = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
    s = dwarf_formstring(&attr);
  if (s) return demangle(s);
  if (dwarf_attr_integrate(die, DW_AT_name, &attr)) s = dwarf_formstring(&attr);
  return s ? s : "";
}

}  // namespace

std::string demangle(const char *name) {
  // versioned definitions in .symtab: "memcpy@@GLIBC_2.14"; PLT stubs: "f@plt"
  if (const char *at = std::strchr(name, '@')) {
    std::string base = demangle(std::string(name, at).c_str());
    return std::strcmp(at, "@plt") == 0 ? base + "@plt" : base;
  }
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char *out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (!out) return name;
  std::string s(out);
  std::free(out);
  return s;
}

std::shared_ptr<ElfImage> ElfImage::open(const std::string &path) {
  elf_library_init();
  // a path from a record may name a FIFO or a device: do not wait on it
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return nullptr;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf) elf_cntl(elf, ELF_C_FDDONE);  // everything is mapped now
  ::close(fd);
  if (!elf) return nullptr;
  std::shared_ptr<ElfImage> img(new ElfImage());
  img->ino_ = st.st_ino;
  img->dev_ = st.st_dev;
  if (!img->init(elf, path)) return nullptr;
  return img;
}

std::shared_ptr<ElfImage> ElfImage::from_bytes(const std::string &name,
                                               std::vector<uint8_t> bytes) {
  elf_library_init();
  std::shared_ptr<ElfImage> img(new ElfImage());
  img->owned_ = std::move(bytes);
  Elf *elf = elf_memory(reinterpret_cast<char *>(img->owned_.data()), img->owned_.size());
  if (!elf || !img->init(elf, name)) return nullptr;
  return img;
}

ElfImage::~ElfImage() {
  if (dwarf_) dwarf_end(dwarf_);
  if (elf_) elf_end(elf_);
}

bool ElfImage::init(Elf *elf, const std::string &path) {
  elf_ = elf;
  path_ = path;
  GElf_Ehdr ehdr;
  if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) return false;
  raw_ = reinterpret_cast<const uint8_t *>(elf_rawfile(elf, &raw_size_));
  if (!raw_) return false;

  size_t nphdr = 0;
  if (elf_getphdrnum(elf, &nphdr) != 0) return false;
  std::optional<GElf_Phdr> eh_phdr;
  bool first = true;
  for (size_t i = 0; i < nphdr; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf, static_cast<int>(i), &ph)) continue;
    if (ph.p_type == PT_LOAD) {
      loads_.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz});
      vaddr_lo_ = first ? ph.p_vaddr : std::min<uint64_t>(vaddr_lo_, ph.p_vaddr);
      vaddr_hi_ = std::max<uint64_t>(vaddr_hi_, ph.p_vaddr + ph.p_memsz);
      first = false;
    } else if (ph.p_type == PT_GNU_EH_FRAME) {
      eh_phdr = ph;
    } else if (ph.p_type == PT_NOTE && build_id_.empty()) {
      // Elf64_Nhdr records: namesz, descsz, type, name, desc (4-aligned)
      uint64_t off = ph.p_offset, end = ph.p_offset + ph.p_filesz;
      while (end <= raw_size_ && off + 12 <= end) {
        uint32_t namesz, descsz, type;
        std::memcpy(&namesz, raw_ + off, 4);
        std::memcpy(&descsz, raw_ + off + 4, 4);
        std::memcpy(&type, raw_ + off + 8, 4);
        uint64_t name = off + 12, desc = name + ((namesz + 3) & ~3u);
        uint64_t next = desc + ((descsz + 3) & ~3ull);
        if (next > end) break;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !std::memcmp(raw_ + name, "GNU", 4)) {
          static const char hexd[] = "0123456789abcdef";
          for (uint32_t k = 0; k < descsz; ++k) {
            build_id_ += hexd[raw_[desc + k] >> 4];
            build_id_ += hexd[raw_[desc + k] & 15];
          }
          break;
        }
        off = next;
      }
    }
  }
  if (loads_.empty()) return false;

  // .eh_frame_hdr: version 1, then the encodings of eh_frame_ptr,
  // fde_count and the table; libunwind searches only a table of
  // (datarel|sdata4) pairs.
  if (eh_phdr) {
    uint8_t h[4];
    uint64_t v = eh_phdr->p_vaddr;
    if (read(v, h, 4) && h[0] == 1 && h[3] == (DW_EH_PE_datarel | DW_EH_PE_sdata4)) {
      uint64_t pos = v + 4;
      auto skip_encoded = [&](uint8_t enc, uint64_t *value) {
        switch (enc & 0x0f) {
          case DW_EH_PE_udata4:
          case DW_EH_PE_sdata4: {
            uint32_t x;
            if (!read(pos, &x, 4)) return false;
            *value = x;
            pos += 4;
            return true;
          }
          case DW_EH_PE_udata8:
          case DW_EH_PE_sdata8:
          case DW_EH_PE_absptr: {
            uint64_t x;
            if (!read(pos, &x, 8)) return false;
            *value = x;
            pos += 8;
            return true;
          }
          default:
            return false;
        }
      };
      uint64_t eh_frame_ptr = 0, fde_count = 0;
      if (h[1] != DW_EH_PE_omit && skip_encoded(h[1], &eh_frame_ptr) &&
          h[2] != DW_EH_PE_omit && skip_encoded(h[2], &fde_count))
        eh_frame_hdr_ = EhFrameHdr{v, pos, fde_count};
    }
  }

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
    for (Elf_Scn *scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
      GElf_Shdr sh;
      if (!gelf_getshdr(scn, &sh)) continue;
      const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
      if (name && !std::strcmp(name, ".gnu_debuglink")) {
        Elf_Data *d = elf_getdata(scn, nullptr);
        if (d && d->d_size > 4) debuglink_.assign(static_cast<const char *>(d->d_buf),
                                                   strnlen(static_cast<const char *>(d->d_buf),
                                                           d->d_size - 4));
      }
    }
  }
  return true;
}

std::optional<uint64_t> ElfImage::load_bias(uint64_t map_start, uint64_t map_pgoff) const {
  const Segment *best = nullptr;
  for (const auto &s : loads_) {
    uint64_t page_off = s.offset & ~0xfffull;
    if (page_off == map_pgoff) {
      best = &s;
      break;
    }
    if (!best && map_pgoff >= page_off && map_pgoff < s.offset + s.filesz) best = &s;
  }
  if (!best) return std::nullopt;
  // the mapping's first byte is file offset map_pgoff, i.e. this vaddr:
  uint64_t vaddr = best->vaddr - (best->offset - map_pgoff);
  return map_start - vaddr;
}

bool ElfImage::read(uint64_t vaddr, void *out, size_t n) const {
  for (const auto &s : loads_) {
    if (vaddr >= s.vaddr && vaddr + n <= s.vaddr + s.filesz) {
      uint64_t off = s.offset + (vaddr - s.vaddr);
      if (off + n > raw_size_) return false;
      std::memcpy(out, raw_ + off, n);
      return true;
    }
  }
  return false;
}

namespace {

struct Candidate {
  ElfImage::Symbol sym;
  int rank;
  uint64_t section_end;  // symbols without a size end here at the latest
};

// Function symbols of one symbol table section.
bool collect_symbols(Elf *elf, Elf64_Word type, std::vector<Candidate> &all) {
  Elf_Scn *found = nullptr;
  GElf_Shdr found_sh{};
  for (Elf_Scn *scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) && sh.sh_type == type) {
      found = scn;
      found_sh = sh;
      break;
    }
  }
  if (!found) return false;
  Elf_Data *data = elf_getdata(found, nullptr);
  if (!data || !found_sh.sh_entsize) return false;
  size_t n = found_sh.sh_size / found_sh.sh_entsize;
  size_t before = all.size();
  for (size_t i = 1; i < n; ++i) {
    GElf_Sym s;
    if (!gelf_getsym(data, static_cast<int>(i), &s)) continue;
    int st = GELF_ST_TYPE(s.st_info);
    if ((st != STT_FUNC && st != STT_GNU_IFUNC && st != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
        s.st_shndx >= SHN_LORESERVE || !s.st_value)
      continue;
    const char *name = elf_strptr(elf, found_sh.sh_link, s.st_name);
    if (!name || !*name) continue;
    uint64_t end = UINT64_MAX;
    GElf_Shdr sec;
    bool exec = false;
    if (Elf_Scn *scn = elf_getscn(elf, s.st_shndx); scn && gelf_getshdr(scn, &sec)) {
      end = sec.sh_addr + sec.sh_size;
      exec = sec.sh_flags & SHF_EXECINSTR;
    }
    // assembly entry points (_start) are labels without a type: keep those
    // in code, below any function at the same address
    int rank = binding_rank(GELF_ST_BIND(s.st_info));
    if (st == STT_NOTYPE) {
      if (!exec || name[0] == '$' || name[0] == '.') continue;
      rank += 3;
    }
    all.push_back({{s.st_value, s.st_size, name}, rank, end});
  }
  return all.size() > before;
}

// "name@plt" for the PLT stubs, from the file's .rela.plt (x86-64 layout:
// with IBT a .plt.sec entry of 16 bytes per relocation, else .plt entries
// of 16 bytes after the 16-byte PLT0).  Debug files have no PLT.
void collect_plt(Elf *elf_, std::deque<std::string> &plt_names_, std::vector<Candidate> &all) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf_, &shstrndx) != 0) return;
  Elf_Scn *rela = nullptr;
  GElf_Shdr rela_sh{}, plt_sh{}, plt_sec_sh{};
  bool have_plt = false, have_plt_sec = false;
  for (Elf_Scn *scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char *name = elf_strptr(elf_, shstrndx, sh.sh_name);
    if (!name || sh.sh_type == SHT_NOBITS) continue;
    if (!std::strcmp(name, ".rela.plt")) {
      rela = scn;
      rela_sh = sh;
    } else if (!std::strcmp(name, ".plt")) {
      plt_sh = sh;
      have_plt = true;
    } else if (!std::strcmp(name, ".plt.sec")) {
      plt_sec_sh = sh;
      have_plt_sec = true;
    }
  }
  if (!rela || !(have_plt || have_plt_sec) || !rela_sh.sh_entsize) return;
  Elf_Data *data = elf_getdata(rela, nullptr);
  Elf_Scn *dynsym = elf_getscn(elf_, rela_sh.sh_link);
  GElf_Shdr dynsym_sh;
  if (!data || !dynsym || !gelf_getshdr(dynsym, &dynsym_sh)) return;
  Elf_Data *syms = elf_getdata(dynsym, nullptr);
  if (!syms) return;
  uint64_t base = have_plt_sec ? plt_sec_sh.sh_addr : plt_sh.sh_addr + 16;
  uint64_t end = have_plt_sec ? plt_sec_sh.sh_addr + plt_sec_sh.sh_size
                              : plt_sh.sh_addr + plt_sh.sh_size;
  size_t n = rela_sh.sh_size / rela_sh.sh_entsize;
  for (size_t i = 0; i < n; ++i) {
    GElf_Rela r;
    GElf_Sym sym;
    if (!gelf_getrela(data, static_cast<int>(i), &r) ||
        !gelf_getsym(syms, static_cast<int>(GELF_R_SYM(r.r_info)), &sym))
      continue;
    const char *name = elf_strptr(elf_, dynsym_sh.sh_link, sym.st_name);
    uint64_t addr = base + 16 * i;
    if (addr + 16 > end) continue;
    // IRELATIVE slots (ifuncs resolved at load time) have no symbol
    plt_names_.push_back(name && *name ? std::string(name) + "@plt" : "[plt]");
    all.push_back({{addr, 16, plt_names_.back().c_str()}, 0, end});
  }
}

}  // namespace

void ElfImage::load_symbols() {
  symbols_loaded_ = true;
  std::vector<Candidate> all;
  if (!collect_symbols(elf_, SHT_SYMTAB, all)) {
    // stripped: the debug file's full table beats the exported one
    open_debug_file();
    if (!debug_ || !collect_symbols(debug_->elf_, SHT_SYMTAB, all))
      collect_symbols(elf_, SHT_DYNSYM, all);
  }
  collect_plt(elf_, plt_names_, all);
  // one symbol per address: sized, global, not a compat version
  // ("cfree@GLIBC_2.2.5"), fewest leading underscores, longest name (else
  // the choice perf makes among aliases)
  auto alias = [](const char *n) { return std::strchr(n, '@') && !std::strstr(n, "@plt"); };
  std::sort(all.begin(), all.end(), [&](const Candidate &a, const Candidate &b) {
    if (a.sym.addr != b.sym.addr) return a.sym.addr < b.sym.addr;
    if ((a.sym.size != 0) != (b.sym.size != 0)) return a.sym.size != 0;
    if (a.rank != b.rank) return a.rank < b.rank;
    if (alias(a.sym.name) != alias(b.sym.name)) return !alias(a.sym.name);
    size_t ua = leading_underscores(a.sym.name), ub = leading_underscores(b.sym.name);
    if (ua != ub) return ua < ub;
    return std::strlen(a.sym.name) > std::strlen(b.sym.name);
  });
  std::vector<uint64_t> ends;
  symbols_.clear();
  for (const auto &c : all) {
    if (!symbols_.empty() && symbols_.back().addr == c.sym.addr) continue;
    symbols_.push_back(c.sym);
    ends.push_back(c.section_end);
  }
  // a symbol without a size runs to the next symbol or its section's end
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].size) continue;
    uint64_t end = ends[i];
    if (i + 1 < symbols_.size()) end = std::min(end, symbols_[i + 1].addr);
    symbols_[i].size = end > symbols_[i].addr && end != UINT64_MAX ? end - symbols_[i].addr : 1;
  }
}

void ElfImage::open_debug_file() {
  if (debug_tried_) return;
  debug_tried_ = true;
  std::vector<std::string> candidates;
  if (build_id_.size() > 2)
    candidates.push_back("/usr/lib/debug/.build-id/" + build_id_.substr(0, 2) + "/" +
                         build_id_.substr(2) + ".debug");
  if (!debuglink_.empty()) {
    std::string dir = path_.substr(0, path_.rfind('/') + 1);
    candidates.push_back(dir + debuglink_);
    candidates.push_back(dir + ".debug/" + debuglink_);
    candidates.push_back("/usr/lib/debug" + dir + debuglink_);
  }
  for (const auto &c : candidates) {
    if (c == path_ || !file_exists(c)) continue;
    debug_ = ElfImage::open(c);
    if (debug_) return;
  }
}

const ElfImage::Symbol *ElfImage::symbol(uint64_t vaddr) {
  if (!symbols_loaded_) load_symbols();
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                             [](uint64_t a, const Symbol &s) { return a < s.addr; });
  if (it == symbols_.begin()) return nullptr;
  const Symbol &s = *(it - 1);
  return vaddr - s.addr < s.size ? &s : nullptr;
}

const std::string &ElfImage::demangled(const Symbol &sym) {
  auto [it, added] = demangled_.try_emplace(sym.name);
  if (added) it->second = demangle(sym.name);
  return it->second;
}

Dwarf *ElfImage::dwarf() {
  if (dwarf_tried_) return dwarf_;
  dwarf_tried_ = true;
  dwarf_ = dwarf_begin_elf(elf_, DWARF_C_READ, nullptr);
  if (!dwarf_) {
    open_debug_file();
    if (debug_) dwarf_ = dwarf_begin_elf(debug_->elf_, DWARF_C_READ, nullptr);
  }
  return dwarf_;
}

std::vector<SourceFrame> ElfImage::source(uint64_t vaddr) {
  std::vector<SourceFrame> out;
  Dwarf *dbg = dwarf();
  Dwarf_Die cu;
  if (!dbg || !dwarf_addrdie(dbg, vaddr, &cu)) return out;

  std::string file;
  int line = 0;
  if (Dwarf_Line *l = dwarf_getsrc_die(&cu, vaddr)) {
    if (const char *f = dwarf_linesrc(l, nullptr, nullptr)) file = f;
    dwarf_lineno(l, &line);
  }
  Dwarf_Files *files = nullptr;
  size_t nfiles = 0;
  bool have_files = dwarf_getsrcfiles(&cu, &files, &nfiles) == 0;

  // The physical nesting at the address: inlined instances out to the
  // function they were inlined into (not the scopes of an instance's
  // abstract definition, where the inlined function was written).
  if (!scopes_) scopes_ = std::make_unique<DwarfScopes>(dbg);
  std::vector<Dwarf_Die> scopes = scopes_->chain(&cu, vaddr);
  if (scopes.empty()) {
    // code in a place the index does not look (an imported unit, say):
    // libdw's two walks, as eu-addr2line -i does them
    Dwarf_Die *pc_scopes = nullptr, *nested = nullptr;
    int n = dwarf_getscopes(&cu, vaddr, &pc_scopes);
    if (n > 0) n = dwarf_getscopes_die(&pc_scopes[0], &nested);
    if (n > 0) scopes.assign(nested, nested + n);
    std::free(pc_scopes);
    std::free(nested);
  }
  for (size_t i = 0; i < scopes.size(); ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_inlined_subroutine) {
      out.push_back({die_name(&scopes[i]), file, line, true});
      // the caller continues at the call site of this inlined instance
      Dwarf_Attribute attr;
      Dwarf_Word w;
      file.clear();
      line = 0;
      if (have_files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &w) == 0)
        if (const char *f = dwarf_filesrc(files, w, nullptr, nullptr)) file = f;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &w) == 0)
        line = static_cast<int>(w);
    } else if (tag == DW_TAG_subprogram) {
      out.push_back({die_name(&scopes[i]), file, line, false});
      break;
    }
  }
  if (out.empty() && !file.empty()) out.push_back({"", file, line, false});
  return out;
}

std::shared_ptr<ElfImage> ElfCache::get(const std::string &path) {
  if (!files_) return nullptr;
  auto [it, added] = images_.try_emplace(path);
  if (added) it->second = ElfImage::open(path);
  return it->second;
}

std::shared_ptr<ElfImage> ElfCache::vdso() {
  if (vdso_tried_ || !files_) return vdso_;
  vdso_tried_ = true;
  auto base = reinterpret_cast<const uint8_t *>(getauxval(AT_SYSINFO_EHDR));
  if (!base) return nullptr;
  Elf64_Ehdr eh;
  std::memcpy(&eh, base, sizeof(eh));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
    return nullptr;
  // section headers come last in the vDSO image
  size_t size = eh.e_shoff + static_cast<size_t>(eh.e_shnum) * eh.e_shentsize;
  if (size < sizeof(eh) || size > (1u << 20)) return nullptr;
  vdso_ = ElfImage::from_bytes("[vdso]", std::vector<uint8_t>(base, base + size));
  return vdso_;
}

}  // namespace diag
