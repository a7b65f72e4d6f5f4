// SPDX-License-Identifier: GPL-2.0-or-later
// perf_to_report: writes `perf script` samples as a stack report in the
// contract format (docs/stack-format.md), through the shared writer every
// stack-bearing function uses (cli/src/stack_report.h).  A stand-in for a
// captured `kprobe --report` in the flame round-trip test; its own small
// perf parser is deliberately independent of flame's.
//
//   perf_to_report [--json] < perf-script.txt > report
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "output.h"
#include "stack_report.h"

namespace {

struct Sample {
  std::string comm;
  int32_t pid = 0;
  std::vector<diag::StackFrame> kernel, user;
};

using Key = std::tuple<std::string, int32_t, std::vector<std::string>>;

std::string basename_of(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char **argv) {
  bool json = argc > 1 && std::string(argv[1]) == "--json";
  std::map<Key, std::pair<Sample, uint64_t>> blocks;  // identical samples aggregated
  std::vector<Key> order;
  Sample cur;
  bool in_sample = false;
  auto flush = [&] {
    if (!in_sample) return;
    std::vector<std::string> frames;
    for (const auto &f : cur.kernel) frames.push_back("k" + f.symbol);
    for (const auto &f : cur.user) frames.push_back("u" + f.symbol + "@" + f.module);
    Key key{cur.comm, cur.pid, frames};
    auto [it, added] = blocks.try_emplace(key, cur, 0);
    if (added) order.push_back(key);
    ++it->second.second;
    in_sample = false;
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    if (line[0] == ' ' || line[0] == '\t') {
      // "\t ADDR SYMBOL (DSO)"
      std::istringstream in(line);
      std::string addr;
      in >> addr;
      std::string rest;
      std::getline(in, rest);
      size_t open = rest.rfind(" (");
      diag::StackFrame f;
      f.addr = std::stoull(addr, nullptr, 16);
      f.symbol = rest.substr(rest.find_first_not_of(' '), open - rest.find_first_not_of(' '));
      std::string dso = rest.substr(open + 2, rest.size() - open - 3);
      // Kernel frames come first, then the user frames, as perf prints
      // a callchain: a frame is the kernel's only until the first user
      // frame, so that a user chain's unresolvable last frame
      // ("ffffffffffffffff [unknown]") keeps its place.
      bool kernel = cur.user.empty() && f.addr >= 0xffff800000000000ull;
      f.module = kernel ? dso : basename_of(dso);
      (kernel ? cur.kernel : cur.user).push_back(f);
      continue;
    }
    // "COMM  TID ..." or "COMM  PID/TID ...": the first all-digit token after the comm
    flush();
    cur = Sample{};
    std::istringstream in(line);
    std::string tok, comm;
    while (in >> tok) {
      if (!comm.empty() && tok.find_first_not_of("0123456789/") == std::string::npos) {
        cur.pid = std::stoi(tok.substr(0, tok.find('/')));
        break;
      }
      comm += (comm.empty() ? "" : " ") + tok;
    }
    cur.comm = comm;
    in_sample = true;
  }
  flush();

  nlohmann::json stacks = nlohmann::json::array();
  for (const auto &key : order) {
    const auto &[s, n] = blocks[key];
    diag::StackBlock b;
    b.header = {"PERF SAMPLE: PID: " + std::to_string(s.pid) + "[" + s.comm + "]",
                "##CGROUP:[/]  " + std::to_string(s.pid) + "  [" + std::to_string(s.pid) +
                    "]  PERF SAMPLE"};
    b.kernel = s.kernel;
    b.user = s.user;
    b.process = s.comm;
    b.chain = {{s.pid, s.comm}};
    b.count = n;
    b.fields = {{"pid", s.pid}, {"tgid", s.pid}, {"comm", s.comm}, {"cgroup", "/"}};
    if (json)
      stacks.push_back(diag::stack_block_json(b));
    else
      diag::write_stack_block(b, std::cout);
  }
  if (json) std::cout << diag::dump_json({{"function", "perf"}, {"stacks", stacks}}, 1) << '\n';
  return 0;
}
