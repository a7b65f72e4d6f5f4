// SPDX-License-Identifier: GPL-2.0-or-later
// The interactive SVG: frames as <g><title/><rect/><text/></g> (what
// flamegraph.pl emits, so other tools and people's scripts keep working),
// plus a script for zoom, search, tooltips and URL state (svg_script.js).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "flame/render.h"

namespace flame {

namespace {

#include "svg_script.inc"  // kScript: svg_script.js

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string rgb(int r, int g, int b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "rgb(%d,%d,%d)", r, g, b);
  return buf;
}

// Buffered output: the SVG of a large profile is tens of MB.
class Out {
 public:
  explicit Out(std::ostream &os) : os_(os) { buf_.reserve(kFlush + 4096); }
  ~Out() { flush(); }
  Out &operator<<(std::string_view s) {
    buf_.append(s);
    maybe_flush();
    return *this;
  }
  Out &operator<<(char c) {
    buf_ += c;
    return *this;
  }
  void num(double v, int decimals = 2) {
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof(tmp), v, std::chars_format::fixed, decimals);
    std::string_view s(tmp, r.ptr - tmp);
    // "12.50" -> "12.5", "12.00" -> "12": smaller files
    if (decimals > 0) {
      while (s.back() == '0') s.remove_suffix(1);
      if (s.back() == '.') s.remove_suffix(1);
    }
    if (s == "-0") s = "0";
    buf_.append(s);
  }
  void integer(uint64_t v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof(tmp), v);
    buf_.append(tmp, r.ptr - tmp);
  }
  void xml(std::string_view s) { append_xml_escaped(buf_, s); }
  std::string &raw() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kFlush) flush();
  }
  void flush() {
    os_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    bytes_ += buf_.size();
    buf_.clear();
  }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  static constexpr size_t kFlush = 1 << 20;
  std::ostream &os_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

// 1234567 -> "1,234,567"
std::string grouped(uint64_t v) {
  std::string digits = std::to_string(v), out;
  int lead = static_cast<int>(digits.size() % 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (static_cast<int>(i) - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string percent(double part, double whole) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", whole > 0 ? 100.0 * part / whole : 0.0);
  return buf;
}

std::string_view shown_name(std::string_view name) {
  return frame_kind(name) == FrameKind::kSeparator ? std::string_view("kernel") : display_name(name);
}

// Number of UTF-8 characters, and the byte length of the first n of them.
size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
size_t utf8_prefix(std::string_view s, size_t chars) {
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == 0) break;
      --chars;
    }
  }
  return i;
}

class SvgWriter {
 public:
  SvgWriter(const Profile &p, const SvgOptions &o, std::ostream &os) : p_(p), o_(o), out_(os) {}

  SvgStats write() {
    total_ = p_.total(Profile::kRoot);
    plot_width_ = o_.width - 2 * kXpad;
    px_per_count_ = total_ ? plot_width_ / static_cast<double>(total_) : 0;
    min_px_ = o_.min_width_percent ? o_.min_width / 100.0 * plot_width_ : o_.min_width;
    if (p_.differential()) {
      for (size_t n = 0; n < p_.size(); ++n) {
        int64_t d = static_cast<int64_t>(p_.self(n)) - static_cast<int64_t>(p_.base_self(n));
        max_delta_ = std::max<uint64_t>(max_delta_, static_cast<uint64_t>(d < 0 ? -d : d));
      }
    }
    if (total_) measure(Profile::kRoot);
    ypad1_ = o_.font_size * 3 + (o_.subtitle.empty() ? 0 : o_.font_size * 1.5);
    ypad2_ = o_.font_size * 2 + 10;
    height_ = std::ceil(ypad1_ + (stats_.depth + 1) * o_.frame_height + ypad2_);
    header();
    if (total_) {
      out_ << "<g id=\"frames\">\n";
      emit_all(Profile::kRoot);
      out_ << "</g>\n";
    } else {
      out_ << "<text x=\"" ;
      out_.num(o_.width / 2);
      out_ << "\" y=\"";
      out_.num(ypad1_ + o_.frame_height);
      out_ << "\" text-anchor=\"middle\">no samples</text>\n";
    }
    out_ << "</svg>\n";
    out_.flush();
    stats_.bytes = out_.bytes();
    return stats_;
  }

