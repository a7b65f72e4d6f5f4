#include "migrate_causes.h"

namespace diag {

const char *migrate_cause_name(uint32_t cause) {
  switch (cause) {
#define CAUSE_CASE(e, n, name, desc) \
  case n:                            \
    return name;
    DIAG_MIGRATE_CAUSES(CAUSE_CASE)
#undef CAUSE_CASE
  }
  return "unknown";
}

const char *migrate_cause_description(uint32_t cause) {
  switch (cause) {
#define CAUSE_CASE(e, n, name, desc) \
  case n:                            \
    return desc;
    DIAG_MIGRATE_CAUSES(CAUSE_CASE)
#undef CAUSE_CASE
  }
  return "not a cause this diagnose-tools knows";
}

std::optional<uint32_t> migrate_cause_by_name(std::string_view name) {
  for (uint32_t c = 0; c < DIAG_NR_CAUSES; ++c)
    if (name == migrate_cause_name(c)) return c;
  return std::nullopt;
}

}  // namespace diag
