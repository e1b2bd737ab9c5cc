// Placeholder replaced by the policy's implementation.
#include "core/policy.h"

namespace fulcrum::core::policies {
std::unique_ptr<Policy> make_round_robin(std::span<const Member>);
std::unique_ptr<Policy> make_power_of_two(std::span<const Member> members) {
  return make_round_robin(members);
}
}  // namespace fulcrum::core::policies
