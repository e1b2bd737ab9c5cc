// Power of two choices (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
// 2001): draw two distinct members at random and send the request to the less loaded one. Load is
// in_flight per unit of effective weight (weight scaled by the agent's load, policy.h); like
// HAProxy's `random(2)` the draws are weighted, and the comparison cross-multiplies,
// in_flight_a * weight_b against in_flight_b * weight_a, so no division and no rounding.
//
// Equal loads (every server idle, as under one-request-at-a-time traffic) go to the first draw.
// That draw is weighted, so idle traffic follows the weights exactly in expectation: weights
// 1, 2, 1 give 1/4, 1/2, 1/4. Counting the request being placed (in_flight + 1) would instead
// hand every idle comparison to the heavier server, 0.07 / 0.86 / 0.07 for the same weights.
//
// Lock-free and O(1): two alias-table draws (see weighted_draw.h) and a few relaxed loads.
#include <algorithm>

#include "core/policies/weighted_draw.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

using u128 = unsigned __int128;

uint64_t in_flight(const Member& m) {
  return static_cast<uint64_t>(std::max(m.state->in_flight.load(std::memory_order_relaxed), 0));
}

class PowerOfTwo final : public Policy {
 public:
  explicit PowerOfTwo(std::span<const Member> members) : table_(members) {}

  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    const TwoChoices d = draw_two(table_, c, request.rng);
    if (d.second == kNoPick) return d.first;
    const std::size_t a = d.first;
    const std::size_t b = d.second;
    if (!c.agent_loads()) {
      // No agents: every load is unknown and scales every weight alike, so the configured
      // weights compare the same; 31-bit in_flight times a 32-bit weight fits in 64 bits.
      const uint64_t a_cost = in_flight(c[a]) * c.weight(b);
      const uint64_t b_cost = in_flight(c[b]) * c.weight(a);
      return b_cost < a_cost ? b : a;
    }
    // 31-bit in_flight times a 39-bit effective weight needs more than 64 bits.
    const u128 a_cost = u128{in_flight(c[a])} * c.effective_weight(b);
    const u128 b_cost = u128{in_flight(c[b])} * c.effective_weight(a);
    return b_cost < a_cost ? b : a;
  }

 private:
  const AliasTable table_;
};

}  // namespace

std::unique_ptr<Policy> make_power_of_two(std::span<const Member> members) {
  return std::make_unique<PowerOfTwo>(members);
}

}  // namespace fulcrum::core::policies
