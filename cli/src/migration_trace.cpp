// SPDX-License-Identifier: GPL-2.0-or-later
#include "migration_trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "errors.h"
#include "migrate_causes.h"
#include "uapi/diagnose.h"

namespace diag::mtrace {

namespace {

// Reads all of fd; errno of a failed read() in *err.  Throws
// MalformedInput past kMaxInputBytes.
bool read_all(int fd, std::string &out, int *err, const std::string &label) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    if (out.size() + static_cast<size_t>(n) > kMaxInputBytes)
      throw MalformedInput(input_error(label, 0,
                                       "larger than the limit of " +
                                           std::to_string(kMaxInputBytes) +
                                           " bytes (cut it with grep or split)"));
    out.append(buf, n);
  }
}

[[noreturn]] void live_error(const char *path, int err) {
  std::string p = path;
  std::string dir = p.substr(0, p.rfind('/'));
  switch (err) {
    case ENOENT:
      throw EnvironmentError(p + " does not exist: load diagnose.ko (and mount debugfs)");
    case EACCES:
    case EPERM:
      throw EnvironmentError("reading " + p + " needs root");
    case EBUSY:
      throw std::runtime_error("tracing is running; stop it first: echo 0 > " + dir + "/enable");
    case ESTALE:
      throw std::runtime_error("the trace was reset or restarted while it was being read");
    default:
      throw std::runtime_error("cannot read " + p + ": " + std::strerror(err));
  }
}

}  // namespace

std::string input_label(const std::string &file, const char *live_path) {
  return file == "-" ? "<stdin>" : file.empty() ? live_path : file;
}

std::string read_input(const std::string &file, const char *live_path) {
  std::string out;
  int err = 0;
  const std::string label = input_label(file, live_path);
  if (file == "-") {
    if (!read_all(0, out, &err, label))
      throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(err));
    return out;
  }
  const bool live = file.empty();
  const std::string path = live ? live_path : file;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (live) live_error(live_path, errno);
    throw UsageError("cannot read " + path + ": " + std::strerror(errno));
  }
  bool ok;
  try {
    ok = read_all(fd, out, &err, label);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (!ok) {
    if (live) live_error(live_path, err);
    throw std::runtime_error("cannot read " + path + ": " + std::strerror(err));
  }
  return out;
}

// ---- small parsing helpers ----

namespace {

// Splits a line on single or repeated spaces; at most `max` tokens, the
// last one taking the rest of the line.
size_t split(std::string_view line, std::string_view *tok, size_t max) {
  size_t n = 0, i = 0;
  while (n < max) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    if (n == max - 1) {
      tok[n++] = line.substr(i);
      break;
    }
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    tok[n++] = line.substr(i, j - i);
    i = j;
  }
  return n;
}

