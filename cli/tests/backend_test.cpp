// SPDX-License-Identifier: GPL-2.0-or-later
#include "device.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "errors.h"

namespace diag {
namespace {

TEST(Backend, ChoiceFromOptionThenEnvironment) {
  ::unsetenv("DIAGNOSE_BACKEND");
  EXPECT_EQ(backend_choice(""), BackendChoice::kAuto);
  EXPECT_EQ(backend_choice("bpf"), BackendChoice::kBpf);
  ::setenv("DIAGNOSE_BACKEND", "module", 1);
  EXPECT_EQ(backend_choice(""), BackendChoice::kModule);
  EXPECT_EQ(backend_choice("auto"), BackendChoice::kAuto) << "the option wins";
  ::setenv("DIAGNOSE_BACKEND", "kernel", 1);
  EXPECT_THROW(backend_choice(""), UsageError);
  ::unsetenv("DIAGNOSE_BACKEND");
}

// Reports and rescue files keep the version, which names the backend.
TEST(Backend, NamedByItsVersionString) {
  diag_version v{};
  std::strcpy(v.module_version, "0.1.0");
  EXPECT_STREQ(backend_of(v), "module");
  std::strcpy(v.module_version, "bpf (libbpf 1.1)");
  EXPECT_STREQ(backend_of(v), "bpf");
}

}  // namespace
}  // namespace diag
