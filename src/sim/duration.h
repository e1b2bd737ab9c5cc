#pragma once

// Durations in the simulator's reports. Parsing is config::parse_duration with
// config::DurationSyntax::kFine, shared with the proxy's configuration.

#include <string>

#include "core/clock.h"

namespace fulcrum::sim {

/// Formats a time or duration for reports: "12.000s", "3.250s", "1.000500s". Seconds always, so
/// columns compare at a glance; 3 decimals, or 6 or 9 when the value needs them.
std::string format_seconds(core::Nanos value);

}  // namespace fulcrum::sim
