#include "core/cluster.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "core/outlier.h"

namespace fulcrum::core {

namespace {

void require_unique_addresses(const std::vector<ServerSpec>& servers) {
  std::unordered_set<std::string_view> seen;
  for (const auto& s : servers) {
    if (!seen.insert(s.address).second) {
      throw std::invalid_argument("duplicate server address " + s.address);
    }
  }
}

PolicyFactory find_factory(const PolicyRegistry& registry, const std::string& name) {
  PolicyFactory factory = registry.find(name);
  if (factory == nullptr) throw std::invalid_argument("unknown policy " + name);
  return factory;
}

}  // namespace

Cluster::Cluster(ClusterOptions options, std::vector<ServerSpec> servers,
                 const PolicyRegistry& registry)
    : options_(std::move(options)),
      factory_(find_factory(registry, options_.policy)),
      health_state_(std::make_shared<ClusterHealthState>()) {
  set_servers(std::move(servers));
}

Cluster::Cluster(ClusterOptions options, std::vector<ServerSpec> servers, const Cluster& previous,
                 const PolicyRegistry& registry)
    : options_(std::move(options)),
      factory_(find_factory(registry, options_.policy)),
      health_state_(previous.health_state_) {
  {
    std::lock_guard lock(previous.control_mutex_);
    states_ = previous.states_;
  }
  set_servers(std::move(servers));  // Retires the servers the new configuration dropped.
}

bool Cluster::add_server(ServerSpec spec) {
  std::lock_guard lock(control_mutex_);
  auto same = [&](const ServerSpec& s) { return s.address == spec.address; };
  if (std::any_of(specs_.begin(), specs_.end(), same)) return false;
  specs_.push_back(std::move(spec));
  publish_locked();
  return true;
}

bool Cluster::remove_server(std::string_view address) {
  std::lock_guard lock(control_mutex_);
  auto it = std::find_if(specs_.begin(), specs_.end(),
                         [&](const ServerSpec& s) { return s.address == address; });
  if (it == specs_.end()) return false;
  specs_.erase(it);
  publish_locked();
  return true;
}

bool Cluster::set_resolved(std::string_view address, const NetAddress& expected,
                           const NetAddress& fresh) {
  std::lock_guard lock(control_mutex_);
  auto it = std::find_if(specs_.begin(), specs_.end(),
                         [&](const ServerSpec& s) { return s.address == address; });
  if (it == specs_.end() || it->resolved != expected || expected == fresh) return false;
  it->resolved = fresh;
  publish_locked();
  return true;
}

bool Cluster::set_weight(std::string_view address, uint32_t weight) {
  std::lock_guard lock(control_mutex_);
  auto it = std::find_if(specs_.begin(), specs_.end(),
                         [&](const ServerSpec& s) { return s.address == address; });
  if (it == specs_.end()) return false;
  if (it->weight == weight) return true;
  it->weight = weight;
  publish_locked();
  return true;
}

void Cluster::set_servers(std::vector<ServerSpec> servers) {
  require_unique_addresses(servers);
  std::lock_guard lock(control_mutex_);
  specs_ = std::move(servers);
  publish_locked();
}

std::shared_ptr<ServerState> Cluster::state_of(std::string_view address) const {
  std::lock_guard lock(control_mutex_);
  auto it = states_.find(std::string(address));
  return it == states_.end() ? nullptr : it->second;
}

void Cluster::publish_locked() {
  auto snapshot = std::make_shared<ClusterSnapshot>();
  snapshot->version = version_.load(std::memory_order_relaxed) + 1;
  snapshot->cluster_name = options_.name;
  snapshot->passive = options_.passive;
  snapshot->health = options_.health;
  snapshot->health_state = health_state_;
  snapshot->servers = specs_;

  // Keep live state for servers that stay; drop it for servers that left (snapshots still
  // holding them keep it alive until their last reader is done).
  std::unordered_map<std::string, std::shared_ptr<ServerState>> states;
  states.reserve(specs_.size());  // No rehashing: at 10,000 servers it showed in every publish.
  const auto backups = static_cast<std::size_t>(
      std::count_if(specs_.begin(), specs_.end(), [](const auto& s) { return s.backup; }));
  snapshot->tiers[static_cast<std::size_t>(TierKind::kPrimary)].members.reserve(specs_.size() -
                                                                                backups);
  snapshot->tiers[static_cast<std::size_t>(TierKind::kBackup)].members.reserve(backups);
  for (const auto& spec : specs_) {
    auto it = states_.find(spec.address);
    auto state = it != states_.end() ? it->second : std::make_shared<ServerState>(spec.address);
    states.emplace(spec.address, state);
    auto kind = spec.backup ? TierKind::kBackup : TierKind::kPrimary;
    snapshot->tiers[static_cast<std::size_t>(kind)].members.push_back(Member{spec, state});
  }
  for (auto& [address, state] : states_) {
    if (!states.contains(address)) retire(*state, *health_state_);  // Frees its ejection slot.
  }
  states_ = std::move(states);
  for (auto& tier : snapshot->tiers) tier.policy = factory_(tier.members);

  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(snapshot);
  }
  version_.fetch_add(1, std::memory_order_release);
}

}  // namespace fulcrum::core
