// SPDX-License-Identifier: GPL-2.0-or-later
// diag_symbolize_bench: the symbolizer of diagnose-tools on its own, for
// bench/symbolize.sh, which runs it against eu-addr2line and perf script on
// the same samples.
//
//   diag_symbolize_bench --maps MAPS --samples SAMPLES [--lines] [--unique]
//   diag_symbolize_bench --maps MAPS --samples SAMPLES --emit-vaddrs DIR
//
// MAPS: the process's executable mappings in /proc/PID/maps format.
// SAMPLES: one sample per line, its call chain as hex addresses, innermost
// first (the first is where the sample was; the others are return
// addresses, looked up at address - 1, as perf does).
// Default: prints every sample's frames like `perf script -F ip,sym,dso`.
// --unique: symbolizes each distinct lookup address once, in order, and
// prints one line per address: "ADDR<TAB>FUNCTION<TAB>MODULE" (with
// --lines, the inline chain and file:line too).
// --emit-vaddrs DIR: writes, per module, DIR/N.dso (its path), DIR/N.addrs
// (the distinct link-time addresses eu-addr2line takes) and DIR/N.abs (the
// same as run-time addresses, line by line), and DIR/unique.txt, every
// distinct run-time address, for --unique runs.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "elf_image.h"
#include "process_maps.h"
#include "symbolizer.h"

using namespace diag;

namespace {

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << '\n';
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<uint64_t>> read_samples(const std::string &path) {
  std::vector<std::vector<uint64_t>> samples;
  std::string text = read_file(path);
  std::vector<uint64_t> chain;
  uint64_t v = 0;
  bool in_number = false;
  for (char c : text) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d >= 0) {
      v = v << 4 | static_cast<uint64_t>(d);
      in_number = true;
      continue;
    }
    if (in_number) chain.push_back(v);
    v = 0;
    in_number = false;
    if (c == '\n' && !chain.empty()) {
      samples.push_back(std::move(chain));
      chain.clear();
    }
  }
  if (in_number) chain.push_back(v);
  if (!chain.empty()) samples.push_back(std::move(chain));
  return samples;
}

void put_hex(std::string &out, uint64_t v, int width) {
  char buf[17];
  int n = 0;
  do {
    buf[16 - n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  for (int i = n; i < width; ++i) out += ' ';
  out.append(buf + 17 - n, n);
}

void print_frame(std::string &out, uint64_t addr, const StackFrame &f, bool lines) {
  out += '\t';
  put_hex(out, addr, 16);
  out += ' ';
  out += f.symbol;
  if (lines && f.file) {
    out += " at ";
    out += *f.file;
    if (f.line) {
      out += ':';
      out += std::to_string(*f.line);
    }
  }
  if (f.inlined) out += " [inlined]";
  out += " (";
  out += f.module;
  out += ")\n";
}

}  // namespace

int main(int argc, char **argv) {
  std::string maps_path, samples_path, emit_dir;
  bool lines = false, unique = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--maps" && i + 1 < argc)
      maps_path = argv[++i];
    else if (a == "--samples" && i + 1 < argc)
      samples_path = argv[++i];
    else if (a == "--emit-vaddrs" && i + 1 < argc)
      emit_dir = argv[++i];
    else if (a == "--lines")
      lines = true;
    else if (a == "--unique")
      unique = true;
    else {
      std::cerr << "usage: diag_symbolize_bench --maps MAPS --samples SAMPLES [--lines] "
                   "[--unique] [--emit-vaddrs DIR]\n";
      return 2;
    }
  }
  if (maps_path.empty() || samples_path.empty()) return 2;

  ElfCache cache;
  AddressSpace space(ProcessMaps::parse_proc_maps(0, read_file(maps_path)), cache);
  auto samples = read_samples(samples_path);
  Symbolizer symbolizer(SymbolizeOptions{lines});

  if (!emit_dir.empty()) {
    // distinct lookup addresses, per module, as eu-addr2line wants them
    std::map<const AddressSpace::Module *, std::map<uint64_t, uint64_t>> per_module;
    std::set<uint64_t> all;
    for (const auto &chain : samples)
      for (size_t i = 0; i < chain.size(); ++i) {
        uint64_t at = i ? chain[i] - 1 : chain[i];
        const AddressSpace::Module *m = space.module_at(at);
        // files only: eu-addr2line cannot read the vDSO
        if (!m || !m->image || m->image->path()[0] != '/') continue;
        per_module[m][at - m->bias] = at;
        all.insert(at);
      }
    int n = 0;
    for (const auto &[m, vaddrs] : per_module) {
      std::ofstream(emit_dir + "/" + std::to_string(n) + ".dso") << m->image->path() << '\n';
      std::ofstream out(emit_dir + "/" + std::to_string(n) + ".addrs");
      std::ofstream abs(emit_dir + "/" + std::to_string(n) + ".abs");
      for (auto [v, a] : vaddrs) {
        out << "0x" << std::hex << v << '\n';
        abs << std::hex << a << '\n';
      }
      ++n;
    }
    std::ofstream out(emit_dir + "/unique.txt");
    for (uint64_t a : all) out << std::hex << a << '\n';
    return 0;
  }

  std::string out;
  out.reserve(8 << 20);
  if (unique) {
    for (const auto &chain : samples) {
      for (const auto &f : symbolizer.frames_at(space, chain[0], false)) {
        put_hex(out, chain[0], 0);
        out += '\t';
        out += f.symbol;
        out += '\t';
        out += f.module;
        if (lines && f.file) out += "\t" + *f.file + ":" + std::to_string(f.line.value_or(0));
        out += '\n';
      }
    }
  } else {
    for (const auto &chain : samples) {
      for (size_t i = 0; i < chain.size(); ++i)
        for (const auto &f : symbolizer.frames_at(space, chain[i], i > 0))
          print_frame(out, chain[i], f, lines);
      out += '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
