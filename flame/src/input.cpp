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

// A malformed line, or one beyond a limit; read_source() names the input.
struct LineError {
  uint64_t line;  // 0: no line to name
  std::string why;
};

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
      // (an empty text has no buffer: memchr must not see its null pointer)
      const void *nl = pos_ < end_ ? std::memchr(start, '\n', end_ - pos_) : nullptr;
      if (nl) {
        size_t len = static_cast<const char *>(nl) - start;
        check_length(len);
        pos_ += len + 1;
        line = trim_cr({start, len});
        ++lineno_;
        return true;
      }
      check_length(end_ - pos_);
      if (eof_) {
        if (pos_ == end_) return false;
        line = trim_cr({start, end_ - pos_});
        pos_ = end_;
        ++lineno_;
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

  // Whether every byte of the input is in the buffer (a text, or a file
  // read to its end).
  bool exhausted() const { return eof_; }

  // The number of the line next() returned last.
  uint64_t line_number() const { return lineno_; }

 private:
  void check_length(size_t len) const {
    if (len > kMaxLineBytes)
      throw LineError{lineno_ + 1, "line longer than the limit of " +
                                       std::to_string(kMaxLineBytes) + " bytes"};
  }

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
  uint64_t lineno_ = 0;
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

// A frame's name as folded stacks can hold it: ';' separates frames, and a
// control character (a JSON input can hold a newline) would break a folded
// line or a terminal.
void clean_name(std::string &name) {
  for (char &c : name) {
    if (c == ';')
      c = ':';
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  }
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
  uint64_t line = 0;  // where the stack ends, for errors

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
      clean_name(names_.back());
    } else {
      names_.clear();
    }
    if (!pid.empty()) stats_.has_pid = true;
    if (!process.empty() || options_.per_pid) {
      std::string p = process.empty() ? std::string("[unknown]") : process;
      if (options_.per_pid && !pid.empty()) p += "[" + pid + "]";
      clean_name(p);
      names_.push_back(std::move(p));
    }
    for (auto it = user.rbegin(); it != user.rend(); ++it) names_.push_back(*it);
    if (!user.empty() && !kernel.empty()) names_.emplace_back(kSeparator);
    for (auto it = kernel.rbegin(); it != kernel.rend(); ++it) names_.push_back(*it);
    for (const auto &n : names_) frames_.push_back(n);
    // a block without a frame adds nothing (Profile::add drops it too)
    if (frames_.empty()) {
      reset();
      return;
    }
    try {
      if (options_.baseline)
        profile_.add(frames_, 0, count);
      else
        profile_.add(frames_, count, 0);
    } catch (const LimitError &e) {
      throw LineError{line, e.what()};
    }
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
    uint64_t line;
    bool two;  // "stack before value"
  };
  struct Batch {
    std::vector<char> text;
    std::vector<Item> items;
    uint64_t ignored = 0;
    uint64_t first_line = 1;
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
      uint64_t line = 1;  // of the batch's first line
      while (!eof && !stop_) {
        std::unique_ptr<Batch> b = take_free();
        if (!b) return;  // stopped
        b->items.clear();
        b->ignored = 0;
        b->first_line = line;
        // (a line longer than a batch makes the batch grow; an input held
        // whole in memory takes no more than its size)
        eof = src_.exhausted();  // then all that is left is in carry
        size_t target = eof ? carry.size() : std::max(kBatchBytes, carry.size() + kBatchBytes / 2);
        if (b->text.size() < target) b->text.resize(target);
        if (!carry.empty()) std::memcpy(b->text.data(), carry.data(), carry.size());
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
        line = parse(*b, std::string_view(b->text.data(), cut));
        if (carry.size() > kMaxLineBytes)  // a line not ended yet
          throw LineError{line, "line longer than the limit of " +
                                    std::to_string(kMaxLineBytes) + " bytes"};
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

  // Returns the number of the line after the batch.
  static uint64_t parse(Batch &b, std::string_view text) {
    size_t pos = 0;
    uint64_t lineno = b.first_line;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.size() > kMaxLineBytes)
        throw LineError{lineno, "line longer than the limit of " +
                                    std::to_string(kMaxLineBytes) + " bytes"};
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      Item it{};
      it.line = lineno++;
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
    return lineno;
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
      try {
        if (options.baseline) {
          profile.add_folded(it.stack, 0, it.value, it.hash);
        } else if (it.two) {
          profile.add_folded(it.stack, it.value, it.before, it.hash);
          profile.set_differential();
        } else {
          profile.add_folded(it.stack, it.value, 0, it.hash);
        }
      } catch (const LimitError &e) {
        throw LineError{it.line, e.what()};
      }
      stats.samples += it.value;  // at most kMaxCount: add_folded checked
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
            b.line = src.line_number();
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
    b.line = src.line_number();
    b.emit();
  }
}

