#pragma once

#include <cstdint>

#include "core/clock.h"
#include "core/cluster_health.h"
#include "core/server.h"

namespace fulcrum::core {

/// Seed 000's failure tracking: `attempts` consecutive connect failures (AttemptsCount) make a
/// server offline; it is then skipped without any connection attempt until `offline_timeout`
/// (OfflineTimeOut) has passed since the last failure, after which one request at a time may try
/// it. A zero timeout turns tracking off entirely, the fast path.
struct PassiveOptions {
  uint32_t attempts = 3;
  Nanos offline_timeout{std::chrono::seconds(10)};

  bool enabled() const { return offline_timeout.count() > 0; }
};

/// Where a server stands in the passive life cycle at time `now`.
enum class PassiveStatus : uint8_t {
  kOnline,          ///< Fewer than `attempts` consecutive failures.
  kOffline,         ///< Skipped: the timeout has not passed since the last failure.
  kTrialAvailable,  ///< Timeout passed; the next request may try it.
  kTrialBusy,       ///< Timeout passed, but another request is already trying it.
};

PassiveStatus passive_status(const ServerState& state, const PassiveOptions& options, Nanos now);

/// Records a failed connection attempt (refused, timed out, unreachable, name lookup failed).
void record_connect_failure(ServerState& state, const PassiveOptions& options, Nanos now);

/// Records a success: resets the failure count and timestamp (seed 000 step 2), ends any trial,
/// and folds `latency` into the server's estimate and `cluster`'s typical latency (latency.h;
/// `cluster` may be null).
void record_success(ServerState& state, Nanos latency, Nanos now,
                    ClusterHealthState* cluster = nullptr);

/// Time the offline server becomes eligible for a trial again.
inline Nanos offline_until(const ServerState& state, const PassiveOptions& options) {
  return Nanos{state.last_failure_ns.load(std::memory_order_relaxed)} + options.offline_timeout;
}

}  // namespace fulcrum::core
