// SPDX-License-Identifier: GPL-2.0-or-later
// The --activate parser of every function, its settings encoder and what
// --settings prints of the result; and the CPU list parser.
#include "cpu_list.h"
#include "function_command.h"
#include "fuzz_common.h"
#include "output.h"

using namespace diag;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static auto commands = make_commands();
  std::string text(reinterpret_cast<const char *>(data), size);
  // the last byte, when there is one, is the machine's nr_cpu_ids
  uint32_t nr_cpu_ids = size ? 1 + data[size - 1] * 32u : 1;
  fuzz::NullStream out;
  for (auto &c : commands) {
    auto *f = dynamic_cast<FunctionCommand *>(c.get());
    if (!f) continue;
    try {
      std::vector<uint8_t> settings = f->encode_settings(text, nr_cpu_ids);
      for (const auto &line : f->describe_settings(settings).lines)
        out << line.label << line.text << dump_json(line.value);
    } catch (const UsageError &) {
    }
  }
  try {
    for (uint32_t cpu : parse_cpu_list(text, kMaxCpus)) out << cpu;
  } catch (const UsageError &) {
  }
  return 0;
}
