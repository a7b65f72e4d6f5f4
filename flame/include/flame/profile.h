// SPDX-License-Identifier: GPL-2.0-or-later
// A profile: stacks merged into a tree of frames with sample counts.
//
// Every input (stack reports, folded stacks, perf script) ends up here as
// stacks, outermost frame first.  Identical prefixes share nodes, so the
// tree holds each distinct call path once whatever the number of input
// lines; a differential profile carries a second count per node (the
// baseline).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flame {

// Frame name conventions shared with flamegraph.pl and stackcollapse-perf:
// a kernel frame ends in "_[k]", an inlined frame in "_[i]", and a frame
// named "-" separates a stack's user part (below) from its kernel part
// (above).
inline constexpr std::string_view kKernelSuffix = "_[k]";
inline constexpr std::string_view kInlinedSuffix = "_[i]";
inline constexpr std::string_view kSeparator = "-";

enum class FrameKind { kUser, kKernel, kInlined, kSeparator };
FrameKind frame_kind(std::string_view name);
// The name without its kind suffix (what people read).
std::string_view display_name(std::string_view name);

// Limits of a profile: the counts of all stacks added (and, apart, of all
// baseline counts) sum to at most kMaxCount, so that every total, every
// difference and every share is exact; at most kMaxNodes distinct call
// paths (frames of the tree).  Beyond them add() throws LimitError.
inline constexpr uint64_t kMaxCount = INT64_MAX;
inline constexpr size_t kMaxNodes = 1u << 25;

class LimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BuildOptions {
  bool reverse = false;     // leaf first: merge stacks on their innermost frames
  bool flamechart = false;  // keep input order; merge only with the previous stack
};

class Profile {
 public:
  using NodeId = uint32_t;
  static constexpr NodeId kRoot = 0;
  static constexpr NodeId kNone = UINT32_MAX;

  explicit Profile(BuildOptions options = {});
  ~Profile();
  Profile(Profile &&) noexcept;
  Profile &operator=(Profile &&) noexcept;

  // Adds a stack, outermost frame first.  `value` is the count that sizes
  // frames; `base` the baseline count of a differential profile.
  void add(std::span<const std::string_view> frames, uint64_t value, uint64_t base = 0);
  // Same for a folded stack ("a;b;c"): the fast path for folded input, which
  // skips the tree walk for a stack already seen.
  void add_folded(std::string_view stack, uint64_t value, uint64_t base = 0) {
    add_folded(stack, value, base, folded_hash(stack));
  }
  // ... with the stack's folded_hash() already computed (by a reader thread).
  void add_folded(std::string_view stack, uint64_t value, uint64_t base, uint64_t hash);
  static uint64_t folded_hash(std::string_view stack);

  // Marks the profile differential even when no baseline count was seen yet.
  void set_differential() { differential_ = true; }
  bool differential() const { return differential_; }
  const BuildOptions &options() const { return options_; }

  // Tree access, after finish().
  size_t size() const;
  std::string_view name(NodeId n) const;
  uint32_t name_id(NodeId n) const;
  NodeId parent(NodeId n) const;
  uint64_t self(NodeId n) const;
  uint64_t base_self(NodeId n) const;
  // Builds the rest of the tree (folded stacks are kept aside until now),
  // computes totals and the name order; call once, after the last add().
  void finish();
  uint64_t total(NodeId n) const;
  uint64_t base_total(NodeId n) const;
  // Children in drawing order: by name (as flamegraph.pl sorts its input),
  // or in input order for a flame chart.
  std::vector<NodeId> children(NodeId n) const;
  uint64_t stacks_added() const { return stacks_added_; }
  // Distinct names, and the name of an id.
  size_t name_count() const;
  std::string_view name_of(uint32_t name_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  void count_sums(uint64_t value, uint64_t base);

  BuildOptions options_;
  bool differential_ = false;
  uint64_t stacks_added_ = 0;
  uint64_t sum_value_ = 0, sum_base_ = 0;  // of everything added: at most kMaxCount
};

}  // namespace flame