// The input of a JSON reader: the bytes the format detection buffered,
// then the rest of the file, read as the parser asks for them.  A token
// longer than kMaxLineBytes (the parser keeps a token whole) is refused:
// the SAX handler marks each event, and more than that many bytes without
// one is a token that long.
class JsonSource : public std::streambuf {
 public:
  explicit JsonSource(LineSource &src) : src_(src), buf_(src.take_buffered()) {
    setg(buf_.data(), buf_.data(), buf_.data() + buf_.size());
  }
  // A SAX event: the bytes of a token count from here.
  void reset_count() {
    since_total_ = 0;
    since_mark_ = gptr() - eback();
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    since_total_ += (egptr() - eback()) - since_mark_;
    since_mark_ = 0;
    if (since_total_ > kMaxLineBytes)
      throw LineError{0, "a JSON token longer than the limit of " +
                             std::to_string(kMaxLineBytes) + " bytes"};
    buf_.resize(1 << 16);
    size_t n = src_.read_raw(buf_.data(), buf_.size());
    if (n == 0) return traits_type::eof();
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  LineSource &src_;
  std::string buf_;
  std::ptrdiff_t since_mark_ = 0;  // bytes of this buffer read before the last event
  uint64_t since_total_ = 0;       // bytes of earlier buffers read since the last event
};

// Streams a JSON report (docs/stack-format.md) into the profile: SAX events,
// one stack at a time, so memory holds the current stack and the profile,
// whatever the size of the report.  Everything but the "stacks" array of
// the top-level object, and but the fields a stack is drawn from, is
// skipped without being kept.
class JsonStacks : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonStacks(JsonSource &in, Profile &profile, const ReadOptions &options, ReadStats &stats)
      : in_(in), b_(profile, options, stats), stats_(stats) {}
  bool saw_stacks = false;

  bool null() override { return scalar(); }
  bool boolean(bool v) override {
    if (top() == Role::kFrame && key_ == "inlined") frame_inlined_ = v;
    return scalar();
  }
  bool number_integer(number_integer_t v) override { return text(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    if (top() == Role::kStack && key_ == "count") b_.count = v;
    return text(std::to_string(v));
  }
  bool number_float(number_float_t, const string_t &) override { return scalar(); }
  bool string(string_t &v) override { return text(v); }
  bool binary(binary_t &) override { return scalar(); }
  bool key(string_t &k) override {
    tick();
    key_ = k;
    return true;
  }
  bool start_object(std::size_t) override {
    tick();
    Role r = Role::kOther;
    switch (top()) {
      case Role::kNone: r = Role::kTop; break;
      case Role::kStacks:
        r = Role::kStack;
        b_.reset();
        pid_.clear();
        tgid_.clear();
        break;
      case Role::kFrames:
        r = Role::kFrame;
        frame_symbol_.clear();
        frame_module_.clear();
        frame_inlined_ = false;
        break;
      default:
        break;
    }
    roles_.push_back(r);
    return true;
  }
  bool end_object() override {
    tick();
    Role r = pop();
    if (r == Role::kFrame) {
      auto &out = kernel_frames_ ? b_.kernel : b_.user;
      if (out.size() >= kMaxNodes)
        throw LimitError("a stack of more than " + std::to_string(kMaxNodes) + " frames");
      out.push_back(frame_name(frame_symbol_, frame_module_, kernel_frames_, frame_inlined_));
    } else if (r == Role::kStack) {
      b_.pid = tgid_.empty() ? pid_ : tgid_;
      b_.emit();
    }
    return true;
  }
  bool start_array(std::size_t) override {
    tick();
    Role r = Role::kOther;
    if (top() == Role::kTop && key_ == "stacks") {
      r = Role::kStacks;
      saw_stacks = true;
    } else if (top() == Role::kStack && (key_ == "kernel_stack" || key_ == "user_stack")) {
      r = Role::kFrames;
      kernel_frames_ = key_ == "kernel_stack";
      (kernel_frames_ ? b_.kernel : b_.user).clear();  // the last of repeated keys counts
    } else if (top() == Role::kStacks) {
      ++stats_.ignored_lines;  // not a stack object
    }
    roles_.push_back(r);
    return true;
  }
  bool end_array() override {
    tick();
    pop();
    return true;
  }
  bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &e) override {
    throw FormatError(std::string("not valid JSON: ") + e.what());
  }

