// Least latency: Finagle's and Linkerd's "peak EWMA" balancer. Power of two choices (as
// power_of_two.cc: weighted draws, cross-multiplied comparison) where a member's cost is the time
// a new request would take there: its latency estimate times (1 + in_flight / weight). The
// request itself takes one estimate whatever the weight; the queue ahead of it drains `weight`
// times faster (weight: the effective weight, with a server at the agents' neutral load 50
// counting its configured weight). A fast server is preferred until its queue makes it as slow as
// a slower idle one.
//
// Estimates are Peak-EWMAs that decay towards the cluster's typical latency while they get no
// samples (latency.h), so a server that had one slow reading is tried again soon instead of being
// starved, and one that really is slower keeps getting clearly less.
//
// Costs within 25% of each other count as equal. Latencies of equally fast servers are never
// equal: scheduling, a busy core or a pause make one server faster than another for seconds at a
// time, and a Peak-EWMA holds each such peak for a while. Without the margin, noise of a few
// percent would decide every comparison, and of three equal servers the one a little faster
// would take every pair it is in (measured through the proxy, one request at a time: shares from
// 0.14 to 0.57). A server 25% slower than another is a real difference and loses.
// Ties go to power_of_two's in_flight / weight comparison, then to the first draw, itself
// weighted, so idle servers of similar latency follow the weights. (Dividing the whole cost by
// the weight would hand every idle comparison to the heavier server.)
// A server with no latency sample yet (estimate 0) costs 0, so servers new to the tier get tried
// and earn a sample.
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

/// Estimates are capped at 2^40 ns (18 minutes) so that a cost fits the comparison's 128 bits.
constexpr int64_t kMaxEstimate = int64_t{1} << 40;

/// Costs within 1/kTieMargin of each other count as equal (see the header).
constexpr int kTieMargin = 4;

bool clearly_less(u128 x, u128 y) { return x + x / kTieMargin < y; }

/// The agents' neutral load factor: a server at load 50 counts its configured weight.
constexpr uint32_t kNeutralFactor = kLoadScale - kUnknownLoadCountsAs;

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
    const auto estimate_a =
        static_cast<u128>(std::min(latency_estimate(sa, c.now(), typical), kMaxEstimate));
    const auto estimate_b =
        static_cast<u128>(std::min(latency_estimate(sb, c.now(), typical), kMaxEstimate));
    const u128 weight_a = c.effective_weight(a);
    const u128 weight_b = c.effective_weight(b);
    // estimate x (1 + in_flight / w), w = weight_x / kNeutralFactor, cross-multiplied by the
    // other's weight: 40 + 40 + 39 bits.
    const u128 a_cost = estimate_a * (weight_a + kNeutralFactor * in_flight(sa)) * weight_b;
    const u128 b_cost = estimate_b * (weight_b + kNeutralFactor * in_flight(sb)) * weight_a;
    if (clearly_less(b_cost, a_cost)) return b;
    if (clearly_less(a_cost, b_cost)) return a;
    return in_flight(sb) * weight_a < in_flight(sa) * weight_b ? b : a;
  }

 private:
  const AliasTable table_;
};

}  // namespace

std::unique_ptr<Policy> make_least_latency(std::span<const Member> members) {
  return std::make_unique<LeastLatency>(members);
}

}  // namespace fulcrum::core::policies
