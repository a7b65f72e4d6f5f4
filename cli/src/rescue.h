// SPDX-License-Identifier: GPL-2.0-or-later
// Rescue files: the records of a report that could not be rendered.  A
// report drains the module's buffers, so once it is read the records exist
// nowhere else; when decoding, rendering or writing the report fails (or a
// drain fails half-way), they are written here instead, and
// `diagnose-tools FUNCTION --render FILE` renders them later.
//
// The file (docs/rescue.md) is a text header of "key value" lines ending
// with "end", the function's settings struct, then one or more batches,
// each a line "batch BYTES LOST_TOTAL REAL_MINUS_MONO_NS NR_CPUS" and the
// BYTES of records that drain returned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device.h"
#include "uapi/diagnose.h"

namespace diag {

// What a rescue file says about the report it holds.
struct RescueHeader {
  std::string function;          // "migrate-image"
  uint32_t function_id = 0;      // DIAG_FN_*
  diag_version version{};        // of the module that recorded it
  std::vector<uint8_t> settings; // the function's settings struct
};

class RescueFile {
 public:
  // Creates a new file in $DIAGNOSE_RESCUE_DIR, else /var/tmp, else the
  // temporary directory, else the current one, named
  // diagnose-tools-FUNCTION-YYYYMMDD-HHMMSS-PID[-N].rescue, mode 0600, and
  // writes its header.  Throws std::runtime_error when no directory takes it.
  static RescueFile create(const RescueHeader &header, const std::string &reason);
  RescueFile(RescueFile &&other) noexcept;
  RescueFile &operator=(RescueFile &&) = delete;
  ~RescueFile();

  // Appends one drain and syncs it to disk.  Throws std::runtime_error.
  void append(const ReportBytes &batch);
  const std::string &path() const { return path_; }

 private:
  RescueFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// A rescue file read back: its header and its batches.
struct RescuedReport {
  RescueHeader header;
  std::vector<ReportBytes> batches;
};

// Throws MalformedInput (file and line, or byte offset) when the file is
// not a rescue file or is cut short, std::runtime_error when it cannot be
// read.
RescuedReport read_rescue_file(const std::string &path);

}  // namespace diag