 private:
  enum class Role { kNone, kTop, kStacks, kStack, kFrames, kFrame, kOther };
  Role top() const { return roles_.empty() ? Role::kNone : roles_.back(); }
  Role pop() {
    Role r = top();
    if (!roles_.empty()) roles_.pop_back();
    return r;
  }
  void tick() { in_.reset_count(); }
  bool scalar() {
    tick();
    if (top() == Role::kStacks) ++stats_.ignored_lines;  // not a stack object
    return true;
  }
  // A string or integer value: the fields that name things.
  bool text(const std::string &v) {
    tick();
    if (top() == Role::kStack) {
      if (key_ == "comm") b_.process = v;
      else if (key_ == "tgid") tgid_ = v;
      else if (key_ == "pid") pid_ = v;
      else if (key_ == "cgroup") b_.cgroup = v;
    } else if (top() == Role::kFrame) {
      if (key_ == "symbol") frame_symbol_ = v;
      else if (key_ == "module") frame_module_ = v;
    } else if (top() == Role::kStacks) {
      ++stats_.ignored_lines;
    }
    return true;
  }

  JsonSource &in_;
  StackBuilder b_;
  ReadStats &stats_;
  std::vector<Role> roles_;
  std::string key_;  // the last key seen (of the innermost object)
  std::string pid_, tgid_;
  bool kernel_frames_ = false;
  std::string frame_symbol_, frame_module_;
  bool frame_inlined_ = false;
};

void read_json(LineSource &src, Profile &profile, const ReadOptions &options, ReadStats &stats) {
  JsonSource source(src);
  std::istream in(&source);
  JsonStacks stacks(source, profile, options, stats);
  try {
    nlohmann::json::sax_parse(in, &stacks);
  } catch (const nlohmann::json::exception &e) {
    throw FormatError(std::string("not valid JSON: ") + e.what());
  } catch (const LimitError &e) {
    throw LineError{0, e.what()};
  }
  if (!stacks.saw_stacks)
    throw FormatError("JSON input has no \"stacks\" array (docs/stack-format.md)");
}

// ---------------------------------------------------------------- perf script

// `perf script` output folded as stackcollapse-perf.pl folds it by default
// (docs/flame.md, "perf script input"), so that a graph drawn from either
// is the same graph.  Its rules are regular expressions over each line; the
// matchers below give the same answer, capture for capture, as those
// expressions do under Perl's leftmost, greedy-then-backtracking semantics,
// in linear time.

