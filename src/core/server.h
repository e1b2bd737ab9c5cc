#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/server_stats.h"

namespace fulcrum::core {

/// What the configuration says about a server. Immutable once inside a snapshot; a reweight
/// publishes a new snapshot with a new ServerSpec and the same ServerState.
/// A resolved IPv4 or IPv6 socket address as plain bytes: the core does no I/O, but a snapshot
/// carries where each server is, so re-resolution publishes like any other membership change.
struct NetAddress {
  uint8_t family = 0;  ///< 0: not resolved; 4 or 6.
  uint16_t port = 0;
  std::array<uint8_t, 16> bytes{};  ///< Network order; IPv4 uses the first 4.

  bool resolved() const { return family != 0; }
  bool operator==(const NetAddress&) const = default;
};

struct ServerSpec {
  std::string address;  ///< "host:port" as configured; also the server's identity in a cluster.
  uint32_t weight = 1;  ///< 0 takes no new requests (as HAProxy's weight 0).
  bool backup = false;  ///< Serves only while no primary server is eligible.
  NetAddress resolved;  ///< Where `address` pointed at the last resolution.
  /// Where this server's agent listens when not at the server's own host (HAProxy's agent-addr /
  /// agent-port). Empty / 0: the server's host and the cluster's agent port.
  std::string agent_address;
  uint16_t agent_port = 0;

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

/// What a server's agent last said about health: kUp / kDown from HAProxy's words (up; down, fail,
/// stopped). kSilent: no answer while the cluster sets require_response; unlike kDown it is
/// inferred by Fulcrum, so panic mode may override it.
enum class AgentHealth : uint8_t { kUnknown, kUp, kDown, kSilent };

/// What a server's agent last said about administrative state (HAProxy words ready/drain/maint).
enum class AgentAdmin : uint8_t { kReady, kDrain, kMaint };

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

  // The first cache line holds everything a pick reads: eligibility's common case, the load and
  // the latency estimate, so a pick misses at most one line per server it looks at. What is
  // written on responses or read off the request path follows.

  // Load. Changed by whoever opens or finishes work on the server.
  std::atomic<int32_t> active_connections{0};
  std::atomic<int32_t> in_flight{0};
  /// Passive tracking: consecutive counted failures (last_failure_ns says when the last
  /// one happened).
  std::atomic<uint32_t> consecutive_failures{0};
  std::atomic<uint32_t> agent_maxconn{0};    ///< Server agent: 0, or the connections it allows.
  std::atomic<int64_t> ejected_until_ns{0};  ///< Outlier ejection: 0, or when it ends.
  /// Latency estimate (Peak-EWMA, latency.h) in nanoseconds as of its last sample; 0 until the
  /// first sample.
  std::atomic<int64_t> latency_ewma_ns{0};
  std::atomic<int64_t> latency_sampled_ns{0};  ///< When latency_ewma_ns last took a sample.
  /// Set while the single trial request allowed after offline_timeout is under way.
  std::atomic<bool> trial_in_progress{false};

  // Signals from outside the request path.
  std::atomic<AdminState> admin_state{AdminState::kEnabled};
  std::atomic<CheckHealth> check_health{CheckHealth::kUp};

  // Server agent (Equalizer's server agent or HAProxy's agent-check), written by the health
  // service.
  std::atomic<int8_t> agent_load{kAgentLoadUnknown};  ///< Equalizer answer -1..100, or unknown.
  std::atomic<AgentHealth> agent_health{AgentHealth::kUnknown};
  std::atomic<AgentAdmin> agent_admin{AgentAdmin::kReady};
  /// Effective weight the agent asked for, in percent of the configured weight ("75%",
  /// "weight:N" converted). Above 100 is stored as said; balancing caps it at 100.
  std::atomic<uint16_t> agent_weight_percent{100};

  // Shared health (health_sharing): written by the sharing service from the views other fulcrum
  // instances publish. Whether the count of live instances that report the server down, this
  // one's own view included (peer_down_reports), reached the quorum.
  std::atomic<bool> down_by_peers{false};

  std::atomic<int64_t> last_failure_ns{0};  ///< Passive tracking: the last counted failure.

  // Outlier ejection (HTTP-level passive tracking), written on the request path.
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_errors{0};
  std::atomic<uint32_t> times_ejected{0};
  std::atomic<uint16_t> peer_down_reports{0};

  /// Slow start: when the server last came back into service (checks up, agent back, ejection
  /// over, admin enable). 0: not warming up.
  std::atomic<int64_t> warming_since_ns{0};

  // Totals, for the simulator, metrics and tests.
  std::atomic<uint64_t> picks_total{0};
  std::atomic<uint64_t> failures_total{0};
  /// Responses by class, retries and latency histogram, for metrics (server_stats.h).
  ServerStats stats;

 private:
  const std::string address_;
};

/// What a load of kAgentLoadUnknown counts as: the middle of the agents' 0..100 scale, so a server
/// whose agent has not reported is balanced as an average one, neither flooded nor shunned.
inline constexpr int kUnknownLoadCountsAs = 50;
/// Agent loads scale weights by (kLoadScale - load) / kLoadScale: an idle server (load 0) keeps
/// its full weight, a saturated one (100) keeps 1/101 of it and is never starved of probes.
inline constexpr uint32_t kLoadScale = 101;

/// kLoadScale - load for the load the server's agent last reported (1..101), the unknown load
/// counted as kUnknownLoadCountsAs.
inline uint32_t load_factor(const ServerState& state) {
  int load = state.agent_load.load(std::memory_order_relaxed);
  load = load == kAgentLoadUnknown ? kUnknownLoadCountsAs : std::clamp(load, 0, 100);
  return kLoadScale - static_cast<uint32_t>(load);
}

}  // namespace fulcrum::core
