// SPDX-License-Identifier: GPL-2.0-or-later
// The executable mappings of a process, as the module snapshotted them
// (DIAG_REC_TASK_MAPS records) or, as a fallback, as /proc/PID/maps shows
// them now; and an AddressSpace that ties each mapping to its ELF image and
// load bias, which the unwinder and the symbolizer share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "elf_image.h"
#include "records.h"

namespace diag {

struct Mapping {
  uint64_t start = 0, end = 0;  // [start, end)
  uint64_t pgoff = 0;           // file offset of start
  std::string path;             // "[vdso]", "[anon]" for those
  uint64_t ino = 0;
  uint32_t dev = 0;             // (major << 20) | minor
  uint32_t flags = 0;           // DIAG_MAP_*
};

class ProcessMaps {
 public:
  enum class Source { kSnapshot, kProc, kSnapshotAndProc };
  ProcessMaps() = default;
  ProcessMaps(int32_t tgid, Source source) : tgid_(tgid), source_(source) {}
  // The same mappings, said to come from `source`.
  ProcessMaps(const ProcessMaps &other, Source source) : ProcessMaps(other) { source_ = source; }

  // The executable mappings /proc/PID/maps lists now; empty if none.
  static ProcessMaps from_proc(int32_t tgid);
  // Parses the text of a maps file (for tests and the benchmark).
  static ProcessMaps parse_proc_maps(int32_t tgid, const std::string &text);

  void add(Mapping m);
  // Lays a newer view over this one: its mappings replace the ones they
  // overlap, the others stay (a library unloaded since keeps its range).
  void overlay(const ProcessMaps &newer);
  // The mapping containing addr, or nullptr.
  const Mapping *find(uint64_t addr) const;
  const std::vector<Mapping> &mappings() const { return maps_; }
  int32_t tgid() const { return tgid_; }
  Source source() const { return source_; }
  bool complete = true;  // snapshot: every record of it arrived

 private:
  int32_t tgid_ = 0;
  Source source_ = Source::kSnapshot;
  std::vector<Mapping> maps_;  // sorted by start
};

// The address-space snapshots of a stream of reports, by mm_key; several
// snapshots of one address space (taken as it mapped more code) are
// overlaid in order, and a snapshot may be split over two reports.
class TaskMapsCollector {
 public:
  // A snapshot of more mappings than this is not one the module wrote
  // (it keeps 4096 per address space): its records are ignored.
  static constexpr uint32_t kMaxMappings = 8192;

  // Takes the DIAG_REC_TASK_MAPS records of a report; returns the mm_keys
  // whose mappings changed.
  std::vector<uint64_t> add(const DecodedReport &report);
  const std::map<uint64_t, ProcessMaps> &maps() const { return merged_; }

 private:
  struct Snapshot {
    ProcessMaps maps;
    std::vector<bool> seen;  // by index
  };
  // (mm_key, seq) -> snapshot; a snapshot written twice (retried after the
  // ring was full) has its duplicates dropped by index
  std::map<std::pair<uint64_t, uint32_t>, Snapshot> snaps_;
  std::map<uint64_t, ProcessMaps> merged_;
};

// Every address-space snapshot in one report, by mm_key.
std::map<uint64_t, ProcessMaps> collect_task_maps(const DecodedReport &report);

// A process's mappings with their ELF images opened.
class AddressSpace {
 public:
  struct Module {
    uint64_t start = 0, end = 0;      // the executable mapping
    std::shared_ptr<ElfImage> image;  // null when the file could not be opened
    uint64_t bias = 0;                // run-time minus link-time address
    std::string name;                 // "libc.so.6", "[vdso]"
    const Mapping *mapping = nullptr;
  };

  AddressSpace(ProcessMaps maps, ElfCache &cache);
  AddressSpace(const AddressSpace &) = delete;  // modules point into maps_
  AddressSpace &operator=(const AddressSpace &) = delete;
  // The executable mapping containing addr, or nullptr.
  const Module *module_at(uint64_t addr) const;
  // The module whose loaded image covers addr (any of its segments).
  const Module *object_at(uint64_t addr) const;
  const ProcessMaps &maps() const { return maps_; }

 private:
  ProcessMaps maps_;
  std::vector<Module> modules_;  // sorted by start
  struct Object {
    uint64_t lo, hi;  // run-time extent of a module's image
    const Module *module;
  };
  std::vector<Object> objects_;  // sorted by lo
};

}  // namespace diag