template <typename T>
bool parse_num(std::string_view s, T &v, int base = 10) {
  if (base == 16 || (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

// Where the parser is: the input's name and the line.
struct Where {
  const std::string &label;
  size_t lineno = 0;
};

[[noreturn]] void bad_line(const Where &w, std::string_view line, const std::string &why) {
  std::string shown(line.substr(0, 80));
  throw FormatError(input_error(w.label, w.lineno, why + ": '" + shown + "'"));
}

// Calls f(line) for every line of text, w.lineno counting them.
template <typename F>
void for_each_line(std::string_view text, Where &w, F f) {
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++w.lineno;
    if (line.size() > kMaxLineBytes)
      throw FormatError(input_error(w.label, w.lineno,
                                    "line longer than the limit of " +
                                        std::to_string(kMaxLineBytes) + " bytes"));
    f(line);
    i = j + 1;
  }
}

void parse_trace_header(std::string_view line, const Where &w, TraceHeader &h) {
  std::string_view t[4];
  size_t n = split(line.substr(1), t, 4);
  if (n < 2) return;  // a comment
  auto num = [&](std::string_view s, uint64_t max) {
    uint64_t v;
    if (!parse_num(s, v)) bad_line(w, line, "not a number");
    if (v > max) bad_line(w, line, std::string(t[0]) + " more than " + std::to_string(max));
    return v;
  };
  if (t[0] == "version") {
    h.version = std::string(t[1]);
  } else if (t[0] == "nr_cpus") {
    h.nr_cpus = num(t[1], kMaxCpus);
  } else if ((t[0] == "cause" || t[0] == "loc") && n >= 3) {
    auto &m = t[0] == "cause" ? h.causes : h.kinds;
    m[num(t[1], UINT32_MAX)] = std::string(t[2]);
  } else if (t[0] == "state") {
    h.state = std::string(t[1]);
  } else if (t[0] == "start_ts") {
    h.start_ts = num(t[1], UINT64_MAX);
  } else if (t[0] == "stop_ts") {
    h.stop_ts = num(t[1], UINT64_MAX);
  } else if (t[0] == "full_ts") {
    h.full_ts = num(t[1], UINT64_MAX);
  } else if (t[0] == "full_cpu") {
    h.full_cpu = num(t[1], kMaxCpus - 1);
  } else if (t[0] == "lost") {
    h.lost = num(t[1], UINT64_MAX);
  } else if (t[0] == "skipped_calls") {
    h.skipped_calls = num(t[1], UINT64_MAX);
  }
}

}  // namespace

std::string Trace::cause_name(uint32_t cause) const {
  auto it = header.causes.find(cause);
  if (it != header.causes.end()) return it->second;
  auto k = header.kinds.find(cause);
  if (k != header.kinds.end()) return k->second;
  return migrate_cause_name(cause);
}

Trace parse_trace(std::string_view text, const std::string &label) {
  Trace trace;
  TraceHeader &h = trace.header;
  std::optional<uint32_t> fork_kind;
  bool kinds_resolved = false;
  Where w{label};
  // CPU numbers: below the header's nr_cpus, or the kernel's maximum
  auto check_cpus = [&](std::string_view line, const Event &e, bool moves) {
    const uint32_t limit = h.nr_cpus ? h.nr_cpus : kMaxCpus;
    if (e.cpu >= limit || (moves && (e.from >= limit || e.to >= limit)))
      bad_line(w, line,
               "a CPU number not below " + std::to_string(limit) +
                   (h.nr_cpus ? " (the header's nr_cpus)" : " (the largest NR_CPUS)"));
  };

  for_each_line(text, w, [&](std::string_view line) {
    if (line.empty()) return;
    if (line[0] == '#') {
      parse_trace_header(line, w, h);
      return;
    }
    if (!kinds_resolved) {
      // a trace without a header (or with only part of it): our own names
      if (h.causes.empty()) {
#define CAUSE(e, n, name, desc) h.causes[n] = name;
        DIAG_MIGRATE_CAUSES(CAUSE)
#undef CAUSE
      }
      if (h.kinds.empty()) {
#define KIND(e, n, name, desc) h.kinds[n] = name;
        DIAG_MT_EVENT_KINDS(KIND)
#undef KIND
      }
      for (auto &[n, name] : h.kinds)
        if (name == "fork_placement") fork_kind = n;
      kinds_resolved = true;
    }
    std::string_view t[8];
    size_t n = split(line, t, 8);
    Event e;
    if (n < 6 || !parse_num(t[0], e.ts, 16) || !parse_num(t[1], e.cpu))
      bad_line(w, line, "not a trace event");
    if (t[2] != ".") {
      // 0x<ts> CPU OLD NEW PID CAUSE#
      if (n != 6 || !parse_num(t[2], e.from) || !parse_num(t[3], e.to) ||
          !parse_num(t[4], e.pid) || !parse_num(t[5], e.kind))
        bad_line(w, line, "not a migration event");
      check_cpus(line, e, true);
      if (fork_kind && e.kind == *fork_kind)
        e.type = EventType::kForkPlacement;
      else if (h.causes.count(e.kind))
        e.type = EventType::kMigrate;
      else
        bad_line(w, line, "unknown cause " + std::to_string(e.kind));
    } else if (t[4] == "." && t[5] == DIAG_MT_START_EVENT) {
      // 0x<ts> CPU . . . start_sched_clock SEC USEC
      e.type = EventType::kStart;
      if (n != 8 || !parse_num(t[6], e.wall_sec) || !parse_num(t[7], e.wall_usec))
        bad_line(w, line, "not a start_sched_clock event");
      if (e.wall_sec < 0 || e.wall_sec > kMaxWallSec || e.wall_usec >= 1000000)
        bad_line(w, line, "a wall-clock time out of range (seconds 0.." +
                              std::to_string(kMaxWallSec) + ", microseconds below 1000000)");
      check_cpus(line, e, false);
    } else {
      if (!parse_num(t[4], e.pid) || !parse_num(t[5], e.kind))
        bad_line(w, line, "not a trace event");
      check_cpus(line, e, false);
      auto k = h.kinds.find(e.kind);
      std::string_view kind = k == h.kinds.end() ? "" : std::string_view(k->second);
      if (kind == "mark") {
        // 0x<ts> CPU . . PID LOC# 0x<mark>
        e.type = EventType::kMark;
        if (n != 7 || !parse_num(t[6], e.mark, 16)) bad_line(w, line, "not a mark event");
      } else if (kind == "copy_process" || kind == "set_task_comm" || kind == "task_list") {
        // 0x<ts> CPU . . PID LOC# : COMM   (the name may hold spaces)
        e.type = EventType::kComm;
        size_t colon = line.find(" : ");
        if (n < 7 || t[6].substr(0, 1) != ":" || colon == std::string_view::npos)
          bad_line(w, line, "not a name event");
        e.comm = std::string(line.substr(colon + 3));
      } else {
        bad_line(w, line, "unknown event kind " + std::to_string(e.kind));
      }
    }
    trace.events.push_back(std::move(e));
  });

  // The kernel writes events in time order; `sort` keeps them so; anything
  // else is put in order here.
  if (!std::is_sorted(trace.events.begin(), trace.events.end(),
                      [](const Event &a, const Event &b) { return a.ts < b.ts; }))
    std::stable_sort(trace.events.begin(), trace.events.end(),
                     [](const Event &a, const Event &b) { return a.ts < b.ts; });
  if (!trace.header.nr_cpus) {
    uint32_t max_cpu = 0;
    for (const auto &e : trace.events)
      max_cpu = std::max({max_cpu, e.cpu, e.from, e.to});
    trace.header.nr_cpus = trace.events.empty() ? 0 : max_cpu + 1;
  }
  return trace;
}

// ---- analysis ----

namespace {

std::string mark_text(uint64_t mark) {
  std::ostringstream s;
  s << "0x" << std::hex << mark;
  return s.str();
}

const Event *find_mark(const Trace &t, uint64_t mark) {
  for (const auto &e : t.events)
    if (e.type == EventType::kMark && e.mark == mark) return &e;
  return nullptr;
}

// start + sec seconds, clamped to the timestamps there are.
uint64_t sec_to_ts(uint64_t start, double sec) {
  double ns = sec * 1e9;
  if (!(ns > -1.8e19)) return 0;  // also NaN
  if (ns >= 1.8e19) return UINT64_MAX;
  if (ns < 0) {
    double back = -ns;
    return back >= static_cast<double>(start) ? 0 : start - static_cast<uint64_t>(back);
  }
  uint64_t fwd = static_cast<uint64_t>(ns);
  return fwd > UINT64_MAX - start ? UINT64_MAX : start + fwd;
}

bool contains_cpu(const std::set<uint32_t> &s, const Event &e) {
  return s.count(e.from) || s.count(e.to);
}

}  // namespace

Analysis analyze(const Trace &trace, const Filters &f) {
  Analysis a;
  a.trace = &trace;
  const auto &ev = trace.events;
  if (ev.empty()) throw std::runtime_error("the trace has no events (was tracing started?)");

  a.start = ev.front().ts;
  for (const auto &e : ev)
    if (e.type == EventType::kStart) {
      a.start = e.ts;
      a.has_wall = true;
      // in range: parse_trace checked both
      a.wall_ns_at_start = e.wall_sec * 1000000000LL + e.wall_usec * 1000LL;
      break;
    }

  // The trace ends where it stopped; when a buffer filled, what other CPUs
  // wrote after that is incomplete.
  uint64_t trace_end = ev.back().ts;
  if (trace.header.full_ts) trace_end = *trace.header.full_ts;
  else if (trace.header.stop_ts) trace_end = std::max(trace_end, *trace.header.stop_ts);

  a.begin = a.start;
  a.end = trace_end;
  if (f.begin_mark) {
    const Event *m = find_mark(trace, *f.begin_mark);
    if (!m) throw UsageError("begin mark " + mark_text(*f.begin_mark) + " is not in the trace");
    a.begin = std::max(a.begin, m->ts);
  }
  if (f.begin_sec) a.begin = std::max(a.begin, sec_to_ts(a.start, *f.begin_sec));
  if (f.begin_ts) a.begin = std::max(a.begin, *f.begin_ts);
  if (f.end_mark) {
    const Event *m = find_mark(trace, *f.end_mark);
    if (!m) throw UsageError("end mark " + mark_text(*f.end_mark) + " is not in the trace");
    a.end = std::min(a.end, m->ts);
  }
  if (f.end_sec) a.end = std::min(a.end, sec_to_ts(a.start, *f.end_sec));
  if (f.end_ts) a.end = std::min(a.end, *f.end_ts);
  if (a.end < a.begin) throw UsageError("the begin and end filters leave an empty window");

  std::map<int32_t, std::string> names;
  for (const auto &e : ev) {
    if (e.type == EventType::kComm) {
      names[e.pid] = e.comm;
      continue;
    }
    if (e.type != EventType::kMigrate && e.type != EventType::kForkPlacement) continue;
    if (e.ts > trace_end) {
      ++a.dropped_after_full;
      continue;
    }
    if (e.ts < a.begin || e.ts > a.end) continue;
    auto name = names.find(e.pid);
    const std::string &comm = name == names.end() ? std::string() : name->second;
    if (!f.pids.empty() && !f.pids.count(e.pid)) continue;
    if (f.exclude_pids.count(e.pid)) continue;
    if (!f.comms.empty() && !f.comms.count(comm)) continue;
    if (f.exclude_comms.count(comm)) continue;
    if (!f.causes.empty() && !f.causes.count(e.kind)) continue;
    if (f.exclude_causes.count(e.kind)) continue;
    if (!f.cpus.empty() && !contains_cpu(f.cpus, e)) continue;
    if (contains_cpu(f.exclude_cpus, e)) continue;
    bool fork = e.type == EventType::kForkPlacement;
    a.moves.push_back({e.ts, e.cpu, e.from, e.to, e.pid, e.kind, fork, comm});
    if (fork)
      ++a.fork_placements;
    else
      ++a.migrations;
  }
  return a;
}

Summary summarize(const Analysis &a) {
  Summary s;
  const uint32_t n = a.trace->header.nr_cpus;
  const bool dense = n <= Summary::kMatrixCpus;
  if (dense) s.matrix.assign(n, std::vector<uint64_t>(n, 0));
  std::map<int32_t, size_t> task_index;
  for (const auto &m : a.moves) {
    if (m.fork_placement) continue;
    ++s.by_cause[m.cause];
    ++s.pairs[{m.from, m.to}];
    if (dense && m.from < n && m.to < n) ++s.matrix[m.from][m.to];
    auto [it, added] = task_index.try_emplace(m.pid, s.tasks.size());
    if (added) s.tasks.push_back({m.pid, m.comm, 0});
    auto &t = s.tasks[it->second];
    ++t.migrations;
    if (!m.comm.empty()) t.comm = m.comm;
  }
  std::stable_sort(s.tasks.begin(), s.tasks.end(),
                   [](const auto &x, const auto &y) { return x.migrations > y.migrations; });
  return s;
}

std::string hex_ts(uint64_t ts) {
  char buf[24];
  snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)ts);
  return buf;
}

