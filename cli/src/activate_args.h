// SPDX-License-Identifier: GPL-2.0-or-later
// The --activate='k=v,k=v' grammar shared by every function.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag {

// One key a function accepts in its --activate string.
struct KeySpec {
  enum class Kind { kInteger, kString, kCpuList };
  std::string name;  // canonical spelling, e.g. "dump-style"
  Kind kind = Kind::kInteger;
  int64_t min = 0;  // kInteger: inclusive range
  int64_t max = 0;
  size_t max_length = 0;  // kString: longest accepted value (bytes)
  std::string help;       // one line for --help
};

// The parsed, validated keys of one --activate string.
class ActivateArgs {
 public:
  bool has(const std::string &key) const { return values_.count(key) != 0; }
  int64_t integer(const std::string &key, int64_t fallback) const;
  std::string string(const std::string &key, const std::string &fallback = "") const;
  // Keys in the order they were given.
  const std::vector<std::string> &order() const { return order_; }

  void set(const std::string &key, const std::string &value);
  const std::string &raw(const std::string &key) const { return values_.at(key); }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> order_;
};

// Parses "k=v,k=v" against the keys a function accepts.  '_' and '-' are
// the same in key names.  A comma-separated part without '=' continues the
// previous value, so "cpu=0-3,8,probe=x" keeps the CPU list whole.
// Throws UsageError with one line naming the problem.
ActivateArgs parse_activate(std::string_view text, const std::vector<KeySpec> &keys);

}  // namespace diag