// Perl's \s (without Unicode rules), \d and \w.
bool perl_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool perl_digit(char c) { return c >= '0' && c <= '9'; }
bool perl_word(char c) {
  return perl_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// A sample's header line: "COMM  TID ..." or "COMM  PID/TID ...", COMM two
// characters or more and possibly holding spaces, the first number followed
// by white space.  COMM is the shortest prefix (of at least two characters,
// starting with a non-space) followed by white space and a token of the
// form DIGITS[/...[DIGITS]] that white space follows.  `tid` is empty when
// the token has no second number.
struct PerfHeader {
  std::string_view comm, pid, tid;
};

bool match_perf_header(std::string_view line, PerfHeader &h) {
  const size_t n = line.size();
  if (n == 0 || perl_space(line[0])) return false;
  size_t e = 2;
  while (e < n) {
    if (!perl_space(line[e])) {
      ++e;
      continue;
    }
    size_t w = e;
    while (w < n && perl_space(line[w])) ++w;
    // the token after this run of white space
    size_t t = w;
    while (t < n && perl_digit(line[t])) ++t;
    const size_t d1 = t;
    while (t < n && line[t] == '/') ++t;
    const size_t d2 = t;
    while (t < n && perl_digit(line[t])) ++t;
    if (d1 > w && t < n && perl_space(line[t])) {
      h.comm = line.substr(0, e);
      h.pid = line.substr(w, d1 - w);
      h.tid = line.substr(d2, t - d2);
      return true;
    }
    e = w;  // a later start in the same run meets the same token
  }
  return false;
}

// The event and period of a header line, when it ends in "...: [PERIOD]
// EVENT:" (white space around): the last token ends in ':' and follows
// white space, an optional number and optional white space, and a ':'.
// `period` is empty when there is no number.  A header whose event is
// followed by more (a tracepoint's fields) has none: its sample counts 1
// and is kept whatever its event.
bool match_perf_event(std::string_view line, std::string_view &period, std::string_view &event) {
  size_t end = line.size();
  while (end > 0 && perl_space(line[end - 1])) --end;
  size_t k = end;
  while (k > 0 && !perl_space(line[k - 1])) --k;
  if (k == 0 || end - k < 2 || line[end - 1] != ':') return false;
  size_t j = k;
  while (j > 0 && perl_space(line[j - 1])) --j;
  const size_t digits_end = j;
  while (j > 0 && perl_digit(line[j - 1])) --j;
  const size_t digits_start = j;
  while (j > 0 && perl_space(line[j - 1])) --j;
  if (j == 0 || line[j - 1] != ':') return false;
  period = line.substr(digits_start, digits_end - digits_start);
  event = line.substr(k, end - 1 - k);
  return true;
}

// A frame line: "[ws]ADDR[ws]SYMBOL (MODULE)" and anything after.  ADDR is
// a run of word characters; MODULE lies between the last " (" that a ')'
// follows and the last ')'; SYMBOL is what is between (at least one
// character; ADDR gives up its last characters if SYMBOL needs them).
struct PerfFrame {
  std::string_view addr, symbol, module;
};

bool match_perf_frame(std::string_view line, PerfFrame &f) {
  const size_t n = line.size();
  size_t w0 = 0;
  while (w0 < n && perl_space(line[w0])) ++w0;
  size_t w = w0;
  while (w < n && perl_word(line[w])) ++w;
  if (w == w0) return false;
  size_t s = w;
  while (s < n && perl_space(line[s])) ++s;
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos || close < w0 + 4) return false;
  size_t j = close - 2;  // " (" at j, j + 2 <= close
  for (;; --j) {
    if (line[j] == ' ' && line[j + 1] == '(') break;
    if (j == w0 + 2) return false;
  }
  s = std::min(s, j - 1);  // SYMBOL is not empty
  f.addr = line.substr(w0, std::min(w, s) - w0);
  f.symbol = line.substr(s, j - s);
  f.module = line.substr(j + 2, close - j - 2);
  return true;
}

// Drops a final "+0x" and lower-case hex digits (perf's symbol offset).
std::string_view strip_perf_offset(std::string_view s) {
  size_t r = s.size();
  while (r > 0 && (perl_digit(s[r - 1]) || (s[r - 1] >= 'a' && s[r - 1] <= 'f'))) --r;
  if (r == s.size() || r < 3 || s.substr(r - 3, 3) != "+0x") return s;
  return s.substr(0, r - 3);
}

class PerfFolder {
 public:
  PerfFolder(Profile &profile, const ReadOptions &options, ReadStats &stats)
      : profile_(profile), options_(options), po_(options.perf), stats_(stats),
        event_filter_(options.perf.event_filter) {
    stats_.event = event_filter_;
  }

  void line(std::string_view line, uint64_t lineno) {
    if (!line.empty() && line[0] == '#') return;  // perf script --header
    if (line.empty()) {
      end_of_sample(lineno);
      return;
    }
    PerfHeader h;
    PerfFrame f;
    if (match_perf_header(line, h)) {
      header(line, h, lineno);
    } else if (match_perf_frame(line, f)) {
      if (has_pname_) frame(f, lineno);
    } else {
      ++stats_.ignored_lines;
    }
  }

