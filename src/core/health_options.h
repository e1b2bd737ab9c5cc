#pragma once

#include <chrono>
#include <cstdint>

#include "core/clock.h"

namespace fulcrum::core {

/// HTTP-level passive tracking (Envoy's outlier detection): a run of bad answers ejects a server
/// for base_ejection_time × times ejected, capped by max_ejection_time. Off unless configured.
struct OutlierOptions {
  bool enabled = false;
  uint32_t consecutive_5xx = 5;             ///< 0: this trigger is off.
  uint32_t consecutive_gateway_errors = 5;  ///< 502, 503, 504 and response timeouts; 0: off.
  Nanos base_ejection_time{std::chrono::seconds(30)};
  Nanos max_ejection_time{std::chrono::seconds(300)};
  uint32_t max_ejection_percent = 10;  ///< Never more than this share of a cluster ejected.

  bool operator==(const OutlierOptions&) const = default;
};

/// Cluster-wide health behaviour that is not a single server's business.
struct HealthOptions {
  /// A server coming back ramps its effective weight from 10 % to 100 % over this; 0: off.
  Nanos slow_start{0};
  /// Below this percentage of healthy servers, balance over all of them (panic); 0: never.
  uint32_t panic_threshold = 50;
  OutlierOptions outlier;
  /// The cluster queries server agents, so their loads steer the weighted policies (policy.h).
  bool agent_loads = false;

  bool operator==(const HealthOptions&) const = default;
};

}  // namespace fulcrum::core
