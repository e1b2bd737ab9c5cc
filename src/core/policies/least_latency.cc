// Least latency: Finagle's and Linkerd's "peak EWMA" balancer. Power of two choices (as
// power_of_two.cc: weighted draws, cross-multiplied comparison) where a member's cost is its
// latency estimate times (in_flight + 1), divided by its effective weight: a fast server is
// preferred until its queue makes it as slow as a slower idle one.
//
// Estimates are Peak-EWMAs that decay towards the cluster's typical latency while they get no
// samples (latency.h), so a server that had one slow reading is tried again soon instead of being
// starved, and one that really is slower keeps getting clearly less.
//
// A server with no latency sample yet (estimate 0) costs 0, so servers new to the tier get tried
// and earn a sample. Equal costs (typically two sample-less servers) fall back to power_of_two's
// in_flight / weight comparison, then to the first draw, itself weighted.
//
// Lock-free and O(1): two alias-table draws and a few relaxed loads.
#include <algorithm>

#include "core/latency.h"
#include "core/policies/weighted_draw.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

using u128 = unsigned __int128;

u128 in_flight(const ServerState& s) {
  return static_cast<u128>(std::max(s.in_flight.load(std::memory_order_relaxed), 0));
}

class LeastLatency final : public Policy {
 public:
  explicit LeastLatency(std::span<const Member> members) : table_(members) {}

  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    const TwoChoices d = draw_two(table_, c, request.rng);
    if (d.second == kNoPick) return d.first;
    const std::size_t a = d.first;
    const std::size_t b = d.second;
    const ServerState& sa = *c[a].state;
    const ServerState& sb = *c[b].state;
    const int64_t typical = typical_latency(c.cluster());
    const auto estimate_a = static_cast<u128>(latency_estimate(sa, c.now(), typical));
    const auto estimate_b = static_cast<u128>(latency_estimate(sb, c.now(), typical));
    // Estimate (63 bits) x (in_flight + 1) (32) x effective weight (39) fits in 128 bits.
    const u128 a_cost = estimate_a * (in_flight(sa) + 1) * c.effective_weight(b);
    const u128 b_cost = estimate_b * (in_flight(sb) + 1) * c.effective_weight(a);
    if (a_cost != b_cost) return b_cost < a_cost ? b : a;
    return in_flight(sb) * c.effective_weight(a) < in_flight(sa) * c.effective_weight(b) ? b : a;
  }

 private:
  const AliasTable table_;
};

}  // namespace

std::unique_ptr<Policy> make_least_latency(std::span<const Member> members) {
  return std::make_unique<LeastLatency>(members);
}

}  // namespace fulcrum::core::policies
