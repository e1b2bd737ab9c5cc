// Least latency: a light version of Finagle's and Linkerd's "peak EWMA" balancer. Power of two
// choices (as power_of_two.cc: weighted draws, cross-multiplied comparison) where a member's cost
// is its latency EWMA times (in_flight + 1), divided by its weight: a fast server is preferred
// until its queue makes it as slow as a slower idle one.
//
// A server with no latency sample yet (EWMA 0) costs 0, so servers new to the tier get tried
// and earn a sample. Unlike Finagle there is no penalty for a sample-less server with requests
// outstanding; those count only in the tie-break. Equal costs (typically two sample-less
// servers) fall back to power_of_two's in_flight / weight comparison, then to the first draw.
//
// Lock-free and O(1): two alias-table draws and four relaxed loads.
#include <algorithm>

#include "core/policies/weighted_draw.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

using u128 = unsigned __int128;

uint64_t load_plus_one(const ServerState& s) {
  return static_cast<uint64_t>(std::max(s.in_flight.load(std::memory_order_relaxed), 0)) + 1;
}

// EWMA (up to 63 bits) * (in_flight + 1) (up to 32) * weight (32) needs 128 bits.
u128 cost(const ServerState& s) {
  const int64_t ewma = std::max<int64_t>(s.latency_ewma_ns.load(std::memory_order_relaxed), 0);
  return static_cast<u128>(ewma) * load_plus_one(s);
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
    const u128 a_cost = cost(sa) * c.weight(b);
    const u128 b_cost = cost(sb) * c.weight(a);
    if (a_cost != b_cost) return b_cost < a_cost ? b : a;
    return load_plus_one(sb) * c.weight(a) < load_plus_one(sa) * c.weight(b) ? b : a;
  }

 private:
  const AliasTable table_;
};

}  // namespace

std::unique_ptr<Policy> make_least_latency(std::span<const Member> members) {
  return std::make_unique<LeastLatency>(members);
}

}  // namespace fulcrum::core::policies
