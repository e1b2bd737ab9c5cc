// Power of two choices (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
// 2001): draw two distinct members at random and send the request to the less loaded one. Load is
// in_flight relative to weight; like HAProxy's `random(2)`, the draws are weighted and the
// comparison cross-multiplies, (in_flight_a + 1) * weight_b against (in_flight_b + 1) * weight_a,
// so no division and no rounding. The +1 counts the request being placed, so idle servers are
// still told apart by weight. Ties go to the first draw, itself random.
//
// Lock-free and O(1): two alias-table draws (see weighted_draw.h) and two relaxed loads.
#include <algorithm>

#include "core/policies/weighted_draw.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

uint64_t load_plus_one(const Member& m) {
  const int32_t in_flight = m.state->in_flight.load(std::memory_order_relaxed);
  return static_cast<uint64_t>(std::max(in_flight, 0)) + 1;
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
    // 32-bit in_flight + 1 times 32-bit weight fits in 64 bits.
    const uint64_t a_cost = load_plus_one(c[a]) * c.weight(b);
    const uint64_t b_cost = load_plus_one(c[b]) * c.weight(a);
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
