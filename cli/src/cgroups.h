// SPDX-License-Identifier: GPL-2.0-or-later
// cgroup v2 ids (what the module records: the cgroup's kernfs id, which is
// the inode number of its directory in cgroupfs) to paths like
// "/system.slice/foo.service", by walking the cgroup2 mount once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace diag {

class CgroupNames {
 public:
  // live = false: looks at no mount; every id is "[cgroup id N]".
  explicit CgroupNames(bool live = true) : live_(live) {}
  // "/" for the root; "[cgroup id N]" when no cgroup has that id now
  // (removed since, or no cgroup2 mount to look in).  An id not known is
  // looked for again after a second (cgroups made during a --follow).
  std::string path(uint64_t id);

 private:
  void scan();
  bool live_;
  bool scanned_ = false;
  std::chrono::steady_clock::time_point scanned_at_;
  std::unordered_map<uint64_t, std::string> paths_;
};

}  // namespace diag
