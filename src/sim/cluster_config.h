#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::config::detail {
class Source;
struct Field;
}  // namespace fulcrum::config::detail

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

/// Throw config::ConfigError naming file:line:column. Files are read with the proxy
/// configuration's reader (config/yaml_reader.h), so the rules and messages are the same.
ClusterConfig load_cluster_file(const std::string& path);
/// `text` is parsed as the contents of a file called `file_name` (used in messages).
ClusterConfig parse_cluster(const std::string& text, const std::string& file_name);

namespace detail {
/// The top-level mapping of a cluster or scenario file. An empty file fails without a position
/// ("FILE: empty document"), as there is nothing to point at.
config::detail::Field load_root(const config::detail::Source& source, const std::string& text);
}  // namespace detail

}  // namespace fulcrum::sim
