#pragma once

// What a server agent's answer (or its silence) does to the server's live state. No I/O: the
// probe reads the answer, this maps it onto ServerState's atomics, which every worker reads on
// its next pick.

#include <cstdint>
#include <string>

#include "agent/answer.h"
#include "core/server.h"

namespace fulcrum::health {

/// The agent-controlled part of a server's state, as a value (for comparing and logging).
struct AgentView {
  int8_t load = core::kAgentLoadUnknown;
  core::AgentHealth health = core::AgentHealth::kUnknown;
  core::AgentAdmin admin = core::AgentAdmin::kReady;
  uint16_t weight_percent = 100;
  uint32_t maxconn = 0;

  static AgentView of(const core::ServerState& state);
  /// True when the agent keeps the server out of service (-1, down, silent, drain, maint, 0%).
  bool keeps_out() const;
  /// "load 40, up, ready, weight 100%, maxconn 0" for logs.
  std::string describe() const;
  bool operator==(const AgentView&) const = default;
};

struct AgentOutcome {
  AgentView before;
  AgentView after;
  bool changed() const { return !(before == after); }
  /// The agent had kept the server out and no longer does: slow start begins.
  bool came_back() const { return before.keeps_out() && !after.keeps_out(); }
};

/// Applies one answer. An Equalizer load of 0..100 also says the server is up and ready (an
/// agent switched back from "down" or "drain" to a load is serving again); a HAProxy `up` or
/// `ready` ends an earlier -1. `weight:N` becomes N as a percentage of `configured_weight`.
AgentOutcome apply_agent_answer(const agent::AgentAnswer& answer, uint32_t configured_weight,
                                core::ServerState& state);

/// The agent could not be reached or said nothing in time. Its load no longer counts (the
/// server is balanced without it, Equalizer's behaviour); with `require_response` the server is
/// also marked silent, which keeps it out until the agent answers (panic mode may override).
AgentOutcome apply_agent_silence(bool require_response, core::ServerState& state);

}  // namespace fulcrum::health
