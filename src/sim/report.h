#pragma once

#include <string>

#include "sim/cluster_config.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace fulcrum::sim {

/// The human-readable outcome: a per-server table (served, share, refused attempts, attempts
/// absorbed by retries, offline periods), the totals, traffic per time window and the timeline.
std::string format_report(const ClusterConfig& cluster, const Scenario& scenario,
                          const SimulationResult& result);

/// One line per connection attempt, for --trace.
std::string format_trace(const ClusterConfig& cluster, const SimulationResult& result);

}  // namespace fulcrum::sim
