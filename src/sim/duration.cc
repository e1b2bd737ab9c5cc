#include "sim/duration.h"

#include <fmt/format.h>

#include <cstdint>

namespace fulcrum::sim {

std::string format_seconds(core::Nanos value) {
  const int64_t ns = value.count();
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t magnitude = ns < 0 ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  const uint64_t seconds = magnitude / 1'000'000'000;
  const uint64_t rest = magnitude % 1'000'000'000;
  if (rest % 1'000'000 == 0) return fmt::format("{}{}.{:03}s", sign, seconds, rest / 1'000'000);
  if (rest % 1'000 == 0) return fmt::format("{}{}.{:06}s", sign, seconds, rest / 1'000);
  return fmt::format("{}{}.{:09}s", sign, seconds, rest);
}

}  // namespace fulcrum::sim
