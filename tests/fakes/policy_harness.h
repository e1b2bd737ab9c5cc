#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/policy.h"
#include "core/policy_registry.h"
#include "core/rng.h"

namespace fulcrum::testing {

/// Builds one tier of members and a policy over them, for policy unit tests: no cluster, no
/// snapshot, direct access to every ServerState.
class PolicyHarness {
 public:
  PolicyHarness(const std::string& policy, const std::vector<uint32_t>& weights,
                core::PassiveOptions passive = core::PassiveOptions{.attempts = 3,
                                                                    .offline_timeout = {}})
      : passive_(passive) {
    for (std::size_t i = 0; i < weights.size(); ++i) {
      std::string address = "10.0.0." + std::to_string(i + 1) + ":80";
      members_.push_back({core::ServerSpec{address, weights[i], false},
                          std::make_shared<core::ServerState>(address)});
    }
    factory_ = core::PolicyRegistry::builtin().find(policy);
    if (factory_ == nullptr) throw std::invalid_argument("unknown policy " + policy);
    rebuild();
  }

  /// Rebuilds the policy after members_ changed (as a new snapshot would).
  void rebuild() { policy_ = factory_(members_); }

  std::size_t pick(core::Rng& rng, std::optional<uint64_t> key = std::nullopt,
                   const core::TriedSet* tried = nullptr) {
    core::Candidates candidates(members_, passive_, clock_.now(), tried, context_);
    return policy_->pick(core::PickRequest{candidates, rng, key});
  }

  /// Picks `n` times and returns how many picks each member got (index kNoPick counted at the end).
  std::vector<std::size_t> histogram(core::Rng& rng, std::size_t n,
                                     std::optional<uint64_t> key = std::nullopt) {
    std::vector<std::size_t> counts(members_.size() + 1, 0);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = pick(rng, key);
      counts[i == core::kNoPick ? members_.size() : i]++;
    }
    return counts;
  }

  core::ServerState& state(std::size_t i) { return *members_[i].state; }
  /// Member i's latency estimate, sampled now (so not decayed yet).
  void set_latency(std::size_t i, int64_t ns) {
    state(i).latency_ewma_ns = ns;
    state(i).latency_sampled_ns = clock_.now().count();
  }
  /// The cluster's shared health state the picks see (typical latency).
  core::ClusterHealthState& cluster_health() { return cluster_health_; }
  /// Whether picks weigh agent loads in draws (a cluster with agents).
  void set_agent_loads(bool on) { context_.agent_loads = on; }
  std::vector<core::Member>& members() { return members_; }
  core::Policy& policy() { return *policy_; }
  core::ManualClock& clock() { return clock_; }

 private:
  core::PassiveOptions passive_;
  core::ManualClock clock_;
  std::vector<core::Member> members_;
  core::ClusterHealthState cluster_health_;
  core::PickContext context_{.cluster = &cluster_health_};
  core::PolicyFactory factory_ = nullptr;
  std::unique_ptr<core::Policy> policy_;
};

}  // namespace fulcrum::testing