 private:
  static constexpr double kXpad = 10;

  bool drawn(Profile::NodeId n) const {
    return static_cast<double>(p_.total(n)) * px_per_count_ >= min_px_;
  }

  // The deepest level drawn.  Stacks can be as deep as a line is long: a
  // walk with a stack of its own, not recursion.
  void measure(Profile::NodeId root) {
    std::vector<std::pair<Profile::NodeId, unsigned>> todo{{root, 0}};
    while (!todo.empty()) {
      auto [n, depth] = todo.back();
      todo.pop_back();
      if (!drawn(n)) continue;
      stats_.depth = std::max(stats_.depth, depth);
      for (Profile::NodeId c : p_.children(n)) todo.push_back({c, depth + 1});
    }
  }

  std::string title_text() const {
    if (!o_.title.empty()) return o_.title;
    if (p_.options().flamechart) return "Flame Chart";
    return o_.inverted ? "Icicle Graph" : "Flame Graph";
  }

  void header() {
    std::string w, h;
    out_ << "<?xml version=\"1.0\" standalone=\"no\"?>\n"
            "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
            "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
            "<svg version=\"1.1\" width=\"";
    out_.num(o_.width);
    out_ << "\" height=\"";
    out_.num(height_);
    out_ << "\" onload=\"init(evt)\" viewBox=\"0 0 ";
    out_.num(o_.width);
    out_ << ' ';
    out_.num(height_);
    out_ << "\" xmlns=\"http://www.w3.org/2000/svg\">\n"
            "<!-- Flame graph by diagnose-tools flame. Click a frame to zoom, Ctrl-F to search "
            "(regular expression), Ctrl-I to toggle case; zoom and search are kept in the URL. "
            "-->\n";
    std::string font;
    for (char c : o_.font)
      if (std::string_view(";{}<>&\"'\\").find(c) == std::string_view::npos) font += c;
    out_ << "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
            "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" "
            "offset=\"95%\"/></linearGradient></defs>\n"
            "<style type=\"text/css\">\n"
            "text { font-family: '" << font << "', 'DejaVu Sans', sans-serif; font-size: ";
    out_.num(o_.font_size);
    out_ << "px; fill: rgb(0,0,0); }\n"
            "#title { text-anchor: middle; font-size: ";
    out_.num(o_.font_size + 5);
    out_ << "px; }\n"
            "#subtitle { text-anchor: middle; fill: rgb(90,90,90); }\n"
            "#matched { text-anchor: end; }\n"
            ".button { cursor: pointer; fill: rgb(0,0,160); }\n"
            ".button:hover { text-decoration: underline; }\n"
            ".hide { display: none; }\n"
            "#ignorecase.on { fill: rgb(200,0,0); font-weight: bold; }\n"
            "#frames > g { cursor: pointer; }\n"
            "#frames > g:hover > rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
            "#frames text { pointer-events: none; }\n"
            "#frames > g.sep > text { fill: rgb(255,255,255); font-weight: bold; }\n"
            "#frames > g.parent { opacity: 0.55; }\n"
            "</style>\n"
            "<script type=\"text/ecmascript\"><![CDATA[\n"
            "var fl = {inverted: " << (o_.inverted ? "true" : "false")
         << ", diff: " << (p_.differential() ? "true" : "false") << ", total: ";
    out_.integer(total_);
    out_ << ", countname: \"";
    append_json_escaped(out_.raw(), o_.countname);
    out_ << "\", width: ";
    out_.num(o_.width);
    out_ << ", xpad: ";
    out_.num(kXpad);
    out_ << ", fontsize: ";
    out_.num(o_.font_size);
    out_ << ", fontwidth: ";
    out_.num(o_.font_width, 3);
    out_ << ", searchcolor: \"rgb(230,0,230)\"};\n";
    out_ << kScript << "]]></script>\n";
    out_ << "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"url(#background)\"/>\n";
    text("title", o_.width / 2, o_.font_size * 2, title_text());
    if (!o_.subtitle.empty()) text("subtitle", o_.width / 2, o_.font_size * 3.4, o_.subtitle);
    double bottom = height_ - ypad2_ / 2;
    text("details", kXpad, bottom, " ");
    button("unzoom", kXpad, o_.font_size * 2, "Reset Zoom", true);
    button("search", o_.width - kXpad - 100, o_.font_size * 2, "Search", false);
    button("ignorecase", o_.width - kXpad - 16, o_.font_size * 2, "ic", false);
    text("matched", o_.width - kXpad, bottom, " ");
  }

  void text(const char *id, double x, double y, std::string_view s) {
    out_ << "<text id=\"" << id << "\" x=\"";
    out_.num(x);
    out_ << "\" y=\"";
    out_.num(y);
    out_ << "\">";
    out_.xml(s);
    out_ << "</text>\n";
  }

  void button(const char *id, double x, double y, std::string_view label, bool hidden) {
    out_ << "<text id=\"" << id << "\" class=\"button" << (hidden ? " hide" : "") << "\" x=\"";
    out_.num(x);
    out_ << "\" y=\"";
    out_.num(y);
    out_ << "\">" << label << "</text>\n";
  }

  std::string color(Profile::NodeId n) const {
    std::string_view name = p_.name(n);
    if (p_.differential()) {
      int64_t d = static_cast<int64_t>(p_.self(n)) - static_cast<int64_t>(p_.base_self(n));
      return diff_color(d, max_delta_, o_.negate);
    }
    return frame_color(name, o_.palette);
  }

  // Every frame, parents before their children and children in drawing
  // order, as a recursive walk would, with a stack of its own.
  void emit_all(Profile::NodeId root) {
    struct Todo {
      Profile::NodeId n;
      unsigned depth;
      uint64_t x;
    };
    std::vector<Todo> todo{{root, 0, 0}};
    std::vector<Todo> kids;
    while (!todo.empty()) {
      Todo t = todo.back();
      todo.pop_back();
      if (!emit(t.n, t.depth, t.x)) continue;
      kids.clear();
      uint64_t cx = t.x;
      for (Profile::NodeId c : p_.children(t.n)) {
        kids.push_back({c, t.depth + 1, cx});
        cx += p_.total(c);
      }
      todo.insert(todo.end(), kids.rbegin(), kids.rend());
    }
  }

  // One frame; false when it is too narrow to draw (then neither are its
  // children).
  bool emit(Profile::NodeId n, unsigned depth, uint64_t x) {
    if (!drawn(n)) {
      ++stats_.omitted;
      return false;
    }
    ++stats_.frames;
    const uint64_t t = p_.total(n);
    double x1 = std::round((kXpad + x * px_per_count_) * 100) / 100;
    double x2 = std::round((kXpad + (x + t) * px_per_count_) * 100) / 100;
    double y = o_.inverted ? ypad1_ + depth * o_.frame_height
                           : height_ - ypad2_ - (depth + 1) * o_.frame_height;
    std::string_view name = p_.name(n);
    std::string_view shown = shown_name(name);
    bool sep = frame_kind(name) == FrameKind::kSeparator;

    out_ << (sep ? "<g class=\"sep\" c=\"" : "<g c=\"");
    out_.integer(t);
    out_ << "\"><title>";
    out_.xml(shown);
    out_ << " (" << grouped(t) << ' ';
    out_.xml(o_.countname);
    out_ << ", " << percent(static_cast<double>(t), static_cast<double>(total_)) << '%';
    if (p_.differential()) {
      uint64_t b = p_.base_total(n);
      int64_t self_delta = static_cast<int64_t>(p_.self(n)) - static_cast<int64_t>(p_.base_self(n));
      out_ << "; baseline " << grouped(b);
      if (b > 0) {
        double change = 100.0 * (static_cast<double>(t) - static_cast<double>(b)) / b;
        char buf[32];
        std::snprintf(buf, sizeof(buf), " (%+.2f%%)", change);
        out_ << buf;
      }
      out_ << ", self " << (self_delta >= 0 ? "+" : "-")
           << grouped(static_cast<uint64_t>(self_delta < 0 ? -self_delta : self_delta));
    }
    out_ << ")</title><rect x=\"";
    out_.num(x1);
    out_ << "\" y=\"";
    out_.num(y);
    out_ << "\" width=\"";
    out_.num(x2 - x1);
    out_ << "\" height=\"";
    out_.num(o_.frame_height - 1);
    out_ << "\" fill=\"" << (sep ? std::string("rgb(110,110,110)") : color(n)) << "\"/><text x=\"";
    out_.num(x1 + 3);
    out_ << "\" y=\"";
    out_.num(y + (o_.frame_height + o_.font_size) / 2 - 2);
    out_ << "\">";
    // the full name is in the title; the label is cut to the frame's width
    size_t fit = static_cast<size_t>(std::max(0.0, (x2 - x1 - 3) / (o_.font_size * o_.font_width)));
    if (fit >= 3) {
      if (utf8_chars(shown) <= fit) {
        out_.xml(shown);
      } else {
        out_.xml(shown.substr(0, utf8_prefix(shown, fit - 2)));
        out_ << "..";
      }
    }
    out_ << "</text></g>\n";
    out_.maybe_flush();
    return true;
  }

  const Profile &p_;
  const SvgOptions &o_;
  Out out_;
  SvgStats stats_;
  uint64_t total_ = 0, max_delta_ = 0;
  double plot_width_ = 0, px_per_count_ = 0, min_px_ = 0;
  double ypad1_ = 0, ypad2_ = 0, height_ = 0;
};

}  // namespace

