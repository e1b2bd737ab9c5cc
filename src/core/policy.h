#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/cluster_health.h"
#include "core/eligibility.h"
#include "core/rng.h"
#include "core/server.h"
#include "core/tried_set.h"

namespace fulcrum::core {

/// A server as one snapshot sees it: its configured description and its live state.
struct Member {
  ServerSpec spec;
  std::shared_ptr<ServerState> state;
};

inline constexpr std::size_t kNoPick = std::numeric_limits<std::size_t>::max();

/// Facts of the cluster a pick needs besides its members.
struct PickContext {
  /// The cluster is in panic mode, so eligibility ignores what Fulcrum inferred from probes.
  bool panic = false;
  /// The cluster queries server agents, so their loads steer the weighted policies. Without
  /// agents every load is unknown and scales every weight alike, so draws skip the load step.
  bool agent_loads = false;
  /// The cluster's shared health state (typical latency for least_latency); may be null.
  const ClusterHealthState* cluster = nullptr;
};

/// The members a policy chooses from, with the single eligibility rule applied: a member is usable
/// when it is eligible now and has not been tried by this request. Built on the stack per pick.
class Candidates {
 public:
  Candidates(std::span<const Member> members, const PassiveOptions& passive, Nanos now,
             const TriedSet* tried, PickContext context = {})
      : members_(members), passive_(passive), now_(now), tried_(tried), context_(context) {}

  std::size_t size() const { return members_.size(); }
  const Member& operator[](std::size_t i) const { return members_[i]; }

  bool usable(std::size_t i) const {
    const Member& m = members_[i];
    if (tried_ != nullptr && tried_->contains(m.state.get())) return false;
    return eligible(i);
  }

  /// Eligible now, whatever this request has tried: lets a policy that caches eligibility
  /// across picks (least_connections) tell "down" from "already tried by this request".
  bool eligible(std::size_t i) const {
    const Member& m = members_[i];
    return pickable(evaluate(m.spec, *m.state, passive_, now_, context_.panic));
  }

  /// The configured weight. Slow start and agent weight percentages act after the policy, by
  /// admission in TryList::next (slow_start.h), so that every policy honours them the same way.
  uint32_t weight(std::size_t i) const { return members_[i].spec.weight; }

  /// What weighted policies balance on: weight x (101 - agent load), in units of 1/101 of a
  /// weight. Round robin and the hash policies do not use it (see docs/balancing.md).
  uint64_t effective_weight(std::size_t i) const {
    return uint64_t{weight(i)} * load_factor(*members_[i].state);
  }

  Nanos now() const { return now_; }
  bool panic() const { return context_.panic; }
  bool agent_loads() const { return context_.agent_loads; }
  const ClusterHealthState* cluster() const { return context_.cluster; }

 private:
  std::span<const Member> members_;
  const PassiveOptions& passive_;
  Nanos now_;
  const TriedSet* tried_;
  PickContext context_;
};

/// Input of one pick.
struct PickRequest {
  const Candidates& candidates;
  Rng& rng;                     ///< The calling thread's generator.
  std::optional<uint64_t> key;  ///< Request key hash for ring_hash / maglev; others ignore it.
};

/// A balancing policy bound to one immutable member list (one tier of one snapshot). Built by
/// whoever publishes the snapshot, then shared by every thread that picks from it.
class Policy {
 public:
  virtual ~Policy() = default;

  /// Thread-safe, wait-free or lock-free, never allocates. Returns the index of a member for
  /// which `request.candidates.usable(i)` holds, or kNoPick when there is none. Must terminate
  /// after a bounded amount of work whatever the members' states are.
  virtual std::size_t pick(const PickRequest& request) = 0;

  /// Thread-safe. Member `index`'s active_connections or in_flight changed. Only policies that
  /// index load (least connections) care.
  virtual void on_load_changed(std::size_t /*index*/) {}
};

/// Builds a policy for `members`. Called whenever membership or weights change, off the request
/// path, so it may allocate and precompute (rings, Maglev tables).
using PolicyFactory = std::unique_ptr<Policy> (*)(std::span<const Member> members);

}  // namespace fulcrum::core