std::string format_ts(const Analysis &a, uint64_t ts, TsMode mode) {
  char buf[48];
  switch (mode) {
    case TsMode::kRaw:
      return hex_ts(ts);
    case TsMode::kRelative: {
      // |ts - start| without overflow, whichever is larger
      bool neg = ts < a.start;
      uint64_t d = neg ? a.start - ts : ts - a.start;
      snprintf(buf, sizeof(buf), "%s%llu.%06llu", neg ? "-" : "",
               (unsigned long long)(d / 1000000000ull),
               (unsigned long long)((d % 1000000000ull) / 1000));
      break;
    }
    case TsMode::kAbsolute: {
      // wrapping, not undefined, for a timestamp no clock can reach
      int64_t ns = (int64_t)((uint64_t)a.wall_ns_at_start + (ts - a.start));
      snprintf(buf, sizeof(buf), "%lld.%06lld", (long long)(ns / 1000000000LL),
               (long long)((ns % 1000000000LL) / 1000));
      break;
    }
  }
  return buf;
}

// ---- stat files ----

uint32_t StatFile::min_field() const {
  for (auto &[n, name] : fields)
    if (n != ts_field) return n;
  return 0;
}

uint32_t StatFile::max_field() const {
  for (auto it = fields.rbegin(); it != fields.rend(); ++it)
    if (it->first != ts_field) return it->first;
  return 0;
}

