// SPDX-License-Identifier: GPL-2.0-or-later
#include "flame/input.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace flame {

namespace {

// ---------------------------------------------------------------- lines

// Streams lines out of a file descriptor (or a string) through one buffer
// that only grows for a line longer than itself.
class LineSource {
 public:
  explicit LineSource(int fd) : fd_(fd), buf_(4 << 20) {}
  explicit LineSource(std::string_view text) : fd_(-1), eof_(true), buf_(text.begin(), text.end()) {
    end_ = buf_.size();
  }

  // The first bytes of the input, without consuming them.
  std::string_view head(size_t want = 64 << 10) {
    while (!eof_ && end_ - pos_ < want && end_ < buf_.size()) fill();
    return {buf_.data() + pos_, end_ - pos_};
  }

  bool next(std::string_view &line) {
    for (;;) {
      const char *start = buf_.data() + pos_;
      const void *nl = std::memchr(start, '\n', end_ - pos_);
      if (nl) {
        size_t len = static_cast<const char *>(nl) - start;
        pos_ += len + 1;
        line = trim_cr({start, len});
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        line = trim_cr({start, end_ - pos_});
        pos_ = end_;
        return true;
      }
      // keep the partial line, make room, read more
      if (pos_ > 0) {
        std::memmove(buf_.data(), start, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
      }
      if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
      fill();
    }
  }

  // For readers that take over the file: the bytes buffered so far (not
  // yet returned as lines), then raw reads.
  std::string take_buffered() {
    std::string out(buf_.data() + pos_, end_ - pos_);
    pos_ = end_;
    return out;
  }
  size_t read_raw(char *to, size_t size) {
    if (eof_) return 0;
    for (;;) {
      ssize_t n = ::read(fd_, to, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw InputError(std::string("read error: ") + std::strerror(errno));
      if (n == 0) eof_ = true;
      return static_cast<size_t>(n);
    }
  }

  std::string rest() {
    std::string out(buf_.data() + pos_, end_ - pos_);
    pos_ = end_;
    while (!eof_) {
      end_ = pos_ = 0;
      fill();
      out.append(buf_.data(), end_);
      pos_ = end_;
    }
    return out;
  }

 private:
  static std::string_view trim_cr(std::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  void fill() {
    for (;;) {
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw InputError(std::string("read error: ") + std::strerror(errno));
      if (n == 0) eof_ = true;
      end_ += static_cast<size_t>(n);
      return;
    }
  }

  int fd_;
  bool eof_ = false;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
};

// ---------------------------------------------------------------- helpers

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_hex(std::string_view s) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

uint64_t parse_hex(std::string_view s) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

// Splits "<stack> <count>" off its last number; false if the line ends in
// no count.
bool split_count(std::string_view line, std::string_view &rest, uint64_t &count) {
  line = trim(line);
  size_t sp = line.find_last_of(" \t");
  if (sp == std::string_view::npos) return false;
  std::string_view num = line.substr(sp + 1);
  if (!all_digits(num)) return false;
  auto r = std::from_chars(num.data(), num.data() + num.size(), count);
  if (r.ec != std::errc()) return false;
  rest = trim(line.substr(0, sp));
  return true;
}

// A frame line of a report or perf script, after its tag: "0xADDR symbol
// (module)".  The module is the last parenthesised group.
struct FrameText {
  uint64_t addr = 0;
  std::string_view symbol, module;
};

bool parse_frame_text(std::string_view s, FrameText &f) {
  s = trim(s);
  size_t sp = s.find_first_of(" \t");
  std::string_view addr = s.substr(0, sp);
  if (!is_hex(addr)) return false;
  f.addr = parse_hex(addr);
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : trim(s.substr(sp));
  f.module = {};
  if (rest.ends_with(')')) {
    size_t open = rest.rfind(" (");
    if (open != std::string_view::npos) {
      f.module = rest.substr(open + 2, rest.size() - open - 3);
      rest = trim(rest.substr(0, open));
    } else if (rest.front() == '(') {
      f.module = rest.substr(1, rest.size() - 2);
      rest = {};
    }
  }
  f.symbol = rest;
  return true;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Drops a trailing "+0x1f" or "+0x1f/0x80".
std::string_view strip_offset(std::string_view s) {
  size_t plus = s.rfind('+');
  if (plus == std::string_view::npos || plus == 0) return s;
  std::string_view off = s.substr(plus + 1);
  size_t slash = off.find('/');
  if (!is_hex(off.substr(0, slash)) || !off.starts_with("0x")) return s;
  if (slash != std::string_view::npos && !is_hex(off.substr(slash + 1))) return s;
  return s.substr(0, plus);
}

// ---------------------------------------------------------------- stacks

// Collects one stack (innermost frames first, as reports and perf print
// them) and adds it to the profile outermost first.
class StackBuilder {
 public:
  StackBuilder(Profile &profile, const ReadOptions &options, ReadStats &stats)
      : profile_(profile), options_(options), stats_(stats) {}

  std::vector<std::string> kernel, user;  // innermost first
  std::string process;
  std::string pid;
  std::string cgroup;
  uint64_t count = 1;

  void reset() {
    kernel.clear();
    user.clear();
    process.clear();
    pid.clear();
    cgroup.clear();
    count = 1;
  }

  bool empty() const { return kernel.empty() && user.empty() && process.empty(); }

  void emit() {
    frames_.clear();
    if (options_.per_cgroup) {
      if (!cgroup.empty()) stats_.has_cgroup = true;
      names_.assign(1, cgroup.empty() ? std::string("[no cgroup]") : cgroup);
    } else {
      names_.clear();
    }
    if (!pid.empty()) stats_.has_pid = true;
    if (!process.empty() || options_.per_pid) {
      std::string p = process.empty() ? std::string("[unknown]") : process;
      if (options_.per_pid && !pid.empty()) p += "[" + pid + "]";
      names_.push_back(std::move(p));
    }
    for (auto it = user.rbegin(); it != user.rend(); ++it) names_.push_back(*it);
    if (!user.empty() && !kernel.empty()) names_.emplace_back(kSeparator);
    for (auto it = kernel.rbegin(); it != kernel.rend(); ++it) names_.push_back(*it);
    for (const auto &n : names_) frames_.push_back(n);
    if (options_.baseline)
      profile_.add(frames_, 0, count);
    else
      profile_.add(frames_, count, 0);
    ++stats_.stacks;
    stats_.samples += count;
    reset();
  }

 private:
  Profile &profile_;
  const ReadOptions &options_;
  ReadStats &stats_;
  std::vector<std::string> names_;
  std::vector<std::string_view> frames_;
};

// "comm[123]" -> comm, "123"
void split_process(std::string_view s, std::string &comm, std::string &pid) {
  if (s.ends_with(']')) {
    size_t open = s.rfind('[');
    if (open != std::string_view::npos && open > 0 &&
        all_digits(s.substr(open + 1, s.size() - open - 2))) {
      comm.assign(s.substr(0, open));
      pid.assign(s.substr(open + 1, s.size() - open - 2));
      return;
    }
  }
  comm.assign(s);
}

// ---------------------------------------------------------------- readers

// Folded input is the one that gets large (the bench feeds a million
// lines): a reader thread reads, splits lines and hashes stacks while this
// thread merges them into the profile.
class FoldedPipeline {
 public:
  struct Item {
    std::string_view stack;
    uint64_t hash, value, before;
    bool two;  // "stack before value"
  };
  struct Batch {
    std::vector<char> text;
    std::vector<Item> items;
    uint64_t ignored = 0;
  };

  explicit FoldedPipeline(LineSource &src) : src_(src) {
    reader_ = std::thread([this] { read_all(); });
  }

  ~FoldedPipeline() {
    stop_ = true;
    {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
    reader_.join();
  }

  // The next batch of lines, or nullptr at the end (rethrows the reader's error).
  std::unique_ptr<Batch> next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || done_; });
    if (!full_.empty()) {
      auto b = std::move(full_.front());
      full_.pop_front();
      cv_.notify_all();
      return b;
    }
    if (error_) std::rethrow_exception(error_);
    return nullptr;
  }

  void recycle(std::unique_ptr<Batch> b) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }

 private:
  static constexpr size_t kBatchBytes = 8 << 20;
  static constexpr size_t kInFlight = 3;

  void read_all() {
    try {
      std::string carry = src_.take_buffered();
      bool eof = false;
      while (!eof && !stop_) {
        std::unique_ptr<Batch> b = take_free();
        if (!b) return;  // stopped
        b->items.clear();
        b->ignored = 0;
        // (a line longer than a batch makes the batch grow)
        size_t target = std::max(kBatchBytes, carry.size() + kBatchBytes / 2);
        if (b->text.size() < target) b->text.resize(target);
        std::memcpy(b->text.data(), carry.data(), carry.size());
        size_t used = carry.size();
        while (used < target && !eof) {
          size_t n = src_.read_raw(b->text.data() + used, target - used);
          if (n == 0) eof = true;
          used += n;
        }
        // whole lines only; the rest starts the next batch
        size_t cut = used;
        if (!eof) {
          const char *nl = static_cast<const char *>(memrchr(b->text.data(), '\n', used));
          cut = nl ? static_cast<size_t>(nl - b->text.data()) + 1 : 0;
        }
        carry.assign(b->text.data() + cut, used - cut);
        parse(*b, std::string_view(b->text.data(), cut));
        std::unique_lock lock(mu_);
        full_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard lock(mu_);
      error_ = std::current_exception();
    }
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<Batch> take_free() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || full_.size() < kInFlight; });
    if (stop_) return nullptr;
    if (free_.empty()) return std::make_unique<Batch>();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }

