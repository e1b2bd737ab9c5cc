#include "sim/cluster_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/policy_registry.h"
#include "sim/yaml_reader.h"

namespace fulcrum::sim {

namespace {

// Generous bounds that still catch typos such as a weight of 10000000.
constexpr uint64_t kMaxWeight = 1'000'000;
constexpr uint64_t kMaxRetries = 100;
constexpr uint64_t kMaxPassiveAttempts = 1'000;

core::ServerSpec read_server(const YamlReader& r, const YAML::Node& node) {
  r.expect_map(node, "server", {"address", "weight", "backup"});
  core::ServerSpec spec;
  spec.address = r.string(r.required(node, "address", "server"), "address");
  if (auto weight = node["weight"]) {
    spec.weight = static_cast<uint32_t>(r.unsigned_integer(weight, "weight", 0, kMaxWeight));
  }
  if (auto backup = node["backup"]) spec.backup = r.boolean(backup, "backup");
  return spec;
}

core::PassiveOptions read_passive(const YamlReader& r, const YAML::Node& node) {
  r.expect_map(node, "passive", {"attempts", "offline_timeout"});
  core::PassiveOptions passive;
  if (auto attempts = node["attempts"]) {
    // Zero attempts would mark every server offline before it was ever tried.
    passive.attempts =
        static_cast<uint32_t>(r.unsigned_integer(attempts, "attempts", 1, kMaxPassiveAttempts));
  }
  if (auto timeout = node["offline_timeout"]) {
    passive.offline_timeout = r.duration(timeout, "offline_timeout");
  }
  return passive;
}

ClusterConfig read_cluster(const YamlReader& r, const YAML::Node& root) {
  r.expect_map(root, "cluster file",
               {"name", "policy", "retries", "passive", "hash_key", "servers"});
  ClusterConfig config;
  config.name = r.string(r.required(root, "name", "cluster file"), "name");

  if (auto policy = root["policy"]) {
    config.policy = r.string(policy, "policy");
    const auto names = core::PolicyRegistry::builtin().names();
    if (std::find(names.begin(), names.end(), config.policy) == names.end()) {
      r.fail(policy, fmt::format("unknown policy '{}' (expected one of: {})", config.policy,
                                 fmt::join(names, ", ")));
    }
  }
  if (auto retries = root["retries"]) {
    config.retries = static_cast<uint32_t>(r.unsigned_integer(retries, "retries", 0, kMaxRetries));
  }
  if (auto passive = root["passive"]) config.passive = read_passive(r, passive);
  if (auto key = root["hash_key"]) config.hash_key = r.string(key, "hash_key");

  const YAML::Node servers = r.required(root, "servers", "cluster file");
  r.expect_sequence(servers, "servers");
  if (servers.size() == 0) r.fail(servers, "servers must list at least one server");
  for (const YAML::Node& node : servers) {
    core::ServerSpec spec = read_server(r, node);
    if (config.find(spec.address)) {
      r.fail(node["address"], fmt::format("duplicate server address '{}'", spec.address));
    }
    config.servers.push_back(std::move(spec));
  }
  return config;
}

}  // namespace

std::optional<std::size_t> ClusterConfig::find(std::string_view address) const {
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (servers[i].address == address) return i;
  }
  return std::nullopt;
}

ClusterConfig load_cluster_file(const std::string& path) {
  YamlReader reader(path);
  return read_cluster(reader, reader.load_file());
}

ClusterConfig parse_cluster(const std::string& text, const std::string& file_name) {
  YamlReader reader(file_name);
  return read_cluster(reader, reader.load_text(text));
}

}  // namespace fulcrum::sim
