// Agent: Equalizer's server-agent policy. Each server runs an agent reporting its load as 0..100
// (-1 = do not send requests, which eligibility already handles). A pick draws a member with
// probability proportional to weight * (101 - load): an idle server counts 101 times its weight,
// a fully loaded one once, so it is never starved and keeps being probed by real traffic.
//
// A server whose agent has not answered (kAgentLoadUnknown: no agent, or not polled yet) counts
// as load 50, the middle of the scale, so it is balanced as an average server rather than
// flooded as if idle or shunned as if saturated.
//
// Loads change at any time, so nothing is precomputed: a pick totals the effective weights in
// one pass, draws below the total, and walks again to the member whose range holds the draw,
// stopping there (on average half a pass). That is O(N) per pick, ~2N eligibility checks worst
// case: fine for the tens of servers agents are deployed on (~0.8 us at 100 members), slow at
// thousands (~75 us at 10,000). Lock-free; a load changing between the passes only shifts which
// usable member is returned, never returns an unusable one.
#include <algorithm>

#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

uint64_t effective_weight(const Candidates& c, std::size_t i) {
  if (c.weight(i) == 0 || !c.usable(i)) return 0;
  return c.effective_weight(i);
}

class Agent final : public Policy {
 public:
  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    const std::size_t n = c.size();
    uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) total += effective_weight(c, i);
    if (total == 0) return kNoPick;
    const uint64_t draw = request.rng.below(total);
    uint64_t sum = 0;
    std::size_t last = kNoPick;
    for (std::size_t i = 0; i < n; ++i) {
      const uint64_t w = effective_weight(c, i);
      if (w == 0) continue;
      sum += w;
      last = i;
      if (draw < sum) return i;
    }
    return last;  // Weights fell between the passes; the last usable member seen is still fine.
  }
};

}  // namespace

std::unique_ptr<Policy> make_agent(std::span<const Member>) { return std::make_unique<Agent>(); }

}  // namespace fulcrum::core::policies
