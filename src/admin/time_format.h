#pragma once

// The core keeps time as steady-clock nanoseconds (core::Nanos); operators read wall-clock times.
// A Moment pairs both clocks read at once, so a steady time can be shown as a wall time.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/clock.h"

namespace fulcrum::admin {

struct Moment {
  core::Nanos steady{0};
  int64_t wall_ns = 0;  ///< Since the Unix epoch.

  static Moment now(const core::Clock& clock);
  /// The wall time of steady time `t` (in the past or the future).
  int64_t wall_of(core::Nanos t) const { return wall_ns + (t - steady).count(); }
};

/// "2024-05-01T12:00:00.123Z".
std::string iso8601(int64_t wall_ns);

}  // namespace fulcrum::admin
