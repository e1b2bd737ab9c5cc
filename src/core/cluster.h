#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cluster_health.h"
#include "core/health_options.h"
#include "core/passive.h"
#include "core/policy.h"
#include "core/policy_registry.h"

namespace fulcrum::core {

enum class TierKind : uint8_t { kPrimary = 0, kBackup = 1 };

/// Members of one priority level with the policy built for exactly them.
struct Tier {
  std::vector<Member> members;
  std::unique_ptr<Policy> policy;
};

/// One immutable view of a cluster's membership, published as a whole (RCU-style). Readers hold a
/// shared_ptr for as long as they use it, so a pick in progress stays valid across any change.
/// Only the policies' internal atomics (cursors, load index) and the shared health state change
/// after publication.
struct ClusterSnapshot {
  uint64_t version = 0;
  std::string cluster_name;
  PassiveOptions passive;
  HealthOptions health;
  /// The cluster's one health state, shared by all its snapshots; never null in a published one.
  std::shared_ptr<ClusterHealthState> health_state;
  std::array<Tier, 2> tiers;        ///< Indexed by TierKind.
  std::vector<ServerSpec> servers;  ///< In configuration order, for listings.

  const Tier& tier(TierKind kind) const { return tiers[static_cast<std::size_t>(kind)]; }
  std::size_t size() const { return servers.size(); }
};

using SnapshotPtr = std::shared_ptr<const ClusterSnapshot>;

struct ClusterOptions {
  std::string name;
  std::string policy = "round_robin";
  PassiveOptions passive;
  HealthOptions health;
};

/// A named set of servers and a policy. Control operations (add, remove, reweight, replace) are
/// serialised by a mutex and publish a new snapshot; picking never takes that mutex. Live state
/// (ServerState) is kept per address and carried into every new snapshot that still lists the
/// server, so counters and passive state survive membership changes.
class Cluster {
 public:
  /// Throws std::invalid_argument for an unknown policy or duplicate addresses.
  Cluster(ClusterOptions options, std::vector<ServerSpec> servers,
          const PolicyRegistry& registry = PolicyRegistry::builtin());
  /// The cluster of a reloaded configuration: takes over `previous`'s live state (per server
  /// that stays, and the cluster's health state) so health, passive tracking, ejections and
  /// counters carry over. `previous` keeps serving the requests that already hold it.
  Cluster(ClusterOptions options, std::vector<ServerSpec> servers, const Cluster& previous,
          const PolicyRegistry& registry = PolicyRegistry::builtin());

  const std::string& name() const { return options_.name; }
  const ClusterOptions& options() const { return options_; }

  /// Thread-safe. The current snapshot. Takes a short lock: hot paths read through a
  /// SnapshotReader, which calls this only when the version moved.
  SnapshotPtr snapshot() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
  }
  /// Thread-safe, one relaxed load: lets per-thread caches notice a new snapshot cheaply.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Control operations. Thread-safe; each publishes a new snapshot when it changes something.
  /// False when the address is already a member.
  bool add_server(ServerSpec spec);
  /// False when the address is not a member.
  bool remove_server(std::string_view address);
  /// False when the address is not a member.
  bool set_weight(std::string_view address, uint32_t weight);
  /// Compare-and-set of a server's resolved address: applies `fresh` only while the member still
  /// has `expected`, so a re-resolution that raced another change does not undo it. False when
  /// nothing changed.
  bool set_resolved(std::string_view address, const NetAddress& expected, const NetAddress& fresh);
  /// Replaces the whole membership. Throws std::invalid_argument on duplicate addresses.
  void set_servers(std::vector<ServerSpec> servers);

  /// Thread-safe. Live state of a current member, or nullptr.
  std::shared_ptr<ServerState> state_of(std::string_view address) const;

  /// Panic flag, ejection count and health totals, shared with every snapshot.
  ClusterHealthState& health_state() const { return *health_state_; }

 private:
  void publish_locked();

  const ClusterOptions options_;
  const PolicyFactory factory_;
  const std::shared_ptr<ClusterHealthState> health_state_;
  mutable std::mutex control_mutex_;
  std::vector<ServerSpec> specs_;  // guarded by control_mutex_
  std::unordered_map<std::string, std::shared_ptr<ServerState>>
      states_;  // guarded by control_mutex_
  // A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12 implements the latter with an
  // internal spin lock anyway, and ThreadSanitizer cannot see through it.
  mutable std::mutex snapshot_mutex_;
  SnapshotPtr snapshot_;  // guarded by snapshot_mutex_
  std::atomic<uint64_t> version_{0};
};

/// A thread's cached view of a cluster's snapshot. Re-reads the shared pointer (under the
/// cluster's lock) only when the version moved, so the steady state is one acquire load.
/// One per thread; not thread-safe.
class SnapshotReader {
 public:
  explicit SnapshotReader(const Cluster& cluster) : cluster_(&cluster) {}

  const SnapshotPtr& current() {
    if (cluster_->version() != seen_version_ || !snapshot_) {
      snapshot_ = cluster_->snapshot();
      seen_version_ = snapshot_->version;
    }
    return snapshot_;
  }

 private:
  const Cluster* cluster_;
  uint64_t seen_version_ = 0;
  SnapshotPtr snapshot_;
};

}  // namespace fulcrum::core
