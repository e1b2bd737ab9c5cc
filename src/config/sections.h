#pragma once

// The loader's per-section parsers, split out to keep files short. fulcrum-sim reuses read_policy.

#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

/// The `clusters` list: every cluster fully checked (names, policy, servers).
std::vector<ClusterConfig> parse_clusters(const Source& source, const Field& field);

/// The `listeners` list; route and tcp targets are checked against `clusters`.
std::vector<ListenerConfig> parse_listeners(const Source& source, const Field& field,
                                            const std::vector<ClusterConfig>& clusters);

/// Reads a listener or cluster name: non-empty, letters, digits, '_', '-', '.'.
std::string read_name(const Source& source, const Field& field);

/// Reads a policy name, which must be in core::PolicyRegistry::builtin().
std::string read_policy(const Source& source, const Field& field);

}  // namespace fulcrum::config::detail