  static void parse(Batch &b, std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      Item it{};
      if (!split_count(line, it.stack, it.value)) {
        if (!trim(line).empty()) ++b.ignored;
        continue;
      }
      // a second count column: "stack before after" (differential input)
      std::string_view stack2;
      it.two = !it.stack.empty() && it.stack.back() >= '0' && it.stack.back() <= '9' &&
               split_count(it.stack, stack2, it.before);
      if (it.two) it.stack = stack2;
      it.hash = Profile::folded_hash(it.stack);
      b.items.push_back(it);
    }
  }

  LineSource &src_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> full_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::exception_ptr error_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
};

void read_folded(LineSource &src, Profile &profile, const ReadOptions &options,
                 ReadStats &stats) {
  FoldedPipeline pipe(src);
  while (auto b = pipe.next()) {
    for (const auto &it : b->items) {
      if (options.baseline) {
        profile.add_folded(it.stack, 0, it.value, it.hash);
      } else if (it.two) {
        profile.add_folded(it.stack, it.value, it.before, it.hash);
        profile.set_differential();
      } else {
        profile.add_folded(it.stack, it.value, 0, it.hash);
      }
      stats.samples += it.value;
    }
    stats.stacks += b->items.size();
    stats.ignored_lines += b->ignored;
    pipe.recycle(std::move(b));
  }
}

