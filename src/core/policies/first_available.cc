// First available: ordered failover, as the 2003 mod_proxy failover patch: every request goes to
// the first usable member in configuration order (the order within a tier), and only when it
// cannot take requests to the next. Stateless and lock-free; O(N) in the worst case, O(1) while
// the first member is healthy. Weights are ignored beyond weight 0 taking no requests.
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

class FirstAvailable final : public Policy {
 public:
  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (c.weight(i) != 0 && c.usable(i)) return i;
    }
    return kNoPick;
  }
};

}  // namespace

std::unique_ptr<Policy> make_first_available(std::span<const Member>) {
  return std::make_unique<FirstAvailable>();
}

}  // namespace fulcrum::core::policies
