// Weighted random: each pick draws a member with probability proportional to its weight among
// the usable ones, as HAProxy's `random` and Envoy's RANDOM (with weights) do. The draw is an
// alias table built with the policy (see weighted_draw.h), so a pick is O(1) at any size and
// stateless, hence lock-free: only the calling thread's Rng changes.
//
// An unusable draw is redrawn, which keeps the distribution exact over the usable members. After
// kMaxDraws misses (most of the weight is unusable) a bounded scan from a random start takes the
// first usable member; that fallback is unweighted, acceptable for such a degraded tier.
#include "core/policies/weighted_draw.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

class Random final : public Policy {
 public:
  explicit Random(std::span<const Member> members) : table_(members) {}

  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    if (c.size() == 0) return kNoPick;
    const std::size_t i = draw_usable(table_, c, request.rng);
    if (i != kNoPick) return i;
    return scan_usable(c, request.rng.below(c.size()));
  }

 private:
  const AliasTable table_;
};

}  // namespace

std::unique_ptr<Policy> make_random(std::span<const Member> members) {
  return std::make_unique<Random>(members);
}

}  // namespace fulcrum::core::policies
