// SPDX-License-Identifier: GPL-2.0-or-later
// The record decoder and the report writers of one function
// (FUZZ_FUNCTION): text and JSON reports, --follow's stream, and a rescue
// file's two batches.  The input is the function's settings struct (its
// first bytes, zero-extended when short) followed by a record stream as a
// drain returns it.  Offline: no /proc, no files, a small fixed symbol
// table; the records alone decide what is read.
#include <cstring>
#include <sstream>

#include "function_command.h"
#include "fuzz_common.h"
#include "kallsyms.h"
#include "records.h"
#include "report_resources.h"
#include "uapi/diagnose.h"

#if !defined(FUZZ_FUNCTION) || !defined(FUZZ_SETTINGS)
#error "FUZZ_FUNCTION: migrate-image, kprobe, keytime-image or resource-image; FUZZ_SETTINGS: its settings struct"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

using namespace diag;

namespace {

FunctionCommand &command() {
  static auto commands = make_commands();
  for (auto &c : commands)
    if (auto *f = dynamic_cast<FunctionCommand *>(c.get()); f && f->name() == STR(FUZZ_FUNCTION))
      return *f;
  std::abort();
}

KernelSymbols symbols() {
  std::istringstream in(
      "ffffffff81000000 T _stext\n"
      "ffffffff81001000 T schedule\n"
      "ffffffff81002000 t do_\xff\x1b[31mweird\n"
      "ffffffffc0000000 t mod_fn\t[some_mod]\n");
  return KernelSymbols::parse(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FunctionCommand &cmd = command();
  constexpr size_t ssize = sizeof(FUZZ_SETTINGS);
  std::vector<uint8_t> settings(ssize, 0);
  std::memcpy(settings.data(), data, std::min(size, ssize));
  ReportBytes bytes;
  if (size > ssize) bytes.data.assign(data + ssize, data + size);
  bytes.lost_total = size;
  bytes.real_minus_mono_ns = static_cast<int64_t>(size) * 1000000007;
  bytes.nr_cpus = 4;
  DecodedReport decoded;
  try {
    decoded = decode_records(bytes);
  } catch (const MalformedInput &) {
    return 0;
  }
  diag_version version{};
  fuzz::NullStream out;
  for (bool json : {false, true}) {
    ReportResources res(ReportResources::Mode::kOffline);
    res.set_kernel_symbols(symbols());
    ReportContext ctx{settings, version, &res};
    try {
      cmd.render_report(decoded, ctx, json, out);
    } catch (const MalformedInput &) {  // a record's data does not fit in it
    }
    try {
      std::ostringstream live;
      auto stream = cmd.make_stream(ctx, json, live);
      stream->begin();
      stream->batch(decoded);
      stream->batch(decoded);
      stream->end();
    } catch (const MalformedInput &) {
    }
  }
  // a rescue file's batches: the stream split at a record boundary
  size_t half = 0;
  for (const auto &r : decoded.records)
    if (static_cast<size_t>(r.bytes.data() - bytes.data.data()) < bytes.data.size() / 2)
      half = static_cast<size_t>(r.bytes.data() - bytes.data.data()) + r.bytes.size();
  std::vector<ReportBytes> batches = {bytes, bytes};  // outlive the views into them
  batches[0].data.resize(half);
  batches[1].data.erase(batches[1].data.begin(),
                        batches[1].data.begin() + static_cast<std::ptrdiff_t>(half));
  try {
    DecodedReport both = decode_batches(batches);
    ReportResources res(ReportResources::Mode::kOffline);
    ReportContext ctx{settings, version, &res};
    cmd.render_report(both, ctx, true, out);
  } catch (const MalformedInput &) {
  }
  return 0;
}
