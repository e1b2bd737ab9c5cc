#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.h"
#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::core {

/// Whether a server may take a new request now, and if not, why. The one place eligibility is
/// decided: every policy, the try-list and (later) the admin API's explain read it from here.
enum class Eligibility : uint8_t {
  kEligible,
  kTrial,  ///< Eligible as the single trial after an offline period; must be claimed first.
  kDisabled,
  kDraining,
  kZeroWeight,
  kDownByChecks,
  kAgentUnavailable,  ///< The server's agent answered -1.
  kOffline,           ///< Passive tracking: too many connect failures, timeout not over.
  kTrialBusy,         ///< Offline period over, but another request is trying it.
};

constexpr bool pickable(Eligibility e) {
  return e == Eligibility::kEligible || e == Eligibility::kTrial;
}

std::string_view to_string(Eligibility e);

/// Decides eligibility from the static description and live state. Reads only relaxed atomics;
/// called on every pick, so it stays branch-light and inline-friendly.
inline Eligibility evaluate(const ServerSpec& spec, const ServerState& state,
                            const PassiveOptions& passive, Nanos now) {
  switch (state.admin_state.load(std::memory_order_relaxed)) {
    case AdminState::kEnabled:
      break;
    case AdminState::kDraining:
      return Eligibility::kDraining;
    case AdminState::kDisabled:
      return Eligibility::kDisabled;
  }
  if (spec.weight == 0) return Eligibility::kZeroWeight;
  if (state.check_health.load(std::memory_order_relaxed) == CheckHealth::kDown) {
    return Eligibility::kDownByChecks;
  }
  if (state.agent_load.load(std::memory_order_relaxed) == kAgentUnavailable) {
    return Eligibility::kAgentUnavailable;
  }
  if (!passive.enabled()) return Eligibility::kEligible;
  switch (passive_status(state, passive, now)) {
    case PassiveStatus::kOnline:
      return Eligibility::kEligible;
    case PassiveStatus::kOffline:
      return Eligibility::kOffline;
    case PassiveStatus::kTrialAvailable:
      return Eligibility::kTrial;
    case PassiveStatus::kTrialBusy:
      return Eligibility::kTrialBusy;
  }
  return Eligibility::kEligible;
}

}  // namespace fulcrum::core
