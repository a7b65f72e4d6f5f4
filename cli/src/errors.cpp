// SPDX-License-Identifier: GPL-2.0-or-later
#include "errors.h"

#include <cerrno>
#include <cstring>

namespace diag {

std::string errno_name(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM)
    NAME(ENOENT)
    NAME(ESRCH)
    NAME(EINTR)
    NAME(EIO)
    NAME(E2BIG)
    NAME(ENOMEM)
    NAME(EACCES)
    NAME(EFAULT)
    NAME(EBUSY)
    NAME(EEXIST)
    NAME(ENODEV)
    NAME(EINVAL)
    NAME(ENOSPC)
    NAME(ERANGE)
    NAME(ENOTTY)
    NAME(ENODATA)
    NAME(EPROTO)
    NAME(EOPNOTSUPP)
    NAME(EALREADY)
    NAME(ENOSYS)
    NAME(EPIPE)
    NAME(ENXIO)
#undef NAME
    default:
      return "errno " + std::to_string(err);
  }
}

std::string input_error(const std::string &file, size_t line, const std::string &why) {
  std::string where = file.empty() ? "<input>" : file;
  if (line) where += ":" + std::to_string(line);
  return where + ": " + why;
}

}  // namespace diag
