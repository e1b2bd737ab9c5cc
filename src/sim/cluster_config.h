#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::sim {

/// A cluster as the simulator's cluster file describes it:
///
///   name: web
///   policy: weighted_round_robin      # any name in core::PolicyRegistry::builtin()
///   retries: 2                        # attempts per request = retries + 1
///   passive: {attempts: 3, offline_timeout: 10s}
///   hash_key: source_ip               # optional; accepted as in a proxy cluster (see scenario.h)
///   servers:
///     - {address: "10.0.0.1:8080", weight: 3}
///     - {address: "10.0.0.9:8080", backup: true}
struct ClusterConfig {
  std::string name;
  std::string policy = "round_robin";
  uint32_t retries = 2;
  core::PassiveOptions passive;
  /// Accepted so proxy cluster definitions load unchanged. The simulator has no real clients:
  /// every request carries a synthetic key whatever this says (Scenario::keys).
  std::optional<std::string> hash_key;
  std::vector<core::ServerSpec> servers;

  /// Index of `address` in `servers`, or nullopt.
  std::optional<std::size_t> find(std::string_view address) const;
};

/// Throw ConfigError naming file:line:column.
ClusterConfig load_cluster_file(const std::string& path);
/// `text` is parsed as the contents of a file called `file_name` (used in messages).
ClusterConfig parse_cluster(const std::string& text, const std::string& file_name);

}  // namespace fulcrum::sim
