#include "sim/duration.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>

namespace fulcrum::sim {

namespace {

struct Unit {
  std::string_view suffix;
  int64_t nanos;
};

constexpr std::array<Unit, 6> kUnits{{{"ns", 1},
                                      {"us", 1'000},
                                      {"ms", 1'000'000},
                                      {"s", 1'000'000'000},
                                      {"m", 60'000'000'000},
                                      {"h", 3'600'000'000'000}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw DurationError(
      fmt::format("invalid duration '{}': {} (examples: 500ms, 10s, 2m)", text, why));
}

}  // namespace

core::Nanos parse_duration(std::string_view text) {
  if (text.empty()) fail(text, "empty");
  if (text == "0") return core::Nanos{0};
  if (text.front() == '-') fail(text, "must not be negative");

  std::size_t pos = 0;
  // Up to 128 bits so that overflow checks are simple comparisons.
  unsigned __int128 whole = 0;
  const std::size_t whole_start = pos;
  while (pos < text.size() && is_digit(text[pos])) {
    whole = whole * 10 + static_cast<unsigned>(text[pos] - '0');
    if (whole > std::numeric_limits<int64_t>::max()) fail(text, "too large");
    ++pos;
  }
  if (pos == whole_start) fail(text, "must start with a number");

  unsigned __int128 fraction = 0;
  unsigned __int128 fraction_scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t fraction_start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      // More than 18 fractional digits cannot matter at nanosecond resolution for any unit.
      if (pos - fraction_start >= 18) fail(text, "too many decimal places");
      fraction = fraction * 10 + static_cast<unsigned>(text[pos] - '0');
      fraction_scale *= 10;
      ++pos;
    }
    if (pos == fraction_start) fail(text, "needs digits after the decimal point");
  }

  const std::string_view suffix = text.substr(pos);
  if (suffix.empty()) fail(text, "missing unit (ns, us, ms, s, m or h)");
  for (const Unit& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    const auto unit_nanos = static_cast<unsigned __int128>(unit.nanos);
    const unsigned __int128 scaled_fraction = fraction * unit_nanos;
    if (scaled_fraction % fraction_scale != 0) fail(text, "finer than one nanosecond");
    const unsigned __int128 total = whole * unit_nanos + scaled_fraction / fraction_scale;
    if (total > std::numeric_limits<int64_t>::max()) fail(text, "too large");
    return core::Nanos{static_cast<int64_t>(total)};
  }
  fail(text, fmt::format("unknown unit '{}' (expected ns, us, ms, s, m or h)", suffix));
}

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
