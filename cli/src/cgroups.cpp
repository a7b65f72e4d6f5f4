// SPDX-License-Identifier: GPL-2.0-or-later
#include "cgroups.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace diag {

namespace {

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ... mount-point ... - fstype source options
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream f(line.substr(0, dash));
    std::string id, parent, devno, root, point;
    if (f >> id >> parent >> devno >> root >> point) return point;
  }
  return "";
}

}  // namespace

void CgroupNames::scan() {
  scanned_ = true;
  scanned_at_ = std::chrono::steady_clock::now();
  if (!live_) return;
  std::string root = cgroup2_mount();
  if (root.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  struct stat st;
  if (::stat(root.c_str(), &st) == 0) paths_[st.st_ino] = "/";
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied,
                                                  ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (::stat(it->path().c_str(), &st) == 0)
      paths_[st.st_ino] = it->path().string().substr(root.size());
  }
}

std::string CgroupNames::path(uint64_t id) {
  if (id == 0) return "";
  if (!scanned_) scan();
  auto it = paths_.find(id);
  if (it == paths_.end() && live_ &&
      std::chrono::steady_clock::now() - scanned_at_ > std::chrono::seconds(1)) {
    scan();
    it = paths_.find(id);
  }
  if (it != paths_.end()) return it->second;
  return "[cgroup id " + std::to_string(id) + "]";
}

}  // namespace diag