void read_report(LineSource &src, Profile &profile, const ReadOptions &options,
                 ReadStats &stats) {
  StackBuilder b(profile, options, stats);
  std::string chain_pid;  // pid of the first #^ line
  bool in_block = false;
  std::string_view line;
  while (src.next(line)) {
    if (line.size() < 2 || line[0] != '#') continue;  // header and label lines
    std::string_view body = line.substr(2);
    FrameText f;
    switch (line[1]) {
      case '@':
      case '~': {
        if (!parse_frame_text(body, f)) {
          ++stats.ignored_lines;
          break;
        }
        bool kernel = line[1] == '@';
        (kernel ? b.kernel : b.user).push_back(frame_name(f.symbol, f.module, kernel));
        in_block = true;
        break;
      }
      case '*':
        if (!parse_frame_text(body, f)) {
          ++stats.ignored_lines;
          break;
        }
        split_process(f.symbol, b.process, b.pid);
        in_block = true;
        break;
      case '^':
        if (chain_pid.empty() && parse_frame_text(body, f)) {
          std::string comm;
          split_process(f.symbol, comm, chain_pid);
        }
        break;
      case '%': {
        std::string_view n = trim(body);
        uint64_t c = 0;
        if (all_digits(n) && std::from_chars(n.data(), n.data() + n.size(), c).ec == std::errc())
          b.count = c;
        else
          ++stats.ignored_lines;
        break;
      }
      case '#': {
        std::string_view rest = trim(body);
        if (rest.empty()) {  // "##": end of block
          if (in_block) {
            if (b.pid.empty()) b.pid = chain_pid;
            b.emit();
          }
          b.reset();
          chain_pid.clear();
          in_block = false;
        } else if (rest.starts_with("CGROUP:[")) {
          // "##CGROUP:[/path]  PID  [TID]  ..." (a header line)
          size_t close = rest.find(']');
          if (close != std::string_view::npos) {
            b.cgroup.assign(rest.substr(8, close - 8));
            std::string_view after = trim(rest.substr(close + 1));
            std::string_view tok = after.substr(0, after.find_first_of(" \t"));
            if (all_digits(tok)) chain_pid.assign(tok);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  if (in_block && !b.empty()) {  // a report cut short: keep what it has
    if (b.pid.empty()) b.pid = chain_pid;
    b.emit();
  }
}

std::string json_string(const nlohmann::json &o, const char *key) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return {};
}

void read_json(LineSource &src, Profile &profile, const ReadOptions &options, ReadStats &stats) {
  std::string text = src.rest();
  StackBuilder b(profile, options, stats);
  bool saw_stacks = false;
  std::string key1;  // the current key of the top-level object
  auto take = [&](const nlohmann::json &o) {
    if (!o.is_object()) {
      ++stats.ignored_lines;
      return;
    }
    b.reset();
    auto frames = [&](const char *key, std::vector<std::string> &out, bool kernel) {
      auto it = o.find(key);
      if (it == o.end() || !it->is_array()) return;
      for (const auto &fr : *it) {
        if (!fr.is_object()) continue;
        bool inlined = fr.value("inlined", false);
        out.push_back(frame_name(json_string(fr, "symbol"), json_string(fr, "module"), kernel,
                                 inlined));
      }
    };
    frames("kernel_stack", b.kernel, true);
    frames("user_stack", b.user, false);
    b.process = json_string(o, "comm");
    b.pid = json_string(o, "tgid");
    if (b.pid.empty()) b.pid = json_string(o, "pid");
    b.cgroup = json_string(o, "cgroup");
    auto c = o.find("count");
    if (c != o.end() && c->is_number_unsigned()) b.count = c->get<uint64_t>();
    b.emit();
  };
  try {
    nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event,
                                               nlohmann::json &parsed) {
      using E = nlohmann::json::parse_event_t;
      if (depth == 1 && event == E::key) {
        key1 = parsed.get<std::string>();
        if (key1 == "stacks") saw_stacks = true;
      }
      if (depth == 2 && event == E::object_end && key1 == "stacks") {
        take(parsed);
        return false;  // processed: do not keep it in memory
      }
      return true;
    };
    nlohmann::json rest = nlohmann::json::parse(text, cb);  // stacks already taken
    (void)rest;
  } catch (const nlohmann::json::exception &e) {
    throw InputError(std::string("not valid JSON: ") + e.what());
  }
  if (!saw_stacks) throw InputError("JSON input has no \"stacks\" array (docs/stack-format.md)");
}

// `perf script` (with -g): a header line per sample, then one indented line
// per frame, innermost first, then a blank line.
void read_perf(LineSource &src, Profile &profile, const ReadOptions &options, ReadStats &stats) {
  StackBuilder b(profile, options, stats);
  bool in_sample = false;
  std::string_view line;
  auto flush = [&] {
    if (in_sample) b.emit();
    in_sample = false;
  };
  while (src.next(line)) {
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;  // perf script --header
    if (is_space(line[0])) {
      FrameText f;
      if (!in_sample || !parse_frame_text(line, f)) {
        ++stats.ignored_lines;
        continue;
      }
      bool kernel = f.addr >= 0xffff800000000000ull || f.module == "[kernel.kallsyms]";
      (kernel ? b.kernel : b.user).push_back(frame_name(f.symbol, f.module, kernel));
      continue;
    }
    // header: "comm  pid/tid [cpu] time: period event: ..."; comm may hold spaces
    flush();
    b.reset();
    size_t pos = 0;
    std::string_view comm, id;
    while (pos < line.size()) {
      size_t start = line.find_first_not_of(" \t", pos);
      if (start == std::string_view::npos) break;
      size_t end = line.find_first_of(" \t", start);
      if (end == std::string_view::npos) end = line.size();
      std::string_view tok = line.substr(start, end - start);
      size_t slash = tok.find('/');
      if (start > 0 && all_digits(tok.substr(0, slash)) &&
          (slash == std::string_view::npos || all_digits(tok.substr(slash + 1)))) {
        comm = trim(line.substr(0, start));
        id = tok.substr(0, slash);
        break;
      }
      pos = end;
    }
    if (comm.empty()) {
      ++stats.ignored_lines;
      continue;
    }
    b.process.assign(comm);
    b.pid.assign(id);
    in_sample = true;
  }
  flush();
}

bool looks_folded(std::string_view line) {
  std::string_view rest;
  uint64_t n;
  return split_count(line, rest, n) && !rest.empty();
}

}  // namespace

// ---------------------------------------------------------------- public

std::string frame_name(std::string_view symbol, std::string_view module, bool kernel,
                       bool inlined) {
  std::string_view s = trim(symbol);
  if (s.ends_with(" [inlined]")) {
    inlined = true;
    s = trim(s.substr(0, s.size() - 10));
  }
  // " at FILE:LINE" (reports with --lines)
  size_t at = s.rfind(" at ");
  if (at != std::string_view::npos) {
    std::string_view loc = s.substr(at + 4);
    size_t colon = loc.rfind(':');
    if (colon != std::string_view::npos && all_digits(loc.substr(colon + 1))) s = s.substr(0, at);
  }
  s = strip_offset(s);
  std::string out;
  if (s.empty() || s == "[unknown]") {
    std::string_view mod = module;
    if (mod.starts_with('[') && mod.ends_with(']')) mod = mod.substr(1, mod.size() - 2);
    mod = basename_of(mod);
    if (mod.empty() || mod == "unknown" || mod == "UNKNOWN")
      out = "[unknown]";
    else
      out = "[" + std::string(mod) + "]";
  } else {
    out.assign(s);
  }
  // ';' separates frames in folded stacks
  std::replace(out.begin(), out.end(), ';', ':');
  if (kernel)
    out += kKernelSuffix;
  else if (inlined)
    out += kInlinedSuffix;
  return out;
}

std::optional<InputFormat> parse_input_format(std::string_view name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "report" || name == "text") return InputFormat::kReport;
  if (name == "json") return InputFormat::kJson;
  if (name == "folded" || name == "collapsed") return InputFormat::kFolded;
  if (name == "perf" || name == "perf-script") return InputFormat::kPerf;
  return std::nullopt;
}

const char *input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kReport: return "report";
    case InputFormat::kJson: return "json";
    case InputFormat::kFolded: return "folded";
    case InputFormat::kPerf: return "perf";
  }
  return "?";
}

