#include "health/apply_agent_answer.h"

#include <fmt/format.h>

#include <algorithm>

namespace fulcrum::health {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void store(const AgentView& view, core::ServerState& state) {
  state.agent_load.store(view.load, kRelaxed);
  state.agent_health.store(view.health, kRelaxed);
  state.agent_admin.store(view.admin, kRelaxed);
  state.agent_weight_percent.store(view.weight_percent, kRelaxed);
  state.agent_maxconn.store(view.maxconn, kRelaxed);
}

core::AgentHealth to_health(agent::HealthWord word) {
  return word == agent::HealthWord::kUp ? core::AgentHealth::kUp : core::AgentHealth::kDown;
}

core::AgentAdmin to_admin(agent::AdminWord word) {
  switch (word) {
    case agent::AdminWord::kReady:
      return core::AgentAdmin::kReady;
    case agent::AdminWord::kDrain:
      return core::AgentAdmin::kDrain;
    case agent::AdminWord::kMaint:
      return core::AgentAdmin::kMaint;
  }
  return core::AgentAdmin::kReady;
}

uint16_t clamp_percent(uint64_t percent) {
  return static_cast<uint16_t>(std::min<uint64_t>(percent, agent::kMaxAgentWeightPercent));
}

}  // namespace

AgentView AgentView::of(const core::ServerState& state) {
  return AgentView{state.agent_load.load(kRelaxed), state.agent_health.load(kRelaxed),
                   state.agent_admin.load(kRelaxed), state.agent_weight_percent.load(kRelaxed),
                   state.agent_maxconn.load(kRelaxed)};
}

bool AgentView::keeps_out() const {
  return load == core::kAgentUnavailable || health == core::AgentHealth::kDown ||
         health == core::AgentHealth::kSilent || admin != core::AgentAdmin::kReady ||
         weight_percent == 0;
}

std::string AgentView::describe() const {
  std::string load_text = load == core::kAgentLoadUnknown ? "unknown" : fmt::format("{}", load);
  constexpr std::string_view kHealth[] = {"health unknown", "up", "down", "silent"};
  constexpr std::string_view kAdmin[] = {"ready", "drain", "maint"};
  return fmt::format("load {}, {}, {}, weight {}%, maxconn {}", load_text,
                     kHealth[static_cast<int>(health)], kAdmin[static_cast<int>(admin)],
                     weight_percent,
                     maxconn == 0 ? std::string("none") : fmt::format("{}", maxconn));
}

AgentOutcome apply_agent_answer(const agent::AgentAnswer& answer, uint32_t configured_weight,
                                core::ServerState& state) {
  AgentOutcome outcome;
  outcome.before = AgentView::of(state);
  AgentView next = outcome.before;
  // Any answer proves the agent is alive: "silent" no longer applies.
  if (next.health == core::AgentHealth::kSilent) next.health = core::AgentHealth::kUnknown;
  if (answer.load) {
    next.load = static_cast<int8_t>(std::clamp(*answer.load, -1, 100));
    if (next.load >= 0) {
      next.health = core::AgentHealth::kUp;
      next.admin = core::AgentAdmin::kReady;
    }
  }
  if (answer.health) next.health = to_health(*answer.health);
  if (answer.admin) next.admin = to_admin(*answer.admin);
  const bool says_available = (answer.health && *answer.health == agent::HealthWord::kUp) ||
                              (answer.admin && *answer.admin == agent::AdminWord::kReady);
  if (!answer.load && says_available && next.load == core::kAgentUnavailable) {
    next.load = core::kAgentLoadUnknown;
  }
  if (answer.weight_percent) next.weight_percent = clamp_percent(*answer.weight_percent);
  if (answer.weight) {
    // weight:N is absolute; balancing works in percent of the configured weight. A server
    // configured with weight 0 takes nothing whatever its agent says.
    next.weight_percent = configured_weight == 0
                              ? 100
                              : clamp_percent(uint64_t{*answer.weight} * 100 / configured_weight);
  }
  if (answer.maxconn) next.maxconn = *answer.maxconn;
  store(next, state);
  outcome.after = next;
  return outcome;
}

AgentOutcome apply_agent_silence(bool require_response, core::ServerState& state) {
  AgentOutcome outcome;
  outcome.before = AgentView::of(state);
  AgentView next = outcome.before;
  next.load = core::kAgentLoadUnknown;
  if (require_response) next.health = core::AgentHealth::kSilent;
  store(next, state);
  outcome.after = next;
  return outcome;
}

}  // namespace fulcrum::health
