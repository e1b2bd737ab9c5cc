#pragma once

// The loader's per-section parsers, split out to keep files short. fulcrum-sim reuses read_policy
// and read_servers.

#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

/// The `clusters` list: every cluster fully checked (names, policy, servers).
std::vector<ClusterConfig> parse_clusters(const Source& source, const Field& field);

/// The `listeners` list; route and tcp targets are checked against `clusters` (not checked when
/// nullptr: the clusters could not be read).
std::vector<ListenerConfig> parse_listeners(const Source& source, const Field& field,
                                            const std::vector<ClusterConfig>* clusters);

/// Reads a listener or cluster name: non-empty, letters, digits, '_', '-', '.'.
std::string read_name(const Source& source, const Field& field);

/// How a server list is checked. The proxy connects to its servers; fulcrum-sim only uses the
/// addresses as identities and allows a wider weight range for experiments.
struct ServerRules {
  bool network_addresses = true;  ///< Require host:port and store it canonically.
  uint64_t max_weight = 10000;
};

/// Reads a `servers` list: address (unique), weight, backup.
std::vector<core::ServerSpec> read_servers(const Source& source, const Field& field,
                                           const ServerRules& rules = {});

/// A cluster's `health_check` mapping, defaults resolved (fast_interval, down_interval).
HealthCheckConfig read_health_check(const Source& source, const Field& field);

/// A cluster's `agent` mapping.
AgentConfig read_agent(const Source& source, const Field& field);

/// A cluster's `outlier` mapping; its presence turns outlier ejection on.
core::OutlierOptions read_outlier(const Source& source, const Field& field);

/// A percentage written "10%" or 10, in [0, max].
uint32_t read_percent(const Source& source, const Field& field, uint32_t max);

/// A server's `agent_address`: an IP address or a host name without port, stored lower-cased
/// and without brackets.
std::string read_agent_address(const Source& source, const Field& field);

/// A cluster's `discovery` mapping: type-specific keys checked against the type; a relative
/// file path resolved against the configuration file's directory.
DiscoveryConfig read_discovery(const Source& source, const Field& field);

/// The top-level `health_sharing` mapping; the instance name defaults to "<hostname>-<pid>".
HealthSharingConfig read_health_sharing(const Source& source, const Field& field);

/// Reads a policy name, which must be in core::PolicyRegistry::builtin().
std::string read_policy(const Source& source, const Field& field);

}  // namespace fulcrum::config::detail
