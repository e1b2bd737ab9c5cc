#pragma once

// Pieces shared by the consistent-hash policies (ring_hash, maglev).

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "core/policy.h"

namespace fulcrum::core::policies {

/// Maps a uniform 64-bit value to [0, n) (Lemire's multiply-shift).
inline std::size_t scale(uint64_t x, std::size_t n) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(x) * n) >> 64);
}

/// Indexes of the members with a non-zero weight, ordered by address: tables built from this
/// order depend only on the membership, not on the order it was listed in, so two instances
/// with the same servers pick the same server for the same key.
inline std::vector<uint32_t> rank_by_address(std::span<const Member> members) {
  std::vector<uint32_t> ranked;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i].spec.weight > 0) ranked.push_back(static_cast<uint32_t>(i));
  }
  std::sort(ranked.begin(), ranked.end(), [&](uint32_t a, uint32_t b) {
    return members[a].spec.address < members[b].spec.address;
  });
  return ranked;
}

}  // namespace fulcrum::core::policies
