// SPDX-License-Identifier: GPL-2.0-or-later
// Left-aligned text columns, the layout every text report uses.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace diag {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }
  // Each column as wide as its widest cell plus `gap`; the last column is
  // not padded.
  void print(std::ostream &out, size_t gap = 3) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace diag