std::optional<InputFormat> detect_input_format(std::string_view head) {
  std::string_view t = head;
  while (!t.empty() && (is_space(t.front()) || t.front() == '\n' || t.front() == '\r'))
    t.remove_prefix(1);
  if (t.empty()) return std::nullopt;
  if (t.front() == '{') return InputFormat::kJson;
  // look at whole lines only (the last one may be cut)
  int folded = 0, lines = 0;
  bool header_seen = false;
  size_t pos = 0;
  while (pos < head.size() && lines < 200) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string_view::npos) break;
    std::string_view line = head.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (trim(line).empty()) continue;
    ++lines;
    if (line.size() >= 2 && line[0] == '#' && std::strchr("@~*^%#", line[1]) &&
        (line.size() == 2 || line[1] == '#' || is_space(line[2])))
      return InputFormat::kReport;
    if (is_space(line[0])) {
      FrameText f;
      if (header_seen && parse_frame_text(line, f)) return InputFormat::kPerf;
      continue;
    }
    if (line[0] != '#') header_seen = true;
    if (looks_folded(line)) ++folded;
  }
  if (pos < head.size() && lines == 0 && looks_folded(head.substr(pos))) return InputFormat::kFolded;
  if (folded > 0 && folded * 2 >= lines) return InputFormat::kFolded;
  return std::nullopt;
}

