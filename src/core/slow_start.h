#pragma once

// Slow start and agent weights as an admission factor, applied after any policy has chosen a
// member (TryList::next), so every policy honours them, hash policies included: a member with
// factor f is admitted with probability f, otherwise the policy chooses again without it.
//
// f = ramp x min(agent_weight_percent, 100) / 100, where ramp rises linearly from 0.1 to 1 over
// slow_start after warming_since_ns (HAProxy's slowstart starts at a small weight too, so the
// server gets some traffic at once). Before warming_since_ns (an ejected server is given the
// end of its ejection as warming start) the ramp is 0.1.
//
// Cost on the pick path: two relaxed loads; arithmetic only while a server warms up or its
// agent asked for less than 100%.
#include <algorithm>
#include <cstdint>

#include "core/clock.h"
#include "core/health_options.h"
#include "core/server.h"

namespace fulcrum::core {

/// Admission factors are fixed point, out of kFullAdmission.
inline constexpr uint32_t kFullAdmission = uint32_t{1} << 16;
inline constexpr uint32_t kRampStart = kFullAdmission / 10;  ///< 10%, where slow start begins.

/// The slow-start ramp alone, out of kFullAdmission.
inline uint32_t slow_start_factor(const ServerState& state, Nanos now,
                                  const HealthOptions& options) {
  const int64_t since = state.warming_since_ns.load(std::memory_order_relaxed);
  const int64_t window = options.slow_start.count();
  if (since == 0 || window <= 0) return kFullAdmission;
  const int64_t elapsed = now.count() - since;
  if (elapsed >= window) return kFullAdmission;
  if (elapsed <= 0) return kRampStart;
  const auto ramp = static_cast<unsigned __int128>(kFullAdmission - kRampStart) *
                    static_cast<uint64_t>(elapsed) / static_cast<uint64_t>(window);
  return kRampStart + static_cast<uint32_t>(ramp);
}

/// Slow start times the agent's weight percent (capped at 100), out of kFullAdmission.
inline uint32_t admission_factor(const ServerState& state, Nanos now,
                                 const HealthOptions& options) {
  const uint32_t percent =
      std::min<uint32_t>(state.agent_weight_percent.load(std::memory_order_relaxed), 100);
  const uint32_t ramp = slow_start_factor(state, now, options);
  if (percent == 100) return ramp;
  return static_cast<uint32_t>(uint64_t{ramp} * percent / 100);
}

/// The weight the server is balanced with now, for listings: configured weight x admission,
/// and x (101 - agent load) / 101 where the cluster queries agents (the weighted policies'
/// effective weight; round robin and the hash policies leave loads out).
inline double effective_weight(const ServerSpec& spec, const ServerState& state, Nanos now,
                               const HealthOptions& options) {
  const double load =
      options.agent_loads ? static_cast<double>(load_factor(state)) / kLoadScale : 1.0;
  return spec.weight * load *
         (static_cast<double>(admission_factor(state, now, options)) /
          static_cast<double>(kFullAdmission));
}

}  // namespace fulcrum::core
