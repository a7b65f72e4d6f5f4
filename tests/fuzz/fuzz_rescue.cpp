// SPDX-License-Identifier: GPL-2.0-or-later
// The rescue file reader (`FUNCTION --render FILE`) and what --render does
// with the file: its batches decoded as one report and written as text
// and JSON by the function the header names.  Offline, like
// fuzz_records.cpp: a fixed symbol table, no /proc.
#include <sstream>

#include "function_command.h"
#include "fuzz_common.h"
#include "kallsyms.h"
#include "records.h"
#include "report_resources.h"
#include "rescue.h"
#include "uapi/diagnose.h"

using namespace diag;

namespace {

// The size of each function's settings struct (FunctionCommand::render_file
// zero-extends or cuts the file's settings to it).
size_t settings_size(const std::string &function) {
  if (function == "migrate-image") return sizeof(diag_migrate_image_settings);
  if (function == "kprobe") return sizeof(diag_kprobe_settings);
  if (function == "keytime-image") return sizeof(diag_keytime_image_settings);
  if (function == "resource-image") return sizeof(diag_resource_image_settings);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static auto commands = make_commands();
  fuzz::MemFile file(data, size);
  RescuedReport r;
  try {
    r = read_rescue_file(file.path());
  } catch (const MalformedInput &) {
    return 0;
  }
  FunctionCommand *cmd = nullptr;
  for (auto &c : commands)
    if (auto *f = dynamic_cast<FunctionCommand *>(c.get()); f && f->name() == r.header.function)
      cmd = f;
  if (!cmd) return 0;  // --render refuses a file of another function
  if (settings_size(cmd->name()) == 0) __builtin_trap();  // a function this target lacks
  r.header.settings.resize(settings_size(cmd->name()), 0);
  DecodedReport decoded;
  try {
    decoded = decode_batches(r.batches);
  } catch (const MalformedInput &) {
    return 0;
  }
  std::istringstream syms(
      "ffffffff81000000 T _stext\n"
      "ffffffff81001000 T schedule\n"
      "ffffffffc0000000 t mod_fn\t[some_mod]\n");
  ReportResources res(ReportResources::Mode::kOffline);
  res.set_kernel_symbols(KernelSymbols::parse(syms));
  fuzz::NullStream out;
  for (bool json : {false, true}) {
    try {
      cmd->render_report(decoded, ReportContext{r.header.settings, r.header.version, &res}, json,
                         out);
    } catch (const MalformedInput &) {  // a record's data does not fit in it
    }
  }
  return 0;
}
