// SPDX-License-Identifier: GPL-2.0-or-later
#include "process_maps.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace diag {

namespace {

std::string basename_of(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

uint32_t kernel_dev(uint64_t st_dev) {
  return (major(st_dev) << 20) | minor(st_dev);
}

// The image of a mapping: the recorded path if it is still the same file
// (inode and device), else the process's own view of it while it lives.
std::shared_ptr<ElfImage> open_image(const Mapping &m, int32_t tgid, ElfCache &cache) {
  if (m.flags & DIAG_MAP_VDSO) return cache.vdso();
  if (m.flags & DIAG_MAP_ANON || m.path.empty() || m.path[0] != '/') return nullptr;
  auto same_file = [&](const std::shared_ptr<ElfImage> &img) {
    return img && (!m.ino || (img->ino() == m.ino && kernel_dev(img->dev()) == m.dev));
  };
  std::string path = m.path;
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() &&
      path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0)
    path.resize(path.size() - deleted.size());
  if (auto img = cache.get(path); same_file(img)) return img;
  if (tgid > 0) {
    char name[96];
    std::snprintf(name, sizeof(name), "/proc/%d/map_files/%llx-%llx", tgid,
                  static_cast<unsigned long long>(m.start),
                  static_cast<unsigned long long>(m.end));
    if (auto img = cache.get(name); same_file(img)) return img;
    if (auto img = cache.get("/proc/" + std::to_string(tgid) + "/root" + path); same_file(img))
      return img;
  }
  return nullptr;
}

}  // namespace

void ProcessMaps::add(Mapping m) {
  if (maps_.empty() || maps_.back().start <= m.start) {  // the usual order
    maps_.push_back(std::move(m));
    return;
  }
  auto it = std::upper_bound(maps_.begin(), maps_.end(), m.start,
                             [](uint64_t a, const Mapping &x) { return a < x.start; });
  maps_.insert(it, std::move(m));
}

void ProcessMaps::overlay(const ProcessMaps &newer) {
  std::vector<Mapping> kept;
  for (auto &m : maps_) {
    bool covered = false;
    for (const auto &n : newer.maps_)
      if (n.start < m.end && m.start < n.end) {
        covered = true;
        break;
      }
    if (!covered) kept.push_back(std::move(m));
  }
  maps_ = std::move(kept);
  for (const auto &n : newer.maps_) add(n);
  complete = complete && newer.complete;
}

const Mapping *ProcessMaps::find(uint64_t addr) const {
  auto it = std::upper_bound(maps_.begin(), maps_.end(), addr,
                             [](uint64_t a, const Mapping &x) { return a < x.start; });
  if (it == maps_.begin()) return nullptr;
  --it;
  return addr < it->end ? &*it : nullptr;
}

ProcessMaps ProcessMaps::parse_proc_maps(int32_t tgid, const std::string &text) {
  ProcessMaps pm(tgid, Source::kProc);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // start-end perms offset major:minor inode   path
    unsigned long long start, end, off, ino;
    unsigned maj, min;
    char perms[8];
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off,
                    &maj, &min, &ino, &path_at) < 7)
      continue;
    if (perms[2] != 'x') continue;
    Mapping m;
    m.start = start;
    m.end = end;
    m.pgoff = off;
    m.ino = ino;
    m.dev = (maj << 20) | min;
    m.path = path_at > 0 ? line.substr(path_at) : "";
    if (m.path == "[vdso]")
      m.flags = DIAG_MAP_VDSO;
    else if (m.path.empty() || m.path[0] != '/')
      m.flags = DIAG_MAP_ANON;
    pm.add(std::move(m));
  }
  return pm;
}

