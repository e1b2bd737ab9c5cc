#pragma once

// Outlier ejection (Envoy's outlier detection, consecutive_5xx and consecutive_gateway_failure):
// HTTP-level failure tracking on top of passive tracking's connect failures. A run of 5xx
// answers, or of gateway errors (502, 503, 504, and response timeouts, which the proxy reports as
// 504), ejects the server for base_ejection_time x times it was ejected, capped by
// max_ejection_time.
//
// Never ejected: a server already ejected; one more when the cluster already has
// max_ejection_percent or more of its servers ejected (Envoy's rule: allowed while the current
// share is below the cap, so any cap above 0 lets a small cluster eject one server); the last
// eligible server of the cluster. The cap is enforced on ClusterHealthState::ejected with a CAS,
// so concurrent reports never exceed it; "last eligible" is checked before and again after the
// ejection is published, through one shared read-modify-write, so two servers ejected at once
// cannot both be the last.
//
// The ejection slot is released exactly once: by the sweep when the time is over, or by the
// cluster when the server leaves it (retire()).
#include <cstdint>
#include <string_view>

#include "core/cluster.h"

namespace fulcrum::core {

/// ejected_until_ns of a server that left its cluster: never ejected again, holds no slot.
inline constexpr int64_t kEjectionRetired = -1;

enum class EjectionTrigger : uint8_t {
  kNone,
  kConsecutive5xx,
  kConsecutiveGatewayErrors,
};

enum class EjectionOutcome : uint8_t {
  kNotTriggered,  ///< No threshold reached (or outlier detection off): nothing to log.
  kEjected,
  kAlreadyEjected,  ///< Threshold reached while ejected (answers of requests already in flight).
  kCapReached,      ///< max_ejection_percent of the cluster is already ejected.
  kLastEligible,    ///< No other server of the cluster is eligible.
};

/// What a response did to outlier ejection; the caller logs it when outcome is not
/// kNotTriggered.
struct EjectionResult {
  EjectionOutcome outcome = EjectionOutcome::kNotTriggered;
  EjectionTrigger trigger = EjectionTrigger::kNone;
  uint32_t consecutive = 0;    ///< The run length that reached the threshold.
  uint32_t times_ejected = 0;  ///< When ejected: including this ejection.
  Nanos duration{0};           ///< When ejected: for how long.

  bool ejected() const { return outcome == EjectionOutcome::kEjected; }
};

std::string_view to_string(EjectionTrigger trigger);
std::string_view to_string(EjectionOutcome outcome);

/// Records the answer of `state`, a member of `cluster`: `status` is the upstream's status code,
/// or 504 for a response timeout. 5xx extends the 5xx run, 502/503/504 the gateway-error run as
/// well (another 5xx ends the gateway-error run); any other status ends both. A run reaching its
/// threshold (exactly, so concurrent reports make one attempt) tries to eject (see above); both
/// runs then restart, so a refused ejection is tried again after a fresh run. Lock-free;
/// O(1) except when a threshold is reached, where finding another eligible server scans the
/// cluster until the first one.
EjectionResult on_response(ServerState& state, int status, const ClusterSnapshot& cluster,
                           Nanos now);

/// The server left its cluster: frees its ejection slot, if any, and keeps it from being
/// ejected again by requests still using an older snapshot.
void retire(ServerState& state, ClusterHealthState& health);

/// Sweep side: if the ejection of `state` is over, ends it and frees its slot. True when it did.
bool end_ejection_if_over(ServerState& state, ClusterHealthState& health, Nanos now);

}  // namespace fulcrum::core
