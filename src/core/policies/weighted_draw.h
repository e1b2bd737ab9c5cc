// Weighted random draws shared by the random, power_of_two and least_latency policies.
//
// AliasTable is Walker's alias method in Vose's construction ("A Linear Algorithm for Generating
// Random Numbers with a Given Distribution", 1991), done in exact integer arithmetic: each of the
// n columns holds capacity W (the total weight), split between the column's own member and one
// alias. A draw is one uniform column and one uniform coin, so it costs the same at 10 servers as
// at 10,000, where a binary search over cumulative weights would take ~14 dependent loads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/policy.h"

namespace fulcrum::core::policies {

class AliasTable {
 public:
  /// Built from the members' configured weights, off the request path.
  explicit AliasTable(std::span<const Member> members);

  std::size_t size() const { return columns_.size(); }
  uint64_t total() const { return total_; }
  /// The weight member `i` had when the table was built.
  uint32_t weight(std::size_t i) const { return columns_[i].weight; }

  /// Member `i` with probability weight(i) / total(). Consumes exactly two draws from `rng`
  /// (column, then coin). Requires total() > 0; never returns a zero-weight member.
  std::size_t draw(Rng& rng) const {
    const std::size_t column = rng.below(columns_.size());
    const uint64_t coin = rng.below(total_);
    const Column& c = columns_[column];
    // Branch-free select: the comparison is a coin flip the branch predictor cannot learn.
    const std::size_t keep = -static_cast<std::size_t>(coin < c.threshold);
    return (column & keep) | (c.alias & ~keep);
  }

  /// Probability mass (in units of 1 / (size() * total())) the table gives member `i`; equals
  /// weight(i) * size() when the table is exact. For tests.
  uint64_t mass(std::size_t i) const;

 private:
  // 16 bytes: a draw touches one column, so the weight rides along for the acceptance check.
  struct Column {
    uint64_t threshold = 0;  ///< Coins below this keep the column's own member.
    uint32_t alias = 0;
    uint32_t weight = 0;
  };

  std::vector<Column> columns_;
  uint64_t total_ = 0;
};

/// Redraws before a weighted draw gives up on hitting a usable member and the caller falls back
/// to a scan. Sixteen misses in a row mean most of the weight is unusable (or, with agents, most
/// servers report heavy loads): the chance of that with half the weight usable is 1 in 65,536.
inline constexpr int kMaxDraws = 16;

/// Whether drawn member `i` may be taken: usable, not `avoid`, and through the agent-load step.
/// The table holds configured weights; where agents report loads, a member is kept with
/// probability (101 - load) / 101, so draws follow effective weights (policy.h) without a rebuild
/// on every report. Without agents every load scales alike and the step is skipped.
inline bool accept(const AliasTable&, const Candidates& c, Rng& rng, std::size_t i,
                   std::size_t avoid = kNoPick) {
  if (i == avoid || !c.usable(i)) return false;
  return !c.agent_loads() || rng.below(kLoadScale) < load_factor(*c[i].state);
}

/// A weighted draw of a usable member other than `avoid`, or kNoPick after `attempts` misses.
inline std::size_t draw_usable(const AliasTable& table, const Candidates& c, Rng& rng,
                               std::size_t avoid = kNoPick, int attempts = kMaxDraws) {
  if (table.total() == 0) return kNoPick;
  for (int k = 0; k < attempts; ++k) {
    const std::size_t i = table.draw(rng);
    if (accept(table, c, rng, i, avoid)) return i;
  }
  return kNoPick;
}

/// The first usable member with a non-zero weight other than `avoid`, at or after `start` and
/// wrapping once: the bounded O(N) fallback when random draws keep missing. Unweighted beyond
/// skipping weight 0, which is acceptable for a tier where most of the weight is unusable.
inline std::size_t scan_usable(const Candidates& c, std::size_t start,
                               std::size_t avoid = kNoPick) {
  const std::size_t n = c.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = start + k;
    if (i >= n) i -= n;
    if (i != avoid && c.weight(i) != 0 && c.usable(i)) return i;
  }
  return kNoPick;
}

/// Two distinct usable members for a power-of-two-choices comparison: the first is a weighted
/// draw of a usable member, the second a weighted draw of another, each with kMaxDraws attempts,
/// then a scan. `second` is kNoPick only when `first` is the only usable member; both are kNoPick
/// when none is usable. Two O(N) scans at worst, in degraded tiers.
struct TwoChoices {
  std::size_t first = kNoPick;
  std::size_t second = kNoPick;
};

inline TwoChoices draw_two(const AliasTable& table, const Candidates& c, Rng& rng) {
  TwoChoices out;
  const std::size_t n = c.size();
  if (n == 0) return out;
  if (table.total() != 0) {
    // Both draws are made before either member is examined, so at thousands of members the two
    // chains of cache misses (column, member, state) overlap instead of adding up: ~15% faster at
    // 10,000 members. The draws are then used in order, exactly as drawing one at a time would.
    const std::size_t x = table.draw(rng);
    const std::size_t y = table.draw(rng);
    int second_attempts = kMaxDraws;
    if (accept(table, c, rng, x)) {
      out.first = x;
      if (accept(table, c, rng, y, x)) {
        out.second = y;
        return out;
      }
      second_attempts = kMaxDraws - 1;  // y was the second's first attempt.
    } else if (accept(table, c, rng, y)) {
      out.first = y;
    } else {
      out.first = draw_usable(table, c, rng, kNoPick, kMaxDraws - 2);  // After x and y.
    }
    if (out.first != kNoPick) {
      out.second = draw_usable(table, c, rng, out.first, second_attempts);
      if (out.second != kNoPick) return out;
    }
  }
  if (out.first == kNoPick) {
    // Draws kept missing, so little is usable: scan for the first, then for the second.
    out.first = scan_usable(c, rng.below(n));
    if (out.first == kNoPick) return out;
  }
  out.second = scan_usable(c, rng.below(n), out.first);
  return out;
}

}  // namespace fulcrum::core::policies
