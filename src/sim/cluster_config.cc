#include "sim/cluster_config.h"

#include <fmt/format.h>

#include <map>

#include "config/config.h"
#include "config/schema.h"
#include "config/sections.h"
#include "config/yaml_reader.h"

namespace fulcrum::sim {

namespace {

using config::DurationSyntax;
using config::detail::Field;
using config::detail::line_of;
using config::detail::MapReader;
using config::detail::read_bool;
using config::detail::read_list;
using config::detail::read_policy;
using config::detail::read_string;
using config::detail::read_uint;
using config::detail::Source;

// Generous bounds that still catch typos such as a weight of 10000000.
constexpr uint64_t kMaxWeight = 1'000'000;
constexpr uint64_t kMaxRetries = 100;
constexpr uint64_t kMaxPassiveAttempts = 1'000;

// A proxy cluster's keys minus those about real connections (timeouts, pool, limits). Servers
// and passive tracking use the proxy's sections unchanged.
constexpr std::string_view kClusterFileKeys[] = {"name",    "policy",   "retries",
                                                 "passive", "hash_key", "servers"};
constexpr config::schema::Section kClusterFile{"cluster file", kClusterFileKeys};

core::PassiveOptions read_passive(const Source& source, const Field& field) {
  const MapReader m(source, field, config::schema::kPassive);
  core::PassiveOptions passive;
  if (const Field* f = m.find("attempts")) {
    // Zero attempts would mark every server offline before it was ever tried.
    passive.attempts = static_cast<uint32_t>(read_uint(source, *f, 1, kMaxPassiveAttempts));
  }
  if (const Field* f = m.find("offline_timeout")) {
    passive.offline_timeout =
        config::detail::read_duration(source, *f, /*allow_zero=*/true, DurationSyntax::kFine);
  }
  return passive;
}

ClusterConfig read_cluster(const Source& source, const Field& root) {
  const MapReader m(source, root, kClusterFile);
  ClusterConfig cluster;
  cluster.name = read_string(source, m.require("name"));
  if (const Field* f = m.find("policy")) cluster.policy = read_policy(source, *f);
  if (const Field* f = m.find("retries")) {
    cluster.retries = static_cast<uint32_t>(read_uint(source, *f, 0, kMaxRetries));
  }
  if (const Field* f = m.find("passive")) cluster.passive = read_passive(source, *f);
  if (const Field* f = m.find("hash_key")) cluster.hash_key = read_string(source, *f);
  // Addresses are identities here, never connected to, so any non-empty string will do.
  cluster.servers = config::detail::read_servers(
      source, m.require("servers"), {.network_addresses = false, .max_weight = kMaxWeight});
  return cluster;
}

}  // namespace

std::optional<std::size_t> ClusterConfig::find(std::string_view address) const {
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (servers[i].address == address) return i;
  }
  return std::nullopt;
}

Field detail::load_root(const Source& source, const std::string& text) {
  const std::optional<YAML::Node> root = config::detail::load_document(source, text);
  if (!root || root->IsNull()) throw config::ConfigError(source.name(), 0, 0, "empty document");
  return Field{"", *root, std::nullopt};
}

ClusterConfig load_cluster_file(const std::string& path) {
  return parse_cluster(config::detail::read_file(path), path);
}

ClusterConfig parse_cluster(const std::string& text, const std::string& file_name) {
  const Source source(file_name);
  return read_cluster(source, detail::load_root(source, text));
}

}  // namespace fulcrum::sim