 private:
  // A sample ends at an empty line (only there: a sample not followed by
  // one is not counted, nor is a line of spaces an end).
  void end_of_sample(uint64_t lineno) {
    if (!has_pname_) return;
    folded_.clear();
    if (options_.per_cgroup) folded_ = "[no cgroup];";
    folded_ += pname_;
    for (size_t i = group_ends_.size(); i-- > 0;) {
      size_t begin = i ? group_ends_[i - 1] : 0;
      folded_ += ';';
      folded_.append(groups_, begin, group_ends_[i] - begin);
    }
    if (folded_.size() > kMaxLineBytes)
      throw LineError{lineno, "a stack longer than the limit of " + std::to_string(kMaxLineBytes) +
                                  " bytes"};
    try {
      if (options_.baseline)
        profile_.add_folded(folded_, 0, period_);
      else
        profile_.add_folded(folded_, period_, 0);
    } catch (const LimitError &e) {
      throw LineError{lineno, e.what()};
    }
    ++stats_.stacks;
    stats_.samples += period_;  // at most kMaxCount: add_folded checked
    groups_.clear();
    group_ends_.clear();
    has_pname_ = false;
  }

  void header(std::string_view line, const PerfHeader &h, uint64_t lineno) {
    std::string_view period, event;
    if (match_perf_event(line, period, event)) {
      if (event_filter_.empty()) {
        event_filter_.assign(event);
        stats_.event = event_filter_;
      } else if (event != event_filter_) {
        if (stats_.other_event_samples++ == 0) stats_.other_event.assign(event);
        return;  // the sample's frames are dropped: the previous one ended
      }
    }
    // "PID/0" (a swapper's TID) and a period "0" read as absent
    std::string_view pid = h.pid, tid = h.tid;
    if (tid.empty() || tid == "0") {
      tid = pid;
      pid = "?";
    } else {
      stats_.has_pid = true;
    }
    if (period.empty() || period == "0") {
      period_ = 1;
    } else {
      auto r = std::from_chars(period.data(), period.data() + period.size(), period_);
      if (r.ec != std::errc() || period_ > kMaxCount)
        throw LineError{lineno, "a sample period beyond the limit of " + std::to_string(kMaxCount)};
    }
    pname_.assign(h.comm);
    if (po_.tid) {
      pname_.append("-").append(pid).append("/").append(tid);
    } else if (po_.pid) {
      pname_.append("-").append(pid);
    } else if (options_.per_pid) {
      pname_.append("[").append(pid == "?" ? tid : pid).append("]");
    }
    std::replace(pname_.begin(), pname_.end(), ' ', '_');
    java_ = pname_.starts_with("java");
    has_pname_ = true;
  }

  void frame(const PerfFrame &f, uint64_t lineno) {
    std::string_view raw = strip_perf_offset(f.symbol);
    if (!raw.empty() && raw[0] == '(') return;  // "(process name)"
    // "a->b->c": a frame and the frames inlined into it; empty names at
    // the end are dropped (as Perl's split drops them)
    pieces_.clear();
    for (size_t pos = 0; pos <= raw.size();) {
      size_t arrow = raw.find("->", pos);
      if (arrow == std::string_view::npos) arrow = raw.size();
      pieces_.push_back(raw.substr(pos, arrow - pos));
      pos = arrow + 2;
    }
    while (!pieces_.empty() && pieces_.back().empty()) pieces_.pop_back();
    if (pieces_.empty()) return;
    group_.clear();
    for (size_t i = 0; i < pieces_.size(); ++i) {
      if (i > 0) group_ += ';';
      append_frame(pieces_[i], f, i > 0);
    }
    if (groups_.size() + group_.size() + group_ends_.size() + pname_.size() > kMaxLineBytes)
      throw LineError{lineno, "a stack longer than the limit of " + std::to_string(kMaxLineBytes) +
                                  " bytes"};
    groups_ += group_;
    group_ends_.push_back(static_cast<uint32_t>(groups_.size()));
  }

