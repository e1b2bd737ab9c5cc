#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace fulcrum::sim {

/// A duration string that does not parse; the message says why, without location (the caller
/// knows where the string came from).
class DurationError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Parses "500ms", "10s", "2m", "1.5s", "250us", "1h": a non-negative decimal number followed by
/// one of ns, us, ms, s, m, h. A bare "0" is accepted (it is zero in every unit); any other
/// number needs a unit, because "10" is ambiguous. Exact: the result is computed in integer
/// nanoseconds, so "0.1s" is exactly 100ms. Throws DurationError.
core::Nanos parse_duration(std::string_view text);

/// Formats a time or duration for reports: "12.000s", "3.250s", "1.000500s". Seconds always, so
/// columns compare at a glance; 3 decimals, or 6 or 9 when the value needs them.
std::string format_seconds(core::Nanos value);

}  // namespace fulcrum::sim
