#pragma once

#include <chrono>
#include <cstddef>

#include "fakes/policy_harness.h"

namespace fulcrum::testing {

/// Passive tracking switched on, for harnesses that need a member to be offline.
inline core::PassiveOptions passive_on() {
  return core::PassiveOptions{.attempts = 3, .offline_timeout = std::chrono::seconds(10)};
}

/// Every reason eligibility.h gives for skipping an enabled, weighted member.
inline constexpr std::size_t kIneligibleWays = 5;

/// Makes members first .. first + kIneligibleWays - 1 ineligible, each in a different way:
/// disabled, draining, down by checks, agent unavailable (-1), passively offline (the harness
/// must use passive_on()).
inline void make_ineligible_each_way(PolicyHarness& h, std::size_t first) {
  h.state(first + 0).admin_state = core::AdminState::kDisabled;
  h.state(first + 1).admin_state = core::AdminState::kDraining;
  h.state(first + 2).check_health = core::CheckHealth::kDown;
  h.state(first + 3).agent_load = core::kAgentUnavailable;
  core::ServerState& offline = h.state(first + 4);
  offline.consecutive_failures = 3;
  offline.last_failure_ns = h.clock().now().count();
}

}  // namespace fulcrum::testing
