#include "core/eligibility.h"

namespace fulcrum::core {

Eligibility evaluate_in_full(const ServerSpec& spec, const ServerState& state,
                             const PassiveOptions& passive, Nanos now, bool panic) {
  // What the operator set or the server said first, then passive tracking: explain shows the
  // reason panic cannot lift, when there is one.
  switch (state.admin_state.load(std::memory_order_relaxed)) {
    case AdminState::kEnabled:
      break;
    case AdminState::kDraining:
      return Eligibility::kDraining;
    case AdminState::kDisabled:
      return Eligibility::kDisabled;
  }
  if (spec.weight == 0) return Eligibility::kZeroWeight;
  if (state.agent_load.load(std::memory_order_relaxed) == kAgentUnavailable) {
    return Eligibility::kAgentUnavailable;
  }
  const AgentHealth agent_health = state.agent_health.load(std::memory_order_relaxed);
  if (agent_health == AgentHealth::kDown) return Eligibility::kAgentDown;
  switch (state.agent_admin.load(std::memory_order_relaxed)) {
    case AgentAdmin::kReady:
      break;
    case AgentAdmin::kDrain:
      return Eligibility::kAgentDrain;
    case AgentAdmin::kMaint:
      return Eligibility::kAgentMaint;
  }
  if (state.agent_weight_percent.load(std::memory_order_relaxed) == 0) {
    return Eligibility::kAgentWeightZero;
  }
  const uint32_t maxconn = state.agent_maxconn.load(std::memory_order_relaxed);
  if (maxconn != 0 &&
      state.active_connections.load(std::memory_order_relaxed) >= static_cast<int64_t>(maxconn)) {
    return Eligibility::kAgentMaxconn;
  }
  // Passive tracking saw real connections fail: panic does not lift that.
  const PassiveStatus passive_now = passive_status(state, passive, now);
  if (passive_now == PassiveStatus::kOffline) return Eligibility::kOffline;
  if (passive_now == PassiveStatus::kTrialBusy) return Eligibility::kTrialBusy;
  if (!panic) {
    if (state.check_health.load(std::memory_order_relaxed) == CheckHealth::kDown) {
      return Eligibility::kDownByChecks;
    }
    if (state.down_by_peers.load(std::memory_order_relaxed)) return Eligibility::kDownByPeers;
    if (agent_health == AgentHealth::kSilent) return Eligibility::kAgentSilent;
    if (state.ejected_until_ns.load(std::memory_order_relaxed) > now.count()) {
      return Eligibility::kEjected;
    }
  }
  return passive_now == PassiveStatus::kTrialAvailable ? Eligibility::kTrial
                                                       : Eligibility::kEligible;
}

std::string_view to_string(Eligibility e) {
  switch (e) {
    case Eligibility::kEligible:
      return "eligible";
    case Eligibility::kTrial:
      return "eligible (trial after offline period)";
    case Eligibility::kDisabled:
      return "disabled";
    case Eligibility::kDraining:
      return "draining";
    case Eligibility::kZeroWeight:
      return "weight 0";
    case Eligibility::kAgentUnavailable:
      return "agent reports unavailable (-1)";
    case Eligibility::kAgentDown:
      return "agent reports down";
    case Eligibility::kAgentMaint:
      return "agent reports maint";
    case Eligibility::kAgentDrain:
      return "agent reports drain";
    case Eligibility::kAgentWeightZero:
      return "agent reports weight 0%";
    case Eligibility::kAgentMaxconn:
      return "at the agent's maxconn";
    case Eligibility::kDownByChecks:
      return "down by health checks";
    case Eligibility::kDownByPeers:
      return "down by shared health (a quorum of instances)";
    case Eligibility::kAgentSilent:
      return "agent silent (require_response)";
    case Eligibility::kEjected:
      return "ejected (outlier detection)";
    case Eligibility::kOffline:
      return "offline (passive tracking)";
    case Eligibility::kTrialBusy:
      return "offline, trial in progress";
  }
  return "unknown";
}

}  // namespace fulcrum::core
