#include "core/eligibility.h"

namespace fulcrum::core {

std::string_view to_string(Eligibility e) {
  switch (e) {
    case Eligibility::kEligible:
      return "eligible";
    case Eligibility::kTrial:
      return "eligible (trial after offline period)";
    case Eligibility::kDisabled:
      return "disabled";
    case Eligibility::kDraining:
      return "draining";
    case Eligibility::kZeroWeight:
      return "weight 0";
    case Eligibility::kDownByChecks:
      return "down by health checks";
    case Eligibility::kAgentUnavailable:
      return "agent reports unavailable (-1)";
    case Eligibility::kOffline:
      return "offline (passive tracking)";
    case Eligibility::kTrialBusy:
      return "offline, trial in progress";
  }
  return "unknown";
}

}  // namespace fulcrum::core
