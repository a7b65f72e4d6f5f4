// SPDX-License-Identifier: GPL-2.0-or-later
#include "text_table.h"

#include <algorithm>

namespace diag {

void TextTable::print(std::ostream &out, size_t gap) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) width[c] = headers_[c].size();
  for (const auto &row : rows_)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());

  auto line = [&](const std::vector<std::string> &cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) {
      s += cells[c];
      if (c + 1 < cells.size() && c < width.size()) s.append(width[c] + gap - cells[c].size(), ' ');
    }
    out << s << '\n';
  };
  line(headers_);
  for (const auto &row : rows_) line(row);
}

}  // namespace diag
