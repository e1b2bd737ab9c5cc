#pragma once

// The JSON shapes of clusters and servers shared by GET /api/v1/clusters, the change endpoints'
// answers and the status page. The fields are listed in docs/admin.md.

#include <nlohmann/json.hpp>

#include "admin/context.h"

namespace fulcrum::admin {

nlohmann::ordered_json server_json(const Context& context, const Moment& now,
                                   const generation::ClusterRuntime& cluster,
                                   const core::ServerSpec& spec, const core::ServerState& state);

nlohmann::ordered_json cluster_json(const Context& context, const Moment& now,
                                    const generation::ClusterRuntime& cluster);

/// An ISO 8601 time, or null for 0 ("never").
nlohmann::ordered_json time_or_null(const Moment& now, core::Nanos steady);

}  // namespace fulcrum::admin