std::optional<Palette> parse_palette(std::string_view name) {
  if (name == "hot") return Palette::kHot;
  if (name == "mem") return Palette::kMem;
  if (name == "io") return Palette::kIo;
  return std::nullopt;
}

std::string frame_color(std::string_view name, Palette palette) {
  FrameKind kind = frame_kind(name);
  if (kind == FrameKind::kSeparator) return "rgb(110,110,110)";
  std::string_view base = display_name(name);
  uint64_t h = fnv1a(base);
  // three independent shades out of one hash
  double v1 = static_cast<double>(h & 0xffff) / 0xffff;
  double v2 = static_cast<double>((h >> 16) & 0xffff) / 0xffff;
  double v3 = static_cast<double>((h >> 32) & 0xffff) / 0xffff;
  if (kind == FrameKind::kKernel) {
    if (palette == Palette::kHot)  // aqua: apart from the reds and yellows
      return rgb(50 + static_cast<int>(60 * v1), 165 + static_cast<int>(55 * v1),
                 165 + static_cast<int>(55 * v1));
    // orange: apart from mem's greens and io's blues
    return rgb(190 + static_cast<int>(65 * v1), 90 + static_cast<int>(65 * v1), 0);
  }
  switch (palette) {
    case Palette::kMem:
      return rgb(0, 190 + static_cast<int>(50 * v2), static_cast<int>(210 * v1));
    case Palette::kIo: {
      int r = 80 + static_cast<int>(60 * v1);
      return rgb(r, r, 190 + static_cast<int>(55 * v2));
    }
    case Palette::kHot:
    default:
      return rgb(205 + static_cast<int>(50 * v3), static_cast<int>(230 * v1),
                 static_cast<int>(55 * v2));
  }
}

std::string diff_color(int64_t delta, uint64_t max_delta, bool negate) {
  if (negate) delta = -delta;
  if (delta == 0 || max_delta == 0) return rgb(255, 255, 255);
  double ratio = static_cast<double>(delta < 0 ? -delta : delta) / static_cast<double>(max_delta);
  int shade = static_cast<int>(210 * (1 - std::min(1.0, ratio)));
  return delta > 0 ? rgb(255, shade, shade) : rgb(shade, shade, 255);
}

SvgStats write_svg(const Profile &profile, const SvgOptions &options, std::ostream &out) {
  return SvgWriter(profile, options, out).write();
}

}  // namespace flame
