// SPDX-License-Identifier: GPL-2.0-or-later
#include "flame/profile.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "hash.h"

namespace flame {

using detail::hash_bytes;
using detail::HashTable;
using detail::mix;

FrameKind frame_kind(std::string_view name) {
  if (name == kSeparator) return FrameKind::kSeparator;
  if (name.ends_with(kKernelSuffix)) return FrameKind::kKernel;
  if (name.ends_with(kInlinedSuffix)) return FrameKind::kInlined;
  return FrameKind::kUser;
}

std::string_view display_name(std::string_view name) {
  switch (frame_kind(name)) {
    case FrameKind::kKernel:
    case FrameKind::kInlined:
      name.remove_suffix(kKernelSuffix.size());
      return name;
    default:
      return name;
  }
}

namespace {

constexpr uint32_t kNoId = UINT32_MAX;

struct NameEntry {
  uint64_t h = 0;
  uint32_t id = kNoId;
  bool empty() const { return id == kNoId; }
  uint64_t hash() const { return h; }
};

struct ChildEntry {
  uint64_t key = UINT64_MAX;  // parent << 32 | name
  uint32_t child = kNoId;
  bool empty() const { return child == kNoId; }
  uint64_t hash() const { return mix(key ^ 0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull); }
};

// A distinct folded stack: its text and the counts added to it so far.  A
// repeated stack touches only its entry; finish() puts the entries into the
// tree in one sorted pass, where neighbours share their prefix and need no
// lookups.
struct LineEntry {
  uint64_t h = 0;
  const char *text = nullptr;  // as read (what a repeat is compared with)
  const char *key = nullptr;   // frames in tree order (reversed for --reverse)
  uint64_t value = 0, base = 0;
  uint32_t len = 0;
  bool used = false;
  bool empty() const { return !used; }
  uint64_t hash() const { return h; }
};

// Folded stacks are remembered up to this many bytes of text; stacks beyond
// it take the (slower) walk down the tree every time.
constexpr size_t kLineCacheBytes = 256u << 20;

// Order of folded stacks in which every call path's stacks are contiguous:
// frame by frame, a frame's end (';' or the end) sorting before any byte.
bool frame_order_less(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i + 8 <= n && detail::load64(a.data() + i) == detail::load64(b.data() + i)) i += 8;
  while (i < n && a[i] == b[i]) ++i;
  auto rank = [](std::string_view s, size_t k) -> int {
    if (k == s.size()) return -1;
    return s[k] == ';' ? 0 : static_cast<unsigned char>(s[k]) + 1;
  };
  return rank(a, i) < rank(b, i);
}

// Names live in large chunks so that string_views into them stay valid.
class Arena {
 public:
  std::string_view copy(std::string_view s) {
    if (s.size() > left_) {
      size_t size = std::max<size_t>(kChunk, s.size());
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
      next_ = chunks_.back().get();
      left_ = size;
    }
    std::memcpy(next_, s.data(), s.size());
    std::string_view out(next_, s.size());
    next_ += s.size();
    left_ -= s.size();
    return out;
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char *next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace

struct Profile::Impl {
  // names
  Arena arena;
  std::vector<std::string_view> names;
  HashTable<NameEntry> name_table;
  std::vector<uint32_t> name_rank;  // after finish(): position in sorted order

  // nodes (structure of arrays)
  std::vector<uint32_t> name, parent, first_child, next_sibling, last_child;
  std::vector<uint64_t> self, base_self, total, base_total;
  HashTable<ChildEntry> child_table;

  // folded lines already seen -> their leaf
  HashTable<LineEntry> line_table;
  Arena line_text;
  size_t line_bytes = 0;
  std::vector<std::string_view> scratch;

  uint32_t intern(std::string_view s) {
    uint64_t h = hash_bytes(s);
    NameEntry *e = name_table.find(h, [&](const NameEntry &x) { return names[x.id] == s; });
    if (e) return e->id;
    uint32_t id = static_cast<uint32_t>(names.size());
    names.push_back(arena.copy(s));
    name_table.insert({h, id});
    return id;
  }

  NodeId new_node(NodeId par, uint32_t nm) {
    if (name.size() >= kMaxNodes)
      throw LimitError("more than the limit of " + std::to_string(kMaxNodes) +
                       " distinct call paths");
    NodeId n = static_cast<NodeId>(name.size());
    name.push_back(nm);
    parent.push_back(par);
    first_child.push_back(kNone);
    next_sibling.push_back(kNone);
    last_child.push_back(kNone);
    self.push_back(0);
    if (!base_self.empty()) base_self.push_back(0);
    if (par != kNone) {
      if (last_child[par] == kNone)
        first_child[par] = n;
      else
        next_sibling[last_child[par]] = n;
      last_child[par] = n;
    }
    return n;
  }

  // An existing child named `nm` (created by child()), or kNone.
  NodeId find_child(NodeId par, uint32_t nm) {
    uint64_t key = static_cast<uint64_t>(par) << 32 | nm;
    ChildEntry probe{key, 0};
    ChildEntry *e = child_table.find(probe.hash(), [&](const ChildEntry &x) { return x.key == key; });
    return e ? e->child : kNone;
  }

  // Puts the cached folded stacks into the tree (see LineEntry).
  void insert_cached_stacks();

  NodeId child(NodeId par, std::string_view frame, bool flamechart) {
    uint32_t nm = intern(frame);
    if (flamechart) {
      // a flame chart keeps time order: only the latest child may merge
      NodeId last = last_child[par];
      if (last != kNone && name[last] == nm) return last;
      return new_node(par, nm);
    }
    uint64_t key = static_cast<uint64_t>(par) << 32 | nm;
    ChildEntry probe{key, 0};
    ChildEntry *e = child_table.find(probe.hash(), [&](const ChildEntry &x) { return x.key == key; });
    if (e) return e->child;
    NodeId n = new_node(par, nm);
    child_table.insert({key, n});
    return n;
  }

  void count(NodeId leaf, uint64_t value, uint64_t base) {
    self[leaf] += value;
    if (base) {
      if (base_self.empty()) base_self.assign(self.size(), 0);
      base_self[leaf] += base;
    }
  }

};

Profile::Profile(BuildOptions options) : impl_(std::make_unique<Impl>()), options_(options) {
  impl_->new_node(kNone, impl_->intern("all"));
}
Profile::~Profile() = default;
Profile::Profile(Profile &&) noexcept = default;
Profile &Profile::operator=(Profile &&) noexcept = default;

void Profile::count_sums(uint64_t value, uint64_t base) {
  if (value > kMaxCount - sum_value_ || base > kMaxCount - sum_base_)
    throw LimitError("the counts add up to more than the limit of " + std::to_string(kMaxCount));
  sum_value_ += value;
  sum_base_ += base;
}

void Profile::add(std::span<const std::string_view> frames, uint64_t value, uint64_t base) {
  // A sample needs a frame to be drawn and written: folded stacks have no
  // way to say "no frame", so one without would count in the total of the
  // graph but in no line of its folded form.
  if (frames.empty()) return;
  count_sums(value, base);
  Impl &m = *impl_;
  NodeId n = kRoot;
  if (options_.reverse) {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it)
      n = m.child(n, *it, options_.flamechart);
  } else {
    for (std::string_view f : frames) n = m.child(n, f, options_.flamechart);
  }
  m.count(n, value, base);
  if (base) differential_ = true;
  ++stacks_added_;
}

uint64_t Profile::folded_hash(std::string_view stack) { return hash_bytes(stack); }

void Profile::add_folded(std::string_view stack, uint64_t value, uint64_t base, uint64_t h) {
  count_sums(value, base);
  Impl &m = *impl_;
  if (base) differential_ = true;
  ++stacks_added_;
  const bool cache = !options_.flamechart && m.line_bytes + stack.size() <= kLineCacheBytes &&
                     stack.size() < UINT32_MAX;
  if (!options_.flamechart) {
    LineEntry *e = m.line_table.find(h, [&](const LineEntry &x) {
      return x.len == stack.size() && (x.len == 0 || std::memcmp(x.text, stack.data(), x.len) == 0);
    });
    if (e) {
      e->value += value;
      e->base += base;
      return;
    }
  }
  m.scratch.clear();
  if (!stack.empty()) {
    size_t begin = 0;
    for (;;) {
      size_t semi = stack.find(';', begin);
      if (semi == std::string_view::npos) {
        m.scratch.push_back(stack.substr(begin));
        break;
      }
      m.scratch.push_back(stack.substr(begin, semi - begin));
      begin = semi + 1;
    }
  }
  if (options_.reverse) std::reverse(m.scratch.begin(), m.scratch.end());
  if (cache) {
    // every distinct stack ends in a call path of its own
    if (m.line_table.size() >= kMaxNodes)
      throw LimitError("more than the limit of " + std::to_string(kMaxNodes) +
                       " distinct call paths");
    m.line_bytes += stack.size();
    LineEntry e;
    e.h = h;
    e.text = m.line_text.copy(stack).data();
    e.key = e.text;
    if (options_.reverse) {
      std::string rev;
      for (size_t i = 0; i < m.scratch.size(); ++i) {
        if (i) rev += ';';
        rev += m.scratch[i];
      }
      e.key = m.line_text.copy(rev).data();
    }
    e.len = static_cast<uint32_t>(stack.size());
    e.value = value;
    e.base = base;
    e.used = true;
    m.line_table.insert(e);
    return;
  }
  NodeId n = kRoot;
  for (std::string_view f : m.scratch) n = m.child(n, f, options_.flamechart);
  m.count(n, value, base);
}

void Profile::Impl::insert_cached_stacks() {
  std::vector<const LineEntry *> entries;
  entries.reserve(line_table.size());
  line_table.for_each([&](LineEntry &e) { entries.push_back(&e); });
  auto key = [](const LineEntry *e) { return std::string_view(e->key, e->len); };
  std::sort(entries.begin(), entries.end(), [&](const LineEntry *a, const LineEntry *b) {
    return frame_order_less(key(a), key(b));
  });
  const bool lookups = child_table.size() > 0;  // nodes made by add() may match
  std::vector<NodeId> path{kRoot};  // path[d]: the previous stack's node at depth d
  std::string_view prev;
  bool first = true;
  for (const LineEntry *e : entries) {
    std::string_view s = key(e);
    size_t shared = 0, pos = 0;  // frames shared with prev; where the rest starts
    if (!first) {
      size_t n = std::min(s.size(), prev.size()), i = 0;
      while (i < n && s[i] == prev[i]) ++i;
      size_t semis = 0, last_semi = std::string_view::npos;
      for (size_t k = 0; k < i; ++k)
        if (s[k] == ';') ++semis, last_semi = k;
      bool s_end = i == s.size() || s[i] == ';', p_end = i == prev.size() || prev[i] == ';';
      if (s_end && p_end) {
        shared = semis + 1;
        pos = i + 1;
      } else {
        shared = semis;
        pos = last_semi == std::string_view::npos ? 0 : last_semi + 1;
      }
    }
    first = false;
    prev = s;
    path.resize(shared + 1);
    NodeId node = path.back();
    if (!s.empty() && pos <= s.size()) {
      bool fresh = false;  // below a node made here, every node is new
      for (;;) {
        size_t semi = s.find(';', pos);
        std::string_view f = s.substr(pos, semi == std::string_view::npos ? s.npos : semi - pos);
        uint32_t nm = intern(f);
        NodeId c = fresh || !lookups ? kNone : find_child(node, nm);
        if (c == kNone) {
          c = new_node(node, nm);
          fresh = true;
        }
        node = c;
        path.push_back(node);
        if (semi == std::string_view::npos) break;
        pos = semi + 1;
      }
    }
    count(node, e->value, e->base);
  }
}

size_t Profile::size() const { return impl_->name.size(); }
std::string_view Profile::name(NodeId n) const { return impl_->names[impl_->name[n]]; }
uint32_t Profile::name_id(NodeId n) const { return impl_->name[n]; }
Profile::NodeId Profile::parent(NodeId n) const { return impl_->parent[n]; }
uint64_t Profile::self(NodeId n) const { return impl_->self[n]; }
uint64_t Profile::base_self(NodeId n) const {
  return impl_->base_self.empty() ? 0 : impl_->base_self[n];
}
uint64_t Profile::total(NodeId n) const { return impl_->total[n]; }
uint64_t Profile::base_total(NodeId n) const {
  return impl_->base_total.empty() ? 0 : impl_->base_total[n];
}
size_t Profile::name_count() const { return impl_->names.size(); }
std::string_view Profile::name_of(uint32_t id) const { return impl_->names[id]; }

void Profile::finish() {
  Impl &m = *impl_;
  m.insert_cached_stacks();
  m.line_table = {};
  // children always have larger ids than their parents
  m.total = m.self;
  for (size_t n = m.total.size() - 1; n > 0; --n) m.total[m.parent[n]] += m.total[n];
  if (!m.base_self.empty()) {
    m.base_total = m.base_self;
    for (size_t n = m.base_total.size() - 1; n > 0; --n)
      m.base_total[m.parent[n]] += m.base_total[n];
  }
  std::vector<uint32_t> order(m.names.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return m.names[a] < m.names[b]; });
  m.name_rank.assign(m.names.size(), 0);
  for (uint32_t i = 0; i < order.size(); ++i) m.name_rank[order[i]] = i;
}

std::vector<Profile::NodeId> Profile::children(NodeId n) const {
  const Impl &m = *impl_;
  std::vector<NodeId> out;
  for (NodeId c = m.first_child[n]; c != kNone; c = m.next_sibling[c]) out.push_back(c);
  if (!options_.flamechart)
    std::sort(out.begin(), out.end(),
              [&](NodeId a, NodeId b) { return m.name_rank[m.name[a]] < m.name_rank[m.name[b]]; });
  return out;
}

}  // namespace flame