namespace {

ReadStats read_source(LineSource &src, Profile &profile, const ReadOptions &options,
                      const std::string &label) {
  ReadStats stats;
  InputFormat format = options.format;
  if (format == InputFormat::kAuto) {
    auto d = detect_input_format(src.head());
    if (!d)
      throw InputError(label +
                       ": cannot tell its format (a stack report, JSON report, folded stacks "
                       "or perf script output was expected); give --input-format");
    format = *d;
  }
  stats.format = format;
  try {
    switch (format) {
      case InputFormat::kFolded: read_folded(src, profile, options, stats); break;
      case InputFormat::kReport: read_report(src, profile, options, stats); break;
      case InputFormat::kJson: read_json(src, profile, options, stats); break;
      case InputFormat::kPerf: read_perf(src, profile, options, stats); break;
      case InputFormat::kAuto: break;
    }
  } catch (const InputError &e) {
    throw InputError(label + ": " + e.what());
  }
  if (stats.stacks == 0)
    throw InputError(label + ": no stacks in this " + input_format_name(format) + " input");
  return stats;
}

}  // namespace

ReadStats read_input(const std::string &path, Profile &profile, const ReadOptions &options) {
  int fd = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(path + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd > 0) ::close(fd);
    }
  } closer{fd};
  LineSource src(fd);
  return read_source(src, profile, options, path == "-" ? std::string("<stdin>") : path);
}

ReadStats read_input_text(std::string_view text, Profile &profile, const ReadOptions &options,
                          const std::string &label) {
  LineSource src(text);
  return read_source(src, profile, options, label);
}

}  // namespace flame
