// SPDX-License-Identifier: GPL-2.0-or-later
#include "rescue.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "errors.h"
#include "output.h"

namespace diag {

namespace {

constexpr std::string_view kMagic = "diagnose-tools rescue 1";
// Bounds of what a rescue file may claim: one drain is at most 64 calls of
// 4 MiB (device.cpp), a settings struct a few KiB.
constexpr uint64_t kMaxBatchBytes = 64ull * (4u << 20);
constexpr uint64_t kMaxSettingsBytes = 1u << 20;
constexpr size_t kMaxHeaderLine = 4096;
constexpr int kMaxHeaderLines = 256;

void write_all(int fd, const void *data, size_t size, const std::string &path) {
  const char *p = static_cast<const char *>(data);
  while (size) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error("cannot write " + path + ": " +
                               std::strerror(n < 0 ? errno : ENOSPC));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::vector<std::string> rescue_dirs() {
  std::vector<std::string> dirs;
  if (const char *d = std::getenv("DIAGNOSE_RESCUE_DIR"); d && *d) dirs.emplace_back(d);
  dirs.emplace_back("/var/tmp");
  if (const char *d = std::getenv("TMPDIR"); d && *d) dirs.emplace_back(d);
  dirs.emplace_back("/tmp");
  dirs.emplace_back(".");
  return dirs;
}

std::string utc_now(const char *format) {
  time_t now = time(nullptr);
  struct tm tm {};
  gmtime_r(&now, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

template <typename T>
bool parse_int(std::string_view s, T &v) {
  int base = 10;
  if (s.starts_with("0x")) {
    s.remove_prefix(2);
    base = 16;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

RescueFile RescueFile::create(const RescueHeader &h, const std::string &reason) {
  const std::string stem = "diagnose-tools-" + h.function + "-" + utc_now("%Y%m%d-%H%M%S") +
                           "-" + std::to_string(getpid());
  std::string tried;
  for (const auto &dir : rescue_dirs()) {
    for (int n = 0; n < 100; ++n) {
      std::string path = dir + "/" + stem + (n ? "-" + std::to_string(n) : "") + ".rescue";
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) {
        tried += (tried.empty() ? "" : ", ") + dir + ": " + std::strerror(errno);
        break;
      }
      RescueFile f(fd, path);
      char functions[24];
      std::snprintf(functions, sizeof(functions), "0x%llx",
                    static_cast<unsigned long long>(h.version.functions));
      std::string module_version(h.version.module_version,
                                 strnlen(h.version.module_version, sizeof(h.version.module_version)));
      std::string head = std::string(kMagic) + "\n";
      head += "function " + h.function + "\n";
      head += "function_id " + std::to_string(h.function_id) + "\n";
      head += "abi_version " + std::to_string(h.version.abi_version) + "\n";
      head += "nr_cpu_ids " + std::to_string(h.version.nr_cpu_ids) + "\n";
      head += "functions " + std::string(functions) + "\n";
      head += "module_version " + printable(module_version) + "\n";
      head += "created " + utc_now("%Y-%m-%dT%H:%M:%SZ") + "\n";
      head += "pid " + std::to_string(getpid()) + "\n";
      head += "reason " + printable(reason) + "\n";
      head += "render diagnose-tools " + h.function + " --render " + printable(path) + "\n";
      head += "settings " + std::to_string(h.settings.size()) + "\n";
      head += "end\n";
      try {
        write_all(fd, head.data(), head.size(), path);
        write_all(fd, h.settings.data(), h.settings.size(), path);
        if (::fsync(fd) != 0) throw std::runtime_error("cannot sync " + path);
      } catch (const std::exception &e) {
        tried += (tried.empty() ? "" : ", ") + dir + ": " + e.what();
        ::unlink(path.c_str());
        break;
      }
      return f;
    }
  }
  throw std::runtime_error("no directory takes a rescue file (" + tried + ")");
}

RescueFile::RescueFile(RescueFile &&other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RescueFile::~RescueFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RescueFile::append(const ReportBytes &b) {
  std::string line = "batch " + std::to_string(b.data.size()) + " " +
                     std::to_string(b.lost_total) + " " + std::to_string(b.real_minus_mono_ns) +
                     " " + std::to_string(b.nr_cpus) + "\n";
  write_all(fd_, line.data(), line.size(), path_);
  write_all(fd_, b.data.data(), b.data.size(), path_);
  if (::fsync(fd_) != 0)
    throw std::runtime_error("cannot sync " + path_ + ": " + std::strerror(errno));
}

RescuedReport read_rescue_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  RescuedReport out;
  size_t lineno = 0;
  auto bad = [&](const std::string &why) -> MalformedInput {
    return MalformedInput(input_error(path, lineno, why));
  };
  // a header line, at most kMaxHeaderLine bytes
  auto line = [&](std::string &s) {
    s.clear();
    char c;
    while (in.get(c)) {
      if (c == '\n') {
        ++lineno;
        return true;
      }
      if (s.size() >= kMaxHeaderLine)
        throw bad("header line longer than " + std::to_string(kMaxHeaderLine) + " bytes");
      s += c;
    }
    return false;
  };
  std::string l;
  if (!line(l) || l != kMagic) {
    lineno = lineno ? lineno : 1;
    throw bad("not a diagnose-tools rescue file (no '" + std::string(kMagic) + "' line)");
  }
  uint64_t settings_size = 0;
  bool have_settings = false, have_function = false;
  for (int n = 0;; ++n) {
    if (n > kMaxHeaderLines) throw bad("no 'end' line in the first " +
                                       std::to_string(kMaxHeaderLines) + " lines");
    if (!line(l)) throw bad("the header is cut short (no 'end' line)");
    if (l == "end") break;
    size_t sp = l.find(' ');
    std::string key = l.substr(0, sp), value = sp == std::string::npos ? "" : l.substr(sp + 1);
    auto number = [&](auto &v) {
      if (!parse_int(value, v)) throw bad("'" + key + "' is not a number in range");
    };
    if (key == "function") {
      out.header.function = value;
      have_function = true;
    } else if (key == "function_id") {
      number(out.header.function_id);
    } else if (key == "abi_version") {
      number(out.header.version.abi_version);
    } else if (key == "nr_cpu_ids") {
      number(out.header.version.nr_cpu_ids);
    } else if (key == "functions") {
      number(out.header.version.functions);
    } else if (key == "module_version") {
      std::snprintf(out.header.version.module_version, sizeof(out.header.version.module_version),
                    "%s", value.c_str());
    } else if (key == "settings") {
      number(settings_size);
      if (settings_size > kMaxSettingsBytes)
        throw bad("settings of " + value + " bytes (limit " + std::to_string(kMaxSettingsBytes) +
                  ")");
      have_settings = true;
    }  // other keys are for people
  }
  if (!have_function || !have_settings) throw bad("the header lacks 'function' or 'settings'");
  out.header.settings.resize(settings_size);
  if (!in.read(reinterpret_cast<char *>(out.header.settings.data()),
               static_cast<std::streamsize>(settings_size)))
    throw bad("the settings are cut short");
  // batches: a line, then its bytes
  while (true) {
    if (in.peek() == std::char_traits<char>::eof()) break;
    if (!line(l)) throw bad("a batch line is cut short");
    char word[8] = {};
    unsigned long long bytes = 0, lost = 0;
    long long real_minus_mono = 0;
    unsigned nr_cpus = 0;
    int end = 0;
    if (std::sscanf(l.c_str(), "%7s %llu %llu %lld %u%n", word, &bytes, &lost, &real_minus_mono,
                    &nr_cpus, &end) != 5 ||
        std::string_view(word) != "batch" || static_cast<size_t>(end) != l.size())
      throw bad("not a 'batch BYTES LOST REAL_MINUS_MONO NR_CPUS' line");
    if (bytes > kMaxBatchBytes)
      throw bad("a batch of " + std::to_string(bytes) + " bytes (limit " +
                std::to_string(kMaxBatchBytes) + ")");
    ReportBytes b;
    b.data.resize(bytes);
    b.lost_total = lost;
    b.real_minus_mono_ns = real_minus_mono;
    b.nr_cpus = nr_cpus;
    if (!in.read(reinterpret_cast<char *>(b.data.data()), static_cast<std::streamsize>(bytes)))
      throw bad("the batch is cut short: " + std::to_string(in.gcount()) + " of " +
                std::to_string(bytes) + " bytes");
    out.batches.push_back(std::move(b));
  }
  if (out.batches.empty()) throw bad("no batch of records in the file");
  return out;
}

}  // namespace diag
