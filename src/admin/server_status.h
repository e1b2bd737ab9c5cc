#pragma once

// Whether a server may take a new request now, as the admin API reports it: the core's one
// eligibility rule (core::evaluate, so new reasons show up here by themselves) plus the proxy's
// own per-server connection limit, which the request path checks after the pick.

#include <optional>
#include <string>

#include "core/eligibility.h"
#include "generation/generation.h"

namespace fulcrum::admin {

struct ServerStatus {
  core::Eligibility eligibility = core::Eligibility::kEligible;
  /// The cluster's max_connections_per_server is reached: eligible, but skipped for now.
  bool at_connection_limit = false;
  int32_t active_connections = 0;
  uint32_t connection_limit = 0;

  bool eligible() const { return core::pickable(eligibility) && !at_connection_limit; }
  /// "eligible", "draining", ..., or "at max connections (2 of 2)".
  std::string reason() const;
};

ServerStatus server_status(const generation::ClusterRuntime& cluster, const core::ServerSpec& spec,
                           const core::ServerState& state, core::Nanos now);

/// "enabled", "draining" or "disabled".
std::string_view to_string(core::AdminState state);
/// The API's verb for a state: "enable", "drain" or "disable" (PATCH bodies, the journal).
std::string_view verb_of(core::AdminState state);
/// The state a verb asks for; nullopt for anything else.
std::optional<core::AdminState> state_for_verb(std::string_view verb);

}  // namespace fulcrum::admin
