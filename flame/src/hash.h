// SPDX-License-Identifier: GPL-2.0-or-later
// A fast 64-bit hash for frame names and whole folded lines, and a small
// open-addressing table: the two things the profile builder does millions
// of times per input.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace flame::detail {

inline uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load64(const char *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Multiply-fold over 16 bytes at a time; good spread for short names and
// long lines alike.
inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                     k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
  const char *p = s.data();
  size_t n = s.size();
  uint64_t h = k0 ^ (n * k3);
  while (n >= 16) {
    h = mix(load64(p) ^ k1 ^ h, load64(p + 8) ^ k2);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    h = mix(load64(p) ^ k1, h ^ k2);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = mix(v ^ k3, h ^ k1);
  }
  return mix(h ^ k2, k3 ^ s.size());
}

// Open addressing, linear probing, power-of-two capacity, at most half full.
// Entry must have `bool empty() const` and `uint64_t hash() const`; a
// default-constructed Entry is empty.
template <typename Entry>
class HashTable {
 public:
  HashTable() : slots_(1024) {}

  // Calls match(entry) for every entry whose hash equals h until it returns
  // true; returns that entry or nullptr.
  template <typename Match>
  Entry *find(uint64_t h, Match &&match) {
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Entry &e = slots_[i];
      if (e.empty()) return nullptr;
      if (e.hash() == h && match(e)) return &e;
    }
  }

  void insert(const Entry &entry) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    place(entry);
    ++used_;
  }

  size_t size() const { return used_; }

  template <typename F>
  void for_each(F &&f) {
    for (Entry &e : slots_)
      if (!e.empty()) f(e);
  }

 private:
  void place(const Entry &entry) {
    size_t mask = slots_.size() - 1;
    size_t i = entry.hash() & mask;
    while (!slots_[i].empty()) i = (i + 1) & mask;
    slots_[i] = entry;
  }

  void grow() {
    std::vector<Entry> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Entry &e : old)
      if (!e.empty()) place(e);
  }

  std::vector<Entry> slots_;
  size_t used_ = 0;
};

}  // namespace flame::detail
