#pragma once

// Drivers shared by the policy tests: scripted draws for the weighted alias table, a closed
// loop of in-flight requests, and shares as percentages.

#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::testing {

/// Raw draws that make the alias table (core/policies/weighted_draw.h) draw `members` in order:
/// a column, then coin 0, which keeps any member with weight on its own column.
inline ScriptedRng draws(std::size_t n, std::initializer_list<std::size_t> members) {
  std::vector<uint64_t> values;
  for (std::size_t i : members) {
    values.push_back(ScriptedRng::draw_for(i, n));
    values.push_back(0);
  }
  return ScriptedRng(values);
}

/// Member i's share of `n` picks, in percent.
inline double percent(const std::vector<std::size_t>& counts, std::size_t i, std::size_t n) {
  return 100.0 * static_cast<double>(counts[i]) / static_cast<double>(n);
}

/// A closed loop: `outstanding` requests always in flight, each completing after that many
/// further picks, so a member's share of picks is its share of in-flight work.
inline std::vector<std::size_t> closed_loop(PolicyHarness& h, core::Rng& rng, std::size_t picks,
                                            std::size_t outstanding) {
  std::vector<std::size_t> counts(h.members().size(), 0);
  std::deque<std::size_t> queue;
  for (std::size_t k = 0; k < picks; ++k) {
    const std::size_t i = h.pick(rng);
    counts.at(i)++;
    h.state(i).in_flight++;
    queue.push_back(i);
    if (queue.size() > outstanding) {
      h.state(queue.front()).in_flight--;
      queue.pop_front();
    }
  }
  return counts;
}

/// `n` pseudo-random request keys, the same for the same seed.
inline std::vector<uint64_t> random_keys(std::size_t n, uint64_t seed) {
  core::FastRng rng(seed);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng.next();
  return keys;
}

/// The address each key lands on ("" for kNoPick): comparable across member orders and rebuilds.
inline std::vector<std::string> map_keys(PolicyHarness& h, const std::vector<uint64_t>& keys,
                                         const core::TriedSet* tried = nullptr) {
  core::FastRng unused(1);
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (uint64_t key : keys) {
    const std::size_t i = h.pick(unused, key, tried);
    out.push_back(i == core::kNoPick ? "" : h.members()[i].spec.address);
  }
  return out;
}

}  // namespace fulcrum::testing