std::optional<uint32_t> StatFile::field_num(const std::string &name) const {
  for (auto &[n, fname] : fields)
    if (fname == name) return n;
  return std::nullopt;
}

std::vector<std::pair<double, double>> StatFile::extract(uint32_t field) const {
  std::vector<std::pair<double, double>> out;
  out.reserve(rows.size());
  const double per_sec = 1000.0 / period_msec;
  for (const auto &r : rows) {
    if (field - 1 >= r.size() || ts_field - 1 >= r.size()) continue;
    out.emplace_back(r[ts_field - 1], r[field - 1] * per_sec);
  }
  return out;
}

StatFile parse_stat(std::string_view text, const std::string &label) {
  StatFile s;
  size_t ncols = 0;
  uint64_t values = 0;
  Where w{label};
  for_each_line(text, w, [&](std::string_view line) {
    if (line.empty()) return;
    if (line[0] == '#') {
      std::string_view t[4];
      size_t n = split(line.substr(1), t, 4);
      auto num = [&](std::string_view v, int64_t min, int64_t max) {
        int64_t x;
        if (!parse_num(v, x)) bad_line(w, line, "not a number");
        if (x < min || x > max)
          bad_line(w, line, "not in " + std::to_string(min) + ".." + std::to_string(max));
        return x;
      };
      if (ncols && n >= 2 && (t[0] == "period_msec" || t[0] == "ts_field" || t[0] == "field"))
        bad_line(w, line, "a header line after the data");
      if (n >= 2 && t[0] == "version") {
        s.version = std::string(t[1]);
      } else if (n >= 2 && t[0] == "period_msec") {
        s.period_msec = num(t[1], 1, kMaxPeriodMsec);
      } else if (n >= 3 && t[0] == "gettimeofday") {
        s.gtod_sec = num(t[1], 0, kMaxWallSec);
        s.gtod_usec = num(t[2], 0, 999999);
      } else if (n >= 2 && t[0] == "ts_field") {
        s.ts_field = num(t[1], 1, kMaxStatFields);
      } else if (n >= 3 && t[0] == "field") {
        s.fields[num(t[1], 1, kMaxStatFields)] = std::string(t[2]);
      } else {
        s.other_header.emplace_back(line);
      }
      return;
    }
    if (!ncols) {
      if (!s.period_msec) bad_line(w, line, "data before the '# period_msec' header line");
      if (s.fields.empty()) bad_line(w, line, "data before the '# field' header lines");
      ncols = std::max(s.fields.rbegin()->first, s.ts_field);
    }
    values += ncols;
    if (values > kMaxStatValues)
      bad_line(w, line, "more than the limit of " + std::to_string(kMaxStatValues) +
                            " values (rows x fields)");
    std::vector<double> row;
    row.reserve(ncols);
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      if (i >= line.size()) break;
      size_t j = line.find(' ', i);
      if (j == std::string_view::npos) j = line.size();
      double v;
      auto [p, ec] = std::from_chars(line.data() + i, line.data() + j, v);
      if (ec != std::errc() || p != line.data() + j || !std::isfinite(v))
        bad_line(w, line, "not a number");
      if (row.size() == ncols) break;  // too many: said below
      row.push_back(v);
      i = j;
    }
    if (row.size() != ncols || i < line.size())
      bad_line(w, line,
               "expected " + std::to_string(ncols) + " fields, found " +
                   (i < line.size() ? "more" : std::to_string(row.size())));
    s.rows.push_back(std::move(row));
  });
  if (!s.period_msec)
    throw FormatError(input_error(label, 0, "not a stat file: no '# period_msec' line"));
  if (s.fields.empty())
    throw FormatError(input_error(label, 0, "not a stat file: no '# field' lines"));
  return s;
}

