#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "sim/cluster_config.h"

namespace fulcrum::sim {

/// What happens to a server at a scenario event.
enum class Action : uint8_t {
  kFail,       ///< The server starts refusing connections.
  kRecover,    ///< It accepts connections again.
  kAgentLoad,  ///< Its agent reports `value` (-1..100).
  kDrain,      ///< Operator: no new requests.
  kDisable,    ///< Operator: out of rotation.
  kEnable,     ///< Operator: back in rotation.
  kWeight,     ///< Operator: weight becomes `value`.
};

std::string_view to_string(Action action);

struct Event {
  core::Nanos at{0};       ///< Simulated time since the scenario started.
  std::size_t server = 0;  ///< Index into ClusterConfig::servers.
  Action action = Action::kFail;
  int64_t value = 0;  ///< The load for kAgentLoad, the weight for kWeight.
};

/// A traffic pattern and what happens during it:
///
///   seed: 42
///   requests: 20000
///   rate: 1000                 # requests per simulated second, evenly spaced
///   request_duration: 20ms     # optional: time in flight after the first response byte
///   default_latency: 1ms       # optional: time to the first response byte
///   latency: {"10.0.0.3:8080": 5ms}
///   keys: 1000                 # optional: distinct request keys (what ring_hash/maglev hash)
///   events:
///     - {at: 4s, server: "10.0.0.2:8080", action: fail}
///     - {at: 6s, server: "10.0.0.3:8080", action: agent_load, load: 90}
///     - {at: 9s, server: "10.0.0.1:8080", action: weight, weight: 1}
struct Scenario {
  uint64_t seed = 1;
  uint64_t requests = 0;
  double rate = 0;
  core::Nanos request_duration{0};
  core::Nanos default_latency{std::chrono::milliseconds(1)};
  std::vector<core::Nanos>
      latency;  ///< Per server, in cluster order; missing ones use the default.
  uint64_t keys = 1000;
  std::vector<Event> events;  ///< Sorted by time; events at the same time keep file order.

  /// Arrival time of request `i` (0-based) since the scenario started.
  core::Nanos arrival(uint64_t i) const;
  core::Nanos latency_of(std::size_t server) const {
    return server < latency.size() ? latency[server] : default_latency;
  }
};

/// Server addresses are checked against `cluster`. Throw config::ConfigError naming
/// file:line:column.
Scenario load_scenario_file(const std::string& path, const ClusterConfig& cluster);
Scenario parse_scenario(const std::string& text, const std::string& file_name,
                        const ClusterConfig& cluster);

}  // namespace fulcrum::sim
