#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

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

/// The members a policy chooses from, with the single eligibility rule applied: a member is usable
/// when it is eligible now and has not been tried by this request. Built on the stack per pick.
/// `panic`: the cluster is in panic mode, so eligibility ignores what Fulcrum inferred.
class Candidates {
 public:
  Candidates(std::span<const Member> members, const PassiveOptions& passive, Nanos now,
             const TriedSet* tried, bool panic = false)
      : members_(members), passive_(passive), now_(now), tried_(tried), panic_(panic) {}

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
    return pickable(evaluate(m.spec, *m.state, passive_, now_, panic_));
  }

  /// Weight weighted policies balance on: the configured one. Slow start and agent weight
  /// percentages act after the policy, by admission in TryList::next (slow_start.h), so that
  /// every policy honours them the same way and none applies them twice.
  uint32_t weight(std::size_t i) const { return members_[i].spec.weight; }

  Nanos now() const { return now_; }
  bool panic() const { return panic_; }

 private:
  std::span<const Member> members_;
  const PassiveOptions& passive_;
  Nanos now_;
  const TriedSet* tried_;
  bool panic_;
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
