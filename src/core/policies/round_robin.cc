// Round robin: each pick takes the next usable member in order. Weights and agent loads are
// ignored, as in Equalizer and the Monkey web server's reverse-proxy balancer; agents still take
// a server out (-1, drain, maint) through eligibility.
//
// One shared relaxed cursor counts picks. A pick whose turn falls on an unusable member does not
// hand that turn to the member after it (which would double that neighbour's share while the
// other is out): it scans forward to the next usable member and moves the cursor past it, so the
// turns of a member taken out are spread evenly over the members left. With members a b c d and
// d down, picks go a b c a b c, not a b c a a b c a. Concurrent picks each take their own turn;
// a lost race on the cursor only means two picks chose from the same position.
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
    const std::size_t turn = cursor_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t start = turn % n;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = start + k;
      if (i >= n) i -= n;
      if (!c.usable(i)) continue;
      if (k != 0) {
        // Skip the turns of the unusable members just passed, unless others moved the cursor.
        std::size_t expected = turn + 1;
        cursor_.compare_exchange_strong(expected, turn + 1 + k, std::memory_order_relaxed);
      }
      return i;
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
