#pragma once

// When to check a server next and what a run of results means: HAProxy's rise/fall counting and
// inter / fastinter / downinter intervals, with jitter so that checks never march in step. Pure
// logic without I/O or clocks, so every rule is tested exactly.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/clock.h"

namespace fulcrum::health {

using core::Nanos;

/// A server's state as active checks see it: `rise` consecutive successes bring a down server
/// up, `fall` consecutive failures take an up server down. A result that agrees with the
/// current state resets the count towards a change.
class RiseFall {
 public:
  enum class Change : uint8_t { kNone, kWentUp, kWentDown };

  RiseFall(uint32_t rise, uint32_t fall, bool up)
      : rise_(std::max<uint32_t>(rise, 1)), fall_(std::max<uint32_t>(fall, 1)), up_(up) {}

  Change record(bool success) {
    if (success == up_) {
      streak_ = 0;
      return Change::kNone;
    }
    if (++streak_ < (up_ ? fall_ : rise_)) return Change::kNone;
    up_ = success;
    streak_ = 0;
    return up_ ? Change::kWentUp : Change::kWentDown;
  }

  bool up() const { return up_; }
  /// Results in a row against the current state: a change is under way.
  uint32_t streak() const { return streak_; }
  bool changing() const { return streak_ > 0; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  bool up_;
  uint32_t streak_ = 0;
};

struct CheckIntervals {
  Nanos interval;
  Nanos fast;  ///< While a change is under way, and after passive errors.
  Nanos down;  ///< While down (and not changing).
  uint32_t jitter_percent = 0;
};

/// `base` moved by up to ±jitter_percent, uniformly, using 64 random bits. Never below 1 ms, so
/// a tiny interval cannot turn into a busy loop.
inline Nanos jittered(Nanos base, uint32_t jitter_percent, uint64_t random) {
  Nanos out = base;
  if (jitter_percent > 0 && base.count() > 0) {
    const auto span = static_cast<unsigned __int128>(base.count()) * jitter_percent / 100;
    // random / 2^64 in [0, 1) scaled to [-span, +span].
    const auto offset =
        static_cast<int64_t>((static_cast<unsigned __int128>(random) * (2 * span + 1)) >> 64) -
        static_cast<int64_t>(span);
    out = Nanos{base.count() + offset};
  }
  return std::max<Nanos>(out, std::chrono::milliseconds(1));
}

/// The interval that applies before the next check (without jitter).
inline Nanos next_interval(const CheckIntervals& intervals, const RiseFall& state,
                           bool passive_trouble) {
  if (state.changing() || (passive_trouble && state.up())) return intervals.fast;
  return state.up() ? intervals.interval : intervals.down;
}

/// When server `index` of `count` is first checked: spread evenly over one interval, so that
/// many servers are not all checked at once after a start.
inline Nanos first_check_offset(Nanos interval, std::size_t index, std::size_t count) {
  if (count == 0) return Nanos{0};
  return Nanos{static_cast<int64_t>(static_cast<unsigned __int128>(interval.count()) *
                                    (index % count) / count)};
}

}  // namespace fulcrum::health
