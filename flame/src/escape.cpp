// SPDX-License-Identifier: GPL-2.0-or-later
// XML and JSON escaping with UTF-8 validation.
#include <cstdint>

#include "flame/escape.h"

namespace flame {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i] (2..4), or 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  unsigned c = byte(i);
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;  // not XML characters
  return len;
}

template <typename Ascii>
void escape(std::string &out, std::string_view s, Ascii &&ascii) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ascii(out, static_cast<char>(c));
      ++i;
      continue;
    }
    size_t len = utf8_sequence(s, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
}

}  // namespace

void append_xml_escaped(std::string &out, std::string_view s) {
  escape(out, s, [](std::string &o, char c) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      case '\t': case '\n': case '\r': o += ' '; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          o += kReplacement;  // not allowed in XML 1.0
        else
          o += c;
    }
  });
}

void append_json_escaped(std::string &out, std::string_view s) {
  escape(out, s, [](std::string &o, char c) {
    static const char hex[] = "0123456789abcdef";
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      // also keeps "]]>" and "</" out of scripts that embed the JSON
      case '<': o += "\\u003c"; break;
      case '>': o += "\\u003e"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          o += "\\u00";
          o += hex[(c >> 4) & 0xf];
          o += hex[c & 0xf];
        } else {
          o += c;
        }
    }
  });
}

namespace {

void append_hex_byte(std::string &out, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 0xf];
}

}  // namespace

void append_text_escaped(std::string &out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\\')
        out += "\\\\";
      else if (c < 0x20 || c == 0x7f)
        append_hex_byte(out, c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = utf8_sequence(s, i);
    // C1 controls (U+0080..U+009F, 0xC2 0x80..0x9F) are terminal commands
    bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (len == 0 || c1) {
      size_t n = len ? len : 1;
      for (size_t k = 0; k < n; ++k) append_hex_byte(out, static_cast<unsigned char>(s[i + k]));
      i += n;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
}

std::string text_escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_text_escaped(out, s);
  return out;
}

}  // namespace flame
