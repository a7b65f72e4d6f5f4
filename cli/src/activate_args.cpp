// SPDX-License-Identifier: GPL-2.0-or-later
#include "activate_args.h"

#include <algorithm>
#include <charconv>

#include "cpu_list.h"
#include "errors.h"

namespace diag {

namespace {

std::string canonical_key(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string key_list(const std::vector<KeySpec> &keys) {
  std::string out;
  for (const auto &k : keys) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

void validate(const KeySpec &spec, const std::string &value) {
  const std::string where = "'" + spec.name + "'";
  switch (spec.kind) {
    case KeySpec::Kind::kInteger: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || end != value.data() + value.size()) {
        throw UsageError(where + " must be an integer, got '" + value + "'");
      }
      if (ec == std::errc::result_out_of_range || v < spec.min || v > spec.max) {
        throw UsageError(where + " must be in " + std::to_string(spec.min) + ".." +
                         std::to_string(spec.max) + ", got " + value);
      }
      break;
    }
    case KeySpec::Kind::kString:
      if (value.size() > spec.max_length) {
        throw UsageError(where + " is longer than " + std::to_string(spec.max_length) +
                         " characters: '" + value + "'");
      }
      break;
    case KeySpec::Kind::kCpuList:
      // the range check against the machine's CPUs happens at activation
      parse_cpu_list(value, kMaxCpus);
      break;
  }
}

}  // namespace

int64_t ActivateArgs::integer(const std::string &key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  int64_t v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

std::string ActivateArgs::string(const std::string &key, const std::string &fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

void ActivateArgs::set(const std::string &key, const std::string &value) {
  if (!values_.count(key)) order_.push_back(key);
  values_[key] = value;
}

ActivateArgs parse_activate(std::string_view text, const std::vector<KeySpec> &keys) {
  // split on ',' into key=value items; parts without '=' continue a value
  std::vector<std::pair<std::string, std::string>> items;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string part = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      if (part.empty()) {
        if (comma == text.size() && !items.empty()) break;  // trailing comma
        throw UsageError("empty item in --activate string '" + std::string(text) +
                         "'");
      }
      if (items.empty()) {
        throw UsageError("'" + part + "' is not key=value (valid keys: " +
                         key_list(keys) + ")");
      }
      items.back().second += "," + part;
      continue;
    }
    std::string key = canonical_key(trim(part.substr(0, eq)));
    if (key.empty()) {
      throw UsageError("missing key before '=' in '" + part + "'");
    }
    items.emplace_back(key, trim(part.substr(eq + 1)));
  }

  ActivateArgs args;
  for (const auto &item : items) {
    // (references, not a structured binding: clang 14, which builds the
    // fuzz targets, cannot capture those in a lambda)
    const std::string &key = item.first, &value = item.second;
    auto spec = std::find_if(keys.begin(), keys.end(),
                             [&](const KeySpec &k) { return k.name == key; });
    if (spec == keys.end()) {
      throw UsageError("unknown key '" + key + "' (valid keys: " + key_list(keys) +
                       ")");
    }
    if (args.has(key)) throw UsageError("key '" + key + "' given twice");
    validate(*spec, value);
    args.set(key, value);
  }
  return args;
}

}  // namespace diag
