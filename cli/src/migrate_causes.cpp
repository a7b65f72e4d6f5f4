// SPDX-License-Identifier: GPL-2.0-or-later
#include "migrate_causes.h"

namespace diag {

namespace {

struct CauseInfo {
  uint32_t number;
  const char *name;
  const char *description;
};

constexpr CauseInfo kCauses[] = {
#define CAUSE_INFO(e, n, name, desc) {n, name, desc},
    DIAG_MIGRATE_CAUSES(CAUSE_INFO)
#undef CAUSE_INFO
};

const CauseInfo *find(uint32_t cause) {
  for (const auto &c : kCauses)
    if (c.number == cause) return &c;
  return nullptr;
}

}  // namespace

const char *migrate_cause_name(uint32_t cause) {
  const CauseInfo *c = find(cause);
  return c ? c->name : "unknown";
}

const char *migrate_cause_description(uint32_t cause) {
  const CauseInfo *c = find(cause);
  return c ? c->description : "not a cause this diagnose-tools knows";
}

std::optional<uint32_t> migrate_cause_by_name(std::string_view name) {
  for (const auto &c : kCauses)
    if (name == c.name) return c.number;
  return std::nullopt;
}

}  // namespace diag