std::string format_value(double v) {
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
  else
    snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

void write_stat(const StatFile &s, std::ostream &out) {
  out << "# version " << s.version << '\n';
  out << "# period_msec " << s.period_msec << '\n';
  out << "# gettimeofday " << s.gtod_sec << ' ' << s.gtod_usec << '\n';
  out << "# ts_field " << s.ts_field << '\n';
  for (auto &[n, name] : s.fields)
    if (n != s.ts_field) out << "# field " << n << ' ' << name << '\n';
  for (auto &line : s.other_header) out << line << '\n';
  char ts[32];
  for (const auto &r : s.rows) {
    for (size_t c = 0; c < r.size(); ++c) {
      if (c) out << ' ';
      if (c + 1 == s.ts_field) {
        snprintf(ts, sizeof(ts), "%.3f", r[c]);
        out << ts;
      } else {
        out << format_value(r[c]);
      }
    }
    out << '\n';
  }
}

StatFile period_stat(const Analysis &a, uint32_t period_ms, const PeriodGroups &g) {
  if (!period_ms) throw UsageError("--period must be at least 1 ms");
  const Trace &t = *a.trace;
  const uint64_t period_ns = (uint64_t)period_ms * 1000000;
  const uint64_t nperiods = (a.end - a.begin) / period_ns;
  const uint32_t ncpu = t.header.nr_cpus;
  if (nperiods > kMaxPeriods)
    throw UsageError("--period " + std::to_string(period_ms) + " over the window of " +
                     format_value((a.end - a.begin) / 1e9) + " s makes " +
                     std::to_string(nperiods) + " periods, more than the limit of " +
                     std::to_string(kMaxPeriods) +
                     ": take a longer period or narrow the window (--begin_sec, --end_sec)");

  StatFile s;
  s.version = DIAG_MSTAT_FORMAT_VERSION;
  s.period_msec = period_ms;
  if (a.has_wall) {
    int64_t wall = (int64_t)((uint64_t)a.wall_ns_at_start + (a.begin - a.start));
    s.gtod_sec = wall / 1000000000LL;
    s.gtod_usec = (wall % 1000000000LL) / 1000;
  }
  s.ts_field = 1;
  s.other_header.push_back("# source migrate-stats, window start_ts " +
                           format_ts(a, a.begin, TsMode::kRaw) + ", " +
                           std::to_string(nperiods) + " complete periods");

  std::set<std::pair<uint32_t, uint32_t>> pairs;
  if (g.cpu_pair)
    for (const auto &m : a.moves)
      if (!m.fork_placement) pairs.insert({m.from, m.to});
  const uint64_t nfields = 1 + g.all + (g.cause ? t.header.causes.size() : 0) +
                           (g.cpu ? 2ull * ncpu : 0) + pairs.size();
  if (nfields > kMaxStatFields || nperiods * nfields > kMaxStatValues)
    throw UsageError("--period would write " + std::to_string(nfields) + " fields x " +
                     std::to_string(nperiods) + " periods, more than the limits of " +
                     std::to_string(kMaxStatFields) + " fields and " +
                     std::to_string(kMaxStatValues) +
                     " values of a stat file: take fewer --period_* groups, a longer period or "
                     "a narrower window");

  // Column of each series, in field order: all, causes, CPUs, CPU pairs.
  uint32_t next = 2;
  auto add = [&](const std::string &name) {
    s.fields[next] = name;
    return next++;
  };
  uint32_t col_all = 0;
  std::map<uint32_t, uint32_t> col_cause;
  std::vector<uint32_t> col_from, col_to;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> col_pair;
  if (g.all) col_all = add("migrate");
  if (g.cause)
    for (auto &[n, name] : t.header.causes) col_cause[n] = add(name);
  if (g.cpu) {
    for (uint32_t c = 0; c < ncpu; ++c) col_from.push_back(add("from_cpu_" + std::to_string(c)));
    for (uint32_t c = 0; c < ncpu; ++c) col_to.push_back(add("to_cpu_" + std::to_string(c)));
  }
  for (auto &p : pairs)
    col_pair[p] = add("cpu_" + std::to_string(p.first) + "_to_" + std::to_string(p.second));
  s.fields[1] = "ts";

  s.rows.assign(nperiods, std::vector<double>(next - 1, 0.0));
  for (uint64_t k = 0; k < nperiods; ++k) s.rows[k][0] = (double)(k * period_ms) / 1000.0;
  for (const auto &m : a.moves) {
    if (m.fork_placement || m.ts < a.begin) continue;
    uint64_t k = (m.ts - a.begin) / period_ns;
    if (k >= nperiods) continue;  // the last, incomplete period
    auto &row = s.rows[k];
    if (col_all) row[col_all - 1] += 1;
    if (auto c = col_cause.find(m.cause); c != col_cause.end()) row[c->second - 1] += 1;
    if (m.from < col_from.size()) row[col_from[m.from] - 1] += 1;
    if (m.to < col_to.size()) row[col_to[m.to] - 1] += 1;
    if (auto p = col_pair.find({m.from, m.to}); p != col_pair.end()) row[p->second - 1] += 1;
  }
  return s;
}

const char *const kFormatHelp = R"(FORMATS OF THE LIGHT-WEIGHT MIGRATION TRACE

trace  (/sys/kernel/debug/migration_trace/trace, the input of migrate-stats)
  Header lines start with '#':
    # version V.U.F          format version
    # nr_cpus N              CPUs of the traced system
    # ts_field 1             field 1 of every event is its timestamp
    # ts_clock ...           the clock: CLOCK_MONOTONIC ns, hexadecimal
    # cause N NAME           cause number N of migration events
    # loc N NAME             number N of the other event kinds
    # state S                running, stopped, full (a CPU buffer filled), empty
    # buffer_kib, starts, start_ts, stop_ts, full_cpu, full_ts, lost
    # skipped_calls N        (the BPF backend) program calls the kernel skipped
  Events, one per line, in timestamp order (sort keeps that order):
    0x<ts> CPU . . . start_sched_clock SEC USEC
                             per CPU at the start: wall-clock time (gettimeofday)
    0x<ts> CPU OLD NEW PID CAUSE#
                             task PID migrated from CPU OLD to CPU NEW because of
                             cause CAUSE# (a "# cause" line); CPU recorded it
    0x<ts> CPU OLD NEW PID LOC#
                             with LOC# of fork_placement: a new task was first
                             placed on NEW, not its parent's CPU OLD (not a migration)
    0x<ts> CPU . . PID LOC# : COMM
                             task_list (alive at the start), copy_process (created),
                             set_task_comm (renamed): task PID is named COMM
    0x<ts> CPU . . PID LOC# 0x<MARK>
                             a mark written to migration_trace/mark or by mt_trace_mark()

stat  (/sys/kernel/debug/migration_stat/stat and migrate-stats --period output,
       the input of migrate-extract)
    # version V.U.F
    # period_msec MSEC       length of a period
    # gettimeofday SEC USEC  wall-clock time of the start of the first period
    # ts_field 1             field 1 is the period's start in seconds since the start
    # field N NAME           field N counts NAME in the period
    # ...                    other header lines: ignore them
  then one line per complete period: TS COUNT COUNT ...
  Kernel fields: one per cause, fork_placement (not a migration), and migrate
  (the sum of the causes, i.e. all migrations).  migrate-stats --period fields:
  migrate (--period_all), one per cause (--period_cause), from_cpu_N and
  to_cpu_N (--period_cpu), cpu_A_to_B (--period_cpu_pair).

migrate-stats --migrate rows
    TS CPU FROM TO PID COMM CAUSE
  TS as in the trace (hexadecimal ns), or seconds since the start (--ts_rel),
  or wall-clock seconds since the epoch (--ts_abs); CPU recorded the event;
  COMM is the task's name at that moment.

migrate-extract --extract N rows
    TS VALUE                 TS seconds since the start, VALUE the count of field
                             N in the period, per second
)";

}  // namespace diag::mtrace
