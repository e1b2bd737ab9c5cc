#pragma once

// Walking a cluster snapshot's members with their live state, without taking the cluster's
// control lock: the snapshot holds every member's ServerState.

#include "core/cluster.h"

namespace fulcrum::admin {

/// Calls fn(const Member&) for every member: primaries, then backups, each in configuration
/// order.
template <typename Fn>
void for_each_member(const core::ClusterSnapshot& snapshot, Fn fn) {
  for (const core::Tier& tier : snapshot.tiers) {
    for (const core::Member& member : tier.members) fn(member);
  }
}

/// The member with that address, or nullptr.
inline const core::Member* find_member(const core::ClusterSnapshot& snapshot,
                                       std::string_view address) {
  for (const core::Tier& tier : snapshot.tiers) {
    for (const core::Member& member : tier.members) {
      if (member.spec.address == address) return &member;
    }
  }
  return nullptr;
}

}  // namespace fulcrum::admin