  void append_frame(std::string_view func, const PerfFrame &f, bool inlined) {
    std::string &out = name_;
    if (func == "[unknown]") {
      out = "[";
      if (f.module != "[unknown]") {
        size_t slash = f.module.rfind('/');
        out += slash == std::string_view::npos ? f.module : f.module.substr(slash + 1);
      } else {
        out += "unknown";
      }
      if (po_.addrs) out.append(" <").append(f.addr).append(">");
      out += "]";
    } else {
      out.assign(func);
    }
    std::replace(out.begin(), out.end(), ';', ':');
    if (!po_.keep_args && !looks_like_go_method(out)) cut_arguments(out);
    std::erase_if(out, [](char c) { return c == '"' || c == '\''; });
    if (java_ && out.starts_with('L') && out.find('/') != std::string::npos) out.erase(0, 1);
    if (inlined) {
      if (out.find("_[i]") == std::string::npos) out += kInlinedSuffix;
    } else if (po_.kernel && (f.module.starts_with('[') || f.module.ends_with("vmlinux")) &&
               f.module.find("unknown") == std::string_view::npos) {
      out += kKernelSuffix;
    } else if (po_.jit && is_perf_map(f.module)) {
      if (out.find("_[j]") == std::string::npos) out += "_[j]";
    }
    group_ += out;
  }

  // "net/http.(*Client).Do": a ".(" before a ")."
  static bool looks_like_go_method(std::string_view s) {
    size_t open = s.find(".(");
    if (open == std::string_view::npos) return false;
    size_t close = s.rfind(").");
    return close != std::string_view::npos && close >= open + 2;
  }

  // Cuts at the first '(' that does not open "(anonymous namespace)".
  static void cut_arguments(std::string &s) {
    static constexpr std::string_view kAnon = "anonymous namespace)";
    for (size_t p = s.find('('); p != std::string::npos; p = s.find('(', p + 1)) {
      if (std::string_view(s).substr(p + 1, kAnon.size()) != kAnon) {
        s.resize(p);
        return;
      }
    }
  }

  // "/tmp/perf-PID.map" anywhere in the module
  static bool is_perf_map(std::string_view m) {
    static constexpr std::string_view kPrefix = "/tmp/perf-";
    for (size_t p = m.find(kPrefix); p != std::string_view::npos; p = m.find(kPrefix, p + 1)) {
      size_t q = p + kPrefix.size();
      size_t d = q;
      while (d < m.size() && perl_digit(m[d])) ++d;
      if (d > q && m.substr(d, 4) == ".map") return true;
    }
    return false;
  }

  Profile &profile_;
  const ReadOptions &options_;
  const PerfOptions &po_;
  ReadStats &stats_;
  std::string event_filter_;
  bool has_pname_ = false;
  bool java_ = false;
  std::string pname_;
  uint64_t period_ = 1;
  // the frames of each frame line (";"-joined), innermost line first, one
  // after the other; group_ends_ marks where each ends.  With their ';'
  // separators they are at most kMaxLineBytes: offsets fit 32 bits.
  std::string groups_;
  std::vector<uint32_t> group_ends_;
  std::string group_, name_, folded_;
  std::vector<std::string_view> pieces_;
};

void read_perf(LineSource &src, Profile &profile, const ReadOptions &options, ReadStats &stats) {
  PerfFolder folder(profile, options, stats);
  std::string_view line;
  while (src.next(line)) folder.line(line, src.line_number());
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
  clean_name(out);
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
  int folded = 0, lines = 0, perf_headers = 0;
  bool header_seen = false, after_perf_header = false;
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
    if (line[0] == '#') continue;
    header_seen = true;
    // older perf writes frame lines without indentation
    PerfFrame pf;
    if (after_perf_header && match_perf_frame(line, pf) && is_hex(pf.addr))
      return InputFormat::kPerf;
    PerfHeader ph;
    std::string_view period, event;
    after_perf_header = match_perf_header(line, ph);
    if (after_perf_header && match_perf_event(line, period, event)) ++perf_headers;
    if (looks_folded(line)) ++folded;
  }
  if (pos < head.size() && lines == 0 && looks_folded(head.substr(pos))) return InputFormat::kFolded;
  if (folded > 0 && folded * 2 >= lines) return InputFormat::kFolded;
  // samples without frames only (perf record without -g)
  if (perf_headers > 0 && folded == 0) return InputFormat::kPerf;
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
      throw FormatError(label +
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
  } catch (const LineError &e) {
    throw FormatError(label + (e.line ? ":" + std::to_string(e.line) : std::string()) + ": " +
                      e.why);
  } catch (const FormatError &e) {
    throw FormatError(label + ": " + e.what());
  } catch (const InputError &e) {
    throw InputError(label + ": " + e.what());
  }
  if (stats.stacks == 0)
    throw FormatError(label + ": no stacks in this " + input_format_name(format) + " input");
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
