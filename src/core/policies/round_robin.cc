// Round robin: each pick takes the next member in order, skipping unusable ones. Weights and
// agent loads are ignored, as in Equalizer and the Monkey proxy's balancer (seed 000). One shared
// relaxed cursor: a single fetch_add per pick is cheaper than per-thread state kept in sync
// with snapshots.
#include <atomic>

#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

class RoundRobin final : public Policy {
 public:
  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    const std::size_t n = c.size();
    if (n == 0) return kNoPick;
    const std::size_t start = cursor_.fetch_add(1, std::memory_order_relaxed) % n;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = start + k;
      if (i >= n) i -= n;
      if (c.usable(i)) return i;
    }
    return kNoPick;
  }

 private:
  std::atomic<std::size_t> cursor_{0};
};

}  // namespace

std::unique_ptr<Policy> make_round_robin(std::span<const Member>) {
  return std::make_unique<RoundRobin>();
}

}  // namespace fulcrum::core::policies
