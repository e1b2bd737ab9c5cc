#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/clock.h"

namespace fulcrum::core {

/// What the configuration says about a server. Immutable once inside a snapshot; a reweight
/// publishes a new snapshot with a new ServerSpec and the same ServerState.
struct ServerSpec {
  std::string address;  ///< "host:port" as configured; also the server's identity in a cluster.
  uint32_t weight = 1;  ///< 0 takes no new requests (as HAProxy's weight 0).
  bool backup = false;  ///< Serves only while no primary server is eligible.

  bool operator==(const ServerSpec&) const = default;
};

/// Operator intent. Kept apart from operational health: an operator may disable a healthy server,
/// and a server may fail while the operator still wants it enabled.
enum class AdminState : uint8_t {
  kEnabled,
  kDraining,  ///< No new requests; those in flight finish.
  kDisabled,
};

/// Result of active health checks.
enum class CheckHealth : uint8_t { kUp, kDown };

/// Agent load: -1..100 as the Equalizer protocol reports it, or unknown.
inline constexpr int8_t kAgentLoadUnknown = -2;
inline constexpr int8_t kAgentUnavailable = -1;

/// The live state of one server, shared by every thread and every snapshot that contains the
/// server. All fields are relaxed atomics: each is an independent fact, and readers tolerate
/// seeing one slightly before another. Cache-line aligned so that two busy servers' counters do
/// not share a line.
class alignas(64) ServerState {
 public:
  explicit ServerState(std::string address) : address_(std::move(address)) {}
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  const std::string& address() const { return address_; }

  // Load. Changed by whoever opens or finishes work on the server.
  std::atomic<int32_t> active_connections{0};
  std::atomic<int32_t> in_flight{0};
  /// Latency EWMA in nanoseconds; 0 until the first sample.
  std::atomic<int64_t> latency_ewma_ns{0};

  // Passive tracking (seed 000): consecutive connect failures and when the last one happened.
  std::atomic<uint32_t> consecutive_failures{0};
  std::atomic<int64_t> last_failure_ns{0};
  /// Set while the single trial request allowed after offline_timeout is under way.
  std::atomic<bool> trial_in_progress{false};

  // Signals from outside the request path.
  std::atomic<int8_t> agent_load{kAgentLoadUnknown};
  std::atomic<AdminState> admin_state{AdminState::kEnabled};
  std::atomic<CheckHealth> check_health{CheckHealth::kUp};

  // Totals, for the simulator, metrics and tests.
  std::atomic<uint64_t> picks_total{0};
  std::atomic<uint64_t> failures_total{0};

 private:
  const std::string address_;
};

}  // namespace fulcrum::core
