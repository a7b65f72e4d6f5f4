// SPDX-License-Identifier: GPL-2.0-or-later
// Folded stacks and speedscope JSON.
#include <charconv>
#include <functional>
#include <unordered_map>
#include <vector>

#include "flame/render.h"

namespace flame {

namespace {

void append_uint(std::string &out, uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof(tmp), v);
  out.append(tmp, r.ptr - tmp);
}

void flush_if_big(std::string &buf, std::ostream &os) {
  if (buf.size() >= (1 << 20)) {
    os.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
  }
}

// Visits every node below the root in drawing order with its depth (1 for
// the root's children): pre before its children, post after them.  Stacks
// can be as deep as a line is long: a walk with a stack of its own, not
// recursion.
void walk(const Profile &p, const std::function<void(Profile::NodeId, unsigned)> &pre,
          const std::function<void(Profile::NodeId, unsigned)> &post) {
  struct Level {
    Profile::NodeId node;
    std::vector<Profile::NodeId> kids;
    size_t next = 0;
  };
  std::vector<Level> path;
  path.push_back({Profile::kRoot, p.children(Profile::kRoot)});
  while (!path.empty()) {
    Level &top = path.back();
    const unsigned depth = static_cast<unsigned>(path.size() - 1);
    if (top.next == top.kids.size()) {
      Profile::NodeId done = top.node;
      path.pop_back();
      if (done != Profile::kRoot) post(done, depth);
      continue;
    }
    Profile::NodeId c = top.kids[top.next++];
    pre(c, depth + 1);
    path.push_back({c, p.children(c)});
  }
}

}  // namespace

void write_folded(const Profile &p, std::ostream &os) {
  std::string buf, path;
  std::vector<size_t> lengths;
  walk(
      p,
      [&](Profile::NodeId n, unsigned depth) {
        lengths.push_back(path.size());
        if (depth > 1) path += ';';
        path += p.name(n);
        uint64_t self = p.self(n), base = p.base_self(n);
        if (self == 0 && base == 0) return;
        buf += path;
        buf += ' ';
        if (p.differential()) {
          append_uint(buf, base);
          buf += ' ';
        }
        append_uint(buf, self);
        buf += '\n';
        flush_if_big(buf, os);
      },
      [&](Profile::NodeId, unsigned) {
        path.resize(lengths.back());
        lengths.pop_back();
      });
  os.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

void write_speedscope(const Profile &p, const std::string &name, std::ostream &os) {
  std::string frames, samples, weights;
  std::unordered_map<uint32_t, uint32_t> frame_index;  // name id -> index in frames
  std::vector<uint32_t> stack;
  uint64_t total = 0;
  bool first_sample = true;
  walk(
      p,
      [&](Profile::NodeId n, unsigned) {
        auto [it, added] = frame_index.try_emplace(p.name_id(n), frame_index.size());
        if (added) {
          std::string_view raw = p.name(n);
          FrameKind kind = frame_kind(raw);
          if (!frames.empty()) frames += ',';
          frames += "{\"name\":\"";
          append_json_escaped(frames, kind == FrameKind::kSeparator ? std::string_view("[kernel]")
                                                                    : display_name(raw));
          frames += '"';
          if (kind == FrameKind::kKernel) frames += ",\"file\":\"[kernel]\"";
          frames += '}';
        }
        stack.push_back(it->second);
        uint64_t self = p.self(n);
        if (self == 0) return;
        total += self;
        if (!first_sample) {
          samples += ',';
          weights += ',';
        }
        first_sample = false;
        samples += '[';
        for (size_t i = 0; i < stack.size(); ++i) {
          if (i) samples += ',';
          append_uint(samples, stack[i]);
        }
        samples += ']';
        append_uint(weights, self);
      },
      [&](Profile::NodeId, unsigned) { stack.pop_back(); });
  std::string out;
  out += "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",";
  out += "\"exporter\":\"diagnose-tools flame\",\"name\":\"";
  append_json_escaped(out, name);
  out += "\",\"activeProfileIndex\":0,\"shared\":{\"frames\":[";
  os.write(out.data(), static_cast<std::streamsize>(out.size()));
  os.write(frames.data(), static_cast<std::streamsize>(frames.size()));
  out = "]},\"profiles\":[{\"type\":\"sampled\",\"name\":\"";
  append_json_escaped(out, name);
  out += "\",\"unit\":\"none\",\"startValue\":0,\"endValue\":";
  append_uint(out, total);
  out += ",\"samples\":[";
  os.write(out.data(), static_cast<std::streamsize>(out.size()));
  os.write(samples.data(), static_cast<std::streamsize>(samples.size()));
  os << "],\"weights\":[";
  os.write(weights.data(), static_cast<std::streamsize>(weights.size()));
  os << "]}]}\n";
}

}  // namespace flame
