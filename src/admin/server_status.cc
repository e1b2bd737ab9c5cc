#include "admin/server_status.h"

#include <fmt/format.h>

namespace fulcrum::admin {

std::string ServerStatus::reason() const {
  if (core::pickable(eligibility) && at_connection_limit) {
    return fmt::format("at max connections ({} of {})", active_connections, connection_limit);
  }
  return std::string(core::to_string(eligibility));
}

ServerStatus server_status(const generation::ClusterRuntime& cluster, const core::ServerSpec& spec,
                           const core::ServerState& state, core::Nanos now) {
  ServerStatus status;
  const bool panic = cluster.cluster->health_state().panic.load(std::memory_order_relaxed);
  status.eligibility = core::evaluate(spec, state, cluster.config.passive, now, panic);
  status.active_connections = state.active_connections.load(std::memory_order_relaxed);
  status.connection_limit = cluster.config.max_connections_per_server;
  status.at_connection_limit =
      status.connection_limit != 0 &&
      status.active_connections >= static_cast<int32_t>(status.connection_limit);
  return status;
}

std::string_view to_string(core::AdminState state) {
  switch (state) {
    case core::AdminState::kEnabled:
      return "enabled";
    case core::AdminState::kDraining:
      return "draining";
    case core::AdminState::kDisabled:
      return "disabled";
  }
  return "unknown";
}

std::string_view verb_of(core::AdminState state) {
  switch (state) {
    case core::AdminState::kEnabled:
      return "enable";
    case core::AdminState::kDraining:
      return "drain";
    case core::AdminState::kDisabled:
      return "disable";
  }
  return "enable";
}

std::optional<core::AdminState> state_for_verb(std::string_view verb) {
  for (const auto state :
       {core::AdminState::kEnabled, core::AdminState::kDraining, core::AdminState::kDisabled}) {
    if (verb == verb_of(state)) return state;
  }
  return std::nullopt;
}

}  // namespace fulcrum::admin
