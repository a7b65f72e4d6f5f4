// SPDX-License-Identifier: GPL-2.0-or-later
// Escaping of untrusted text (process names, paths, symbol names, anything
// read from a file) for the three kinds of output: XML, JSON strings and
// plain text.  All validate UTF-8, so no output is ever malformed or hides
// bytes from the reader whatever the input held.
#pragma once

#include <string>
#include <string_view>

namespace flame {

// XML text and attribute values: markup characters as entities, invalid
// UTF-8 and characters XML 1.0 forbids as U+FFFD.
void append_xml_escaped(std::string &out, std::string_view s);

// The inside of a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 as U+FFFD.
void append_json_escaped(std::string &out, std::string_view s);

// Plain text for people and line-based tools: valid, printable UTF-8 is
// kept as it is; every byte of invalid UTF-8, of a control character (C0,
// DEL, C1) and of a non-character shows as \xNN, and a backslash as \\, so
// that the text is one line and the original bytes can be read back.
void append_text_escaped(std::string &out, std::string_view s);
std::string text_escaped(std::string_view s);

}  // namespace flame
