#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.h"
#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::core {

/// Whether a server may take a new request now, and if not, why. The one place eligibility is
/// decided: every policy, the try-list, the health sweep and the admin API's explain read it
/// from here.
///
/// Reasons come in three kinds, checked in this order. What an operator set or the server itself
/// said (admin state, weight 0, the agent's -1 / down / drain / maint / 0% / maxconn) always
/// holds. Passive tracking's offline period always holds too: real connections to the server
/// failed, so panic could only send requests to wait for the same failure (it still has its
/// single trial after offline_timeout). What Fulcrum inferred from probes, which can be wrong
/// while the server works (active checks, shared health, a silent agent, outlier ejection), is
/// ignored while the cluster is in panic mode: balancing over every such server beats crushing
/// the few survivors.
enum class Eligibility : uint8_t {
  kEligible,
  kTrial,  ///< Eligible as the single trial after an offline period; must be claimed first.
  // Set by an operator or said by the server: panic mode does not override these.
  kDisabled,
  kDraining,
  kZeroWeight,
  kAgentUnavailable,  ///< The server's agent answered -1.
  kAgentDown,         ///< The agent said down, fail or stopped.
  kAgentMaint,        ///< The agent said maint.
  kAgentDrain,        ///< The agent said drain: no new requests, those in flight finish.
  kAgentWeightZero,   ///< The agent asked for 0% of the configured weight.
  kAgentMaxconn,      ///< As many connections as the agent's maxconn allows.
  // Passive tracking: panic mode does not override these either.
  kOffline,    ///< Too many failures in a row (passive.count), offline_timeout not over.
  kTrialBusy,  ///< Offline period over, but another request is trying it.
  // Inferred from probes: panic mode overrides these. Keep them last: inferred() relies on it.
  kDownByChecks,
  kDownByPeers,  ///< Shared health: a quorum of fulcrum instances report it down.
  kAgentSilent,  ///< No answer from the agent while the cluster sets require_response.
  kEjected,      ///< Outlier ejection: a run of 5xx or gateway errors, time not over.
};

constexpr bool pickable(Eligibility e) {
  return e == Eligibility::kEligible || e == Eligibility::kTrial;
}

/// True for the reasons Fulcrum inferred from probes, which panic mode ignores.
constexpr bool inferred(Eligibility e) { return e >= Eligibility::kDownByChecks; }

/// True while passive tracking keeps the server out (panic or not).
constexpr bool passively_offline(Eligibility e) {
  return e == Eligibility::kOffline || e == Eligibility::kTrialBusy;
}

std::string_view to_string(Eligibility e);

/// The full decision, every reason in order. Out of line: evaluate() calls it only when
/// something is unusual.
Eligibility evaluate_in_full(const ServerSpec& spec, const ServerState& state,
                             const PassiveOptions& passive, Nanos now, bool panic);

/// Decides eligibility from the static description and live state. Reads only relaxed atomics;
/// called on every pick, so the common case (nothing wrong, whatever panic says) is a short
/// inlined run of loads and predictable branches, and anything unusual goes to
/// evaluate_in_full(). `panic`: the cluster is in panic mode (see cluster_health.h).
inline Eligibility evaluate(const ServerSpec& spec, const ServerState& state,
                            const PassiveOptions& passive, Nanos now, bool panic = false) {
  const bool ordinary =
      state.admin_state.load(std::memory_order_relaxed) == AdminState::kEnabled &&
      spec.weight != 0 && state.agent_load.load(std::memory_order_relaxed) != kAgentUnavailable &&
      state.agent_health.load(std::memory_order_relaxed) <= AgentHealth::kUp &&
      state.agent_admin.load(std::memory_order_relaxed) == AgentAdmin::kReady &&
      state.agent_weight_percent.load(std::memory_order_relaxed) != 0 &&
      state.agent_maxconn.load(std::memory_order_relaxed) == 0 &&
      state.check_health.load(std::memory_order_relaxed) == CheckHealth::kUp &&
      !state.down_by_peers.load(std::memory_order_relaxed) &&
      state.ejected_until_ns.load(std::memory_order_relaxed) <= now.count() &&
      (!passive.enabled() ||
       state.consecutive_failures.load(std::memory_order_relaxed) < passive.attempts);
  if (ordinary) [[likely]] {
    return Eligibility::kEligible;
  }
  return evaluate_in_full(spec, state, passive, now, panic);
}

}  // namespace fulcrum::core