ProcessMaps ProcessMaps::from_proc(int32_t tgid) {
  std::ifstream in("/proc/" + std::to_string(tgid) + "/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_proc_maps(tgid, ss.str());
}

std::vector<uint64_t> TaskMapsCollector::add(const DecodedReport &report) {
  std::set<uint64_t> changed;
  for (const auto &rec : report.records) {
    if (rec.type() != DIAG_REC_TASK_MAPS) continue;
    auto r = rec.as<diag_task_map_record>();
    size_t fixed = sizeof(diag_task_map_record);
    if (rec.bytes.size() < fixed || r.path_len == 0 || r.path_len > rec.bytes.size() - fixed ||
        r.index >= r.count || r.count > kMaxMappings || r.start >= r.end)
      continue;
    const char *p = reinterpret_cast<const char *>(rec.bytes.data() + fixed);
    Mapping m;
    m.start = r.start;
    m.end = r.end;
    m.pgoff = r.pgoff;
    m.ino = r.ino;
    m.dev = r.dev;
    m.flags = r.flags;
    m.path.assign(p, strnlen(p, r.path_len));
    auto [it, added] = snaps_.try_emplace({r.mm_key, r.seq});
    Snapshot &s = it->second;
    if (added) {
      s.maps = ProcessMaps(r.tgid, ProcessMaps::Source::kSnapshot);
      s.seen.assign(r.count, false);
    }
    if (r.index < s.seen.size() && !s.seen[r.index]) {
      s.seen[r.index] = true;
      s.maps.add(std::move(m));
      changed.insert(r.mm_key);
    }
  }
  for (uint64_t key : changed) {
    // every snapshot of the address space, oldest first
    ProcessMaps merged;
    bool first = true;
    for (auto it = snaps_.lower_bound({key, 0}); it != snaps_.end() && it->first.first == key;
         ++it) {
      ProcessMaps maps = it->second.maps;
      maps.complete = std::all_of(it->second.seen.begin(), it->second.seen.end(),
                                  [](bool b) { return b; });
      if (first)
        merged = std::move(maps);
      else
        merged.overlay(maps);
      first = false;
    }
    merged_[key] = std::move(merged);
  }
  return {changed.begin(), changed.end()};
}

std::map<uint64_t, ProcessMaps> collect_task_maps(const DecodedReport &report) {
  TaskMapsCollector c;
  c.add(report);
  return c.maps();
}

AddressSpace::AddressSpace(ProcessMaps maps, ElfCache &cache) : maps_(std::move(maps)) {
  for (const auto &m : maps_.mappings()) {
    Module mod;
    mod.start = m.start;
    mod.end = m.end;
    mod.mapping = &m;
    mod.name = (m.flags & DIAG_MAP_VDSO) ? "[vdso]" : basename_of(m.path);
    if (mod.name.empty()) mod.name = "[anon]";
    mod.image = open_image(m, maps_.tgid(), cache);
    if (mod.image) {
      if (auto bias = mod.image->load_bias(m.start, m.pgoff))
        mod.bias = *bias;
      else
        mod.image = nullptr;
    }
    modules_.push_back(std::move(mod));
  }
  for (const auto &m : modules_)
    if (m.image)
      objects_.push_back({m.bias + m.image->vaddr_lo(), m.bias + m.image->vaddr_hi(), &m});
  std::sort(objects_.begin(), objects_.end(),
            [](const Object &a, const Object &b) { return a.lo < b.lo; });
}

const AddressSpace::Module *AddressSpace::module_at(uint64_t addr) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), addr,
                             [](uint64_t a, const Module &m) { return a < m.start; });
  if (it == modules_.begin()) return nullptr;
  --it;
  return addr < it->end ? &*it : nullptr;
}

const AddressSpace::Module *AddressSpace::object_at(uint64_t addr) const {
  if (const Module *m = module_at(addr); m && m->image) return m;
  // images do not overlap, so the last one starting at or below addr is it
  auto it = std::upper_bound(objects_.begin(), objects_.end(), addr,
                             [](uint64_t a, const Object &o) { return a < o.lo; });
  if (it == objects_.begin()) return nullptr;
  --it;
  return addr < it->hi ? it->module : nullptr;
}

}  // namespace diag
