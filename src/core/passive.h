#pragma once

#include <cstdint>
#include <initializer_list>

#include "core/clock.h"
#include "core/cluster_health.h"
#include "core/server.h"

namespace fulcrum::core {

/// Why an attempt at a server failed, as the proxy and the client library see it.
enum class FailureCause : uint8_t {
  // While connecting (TLS handshake included): the server never received the request.
  kNameLookup,
  kRefused,
  kTimeout,
  kUnreachable,
  kReset,
  // After the request was sent.
  kClosedBeforeResponse,  ///< Closed, cleanly or by reset, before any byte of the response head.
  kResponseTimeout,       ///< No response head within the response timeout.
};

/// The kinds of failure a cluster's `retry_on` and `passive.count` name.
enum class FailureKind : uint8_t {
  kConnectFailure,       ///< connect_failure: the server never received the request.
  kResetBeforeResponse,  ///< reset_before_response: FailureCause::kClosedBeforeResponse.
  kResponseTimeout,      ///< response_timeout: FailureCause::kResponseTimeout.
};

constexpr FailureKind kind_of(FailureCause cause) {
  switch (cause) {
    case FailureCause::kClosedBeforeResponse:
      return FailureKind::kResetBeforeResponse;
    case FailureCause::kResponseTimeout:
      return FailureKind::kResponseTimeout;
    default:
      return FailureKind::kConnectFailure;
  }
}

/// A set of FailureKinds.
class FailureKinds {
 public:
  constexpr FailureKinds() = default;
  constexpr FailureKinds(std::initializer_list<FailureKind> kinds) {
    for (FailureKind kind : kinds) add(kind);
  }
  constexpr void add(FailureKind kind) { bits_ |= bit(kind); }
  constexpr bool contains(FailureKind kind) const { return (bits_ & bit(kind)) != 0; }
  constexpr bool operator==(const FailureKinds&) const = default;

 private:
  static constexpr uint8_t bit(FailureKind kind) {
    return static_cast<uint8_t>(1u << static_cast<unsigned>(kind));
  }
  uint8_t bits_ = 0;
};

/// Passive failure tracking: `attempts` consecutive failures (AttemptsCount) make a server
/// offline; it is then skipped without any connection attempt until `offline_timeout`
/// (OfflineTimeOut) has passed since the last failure, after which one request at a time may try
/// it. A zero timeout turns tracking off entirely, the fast path. `count` says which kinds of
/// failure count: connect failures by default, so a server that accepts connections and then
/// hangs or closes them is left to active checks and outlier ejection.
struct PassiveOptions {
  uint32_t attempts = 3;
  Nanos offline_timeout{std::chrono::seconds(10)};
  FailureKinds count{FailureKind::kConnectFailure};

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

/// Records a failed attempt of `kind`. It counts towards `attempts` only when options.count
/// holds the kind; failures_total counts connect failures only (what its metric promises).
void record_failure(ServerState& state, const PassiveOptions& options, FailureKind kind, Nanos now);

/// Records a failed connection attempt (refused, timed out, unreachable, name lookup failed).
inline void record_connect_failure(ServerState& state, const PassiveOptions& options, Nanos now) {
  record_failure(state, options, FailureKind::kConnectFailure, now);
}

/// Records a success: resets the failure count and timestamp, ends any trial,
/// and folds `latency` into the server's estimate and `cluster`'s typical latency (latency.h;
/// `cluster` may be null).
void record_success(ServerState& state, Nanos latency, Nanos now,
                    ClusterHealthState* cluster = nullptr);

/// Time the offline server becomes eligible for a trial again.
inline Nanos offline_until(const ServerState& state, const PassiveOptions& options) {
  return Nanos{state.last_failure_ns.load(std::memory_order_relaxed)} + options.offline_timeout;
}

}  // namespace fulcrum::core
