#pragma once

// One server as the health thread watches it: its active-check schedule and rise/fall state,
// its agent, and the loops that probe it. Everything here runs on the health thread only; the
// results leave it solely through the server's ServerState atomics.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/health_options.h"
#include "core/rng.h"
#include "core/server.h"
#include "health/check_schedule.h"
#include "health/probes.h"

namespace fulcrum::health {

/// What one cluster's servers are checked with.
struct ClusterHealthConfig {
  std::string name;
  config::HealthCheckConfig check;
  config::AgentConfig agent;
  core::HealthOptions options;  ///< slow_start for servers coming back.
  /// The cluster's TLS to its servers, which http checks use too; null: plain TCP.
  std::shared_ptr<const tls::ClientTlsContext> tls;
};

/// Totals over every server, readable from any thread (tests, later metrics).
struct HealthCounters {
  std::atomic<uint64_t> checks{0};
  std::atomic<uint64_t> check_failures{0};
  std::atomic<uint64_t> check_transitions{0};
  std::atomic<uint64_t> agent_queries{0};
  std::atomic<uint64_t> agent_silent{0};  ///< Unreachable, or no answer in time.
  std::atomic<uint64_t> agent_unparseable{0};
};

/// State shared by every probe of the health thread.
struct ProbeContext {
  const core::Clock& clock;
  core::Rng& rng;
  HealthCounters& counters;
};

struct ServerProbe {
  ServerProbe(const ClusterHealthConfig& cluster, core::ServerSpec spec,
              std::shared_ptr<core::ServerState> state);

  const ClusterHealthConfig& cluster;
  core::ServerSpec spec;  ///< Refreshed when the cluster publishes a change (address, weight).
  std::shared_ptr<core::ServerState> state;
  bool removed = false;  ///< No longer a member: the loops end at their next wake-up.

  // Active checks.
  RiseFall rise_fall;
  HttpCheck http;
  std::string last_failure;

  // Agent.
  uint16_t agent_port = 0;                                    ///< 0: no agent.
  std::optional<asio::ip::tcp::endpoint> agent_override;      ///< agent_address, once resolved.
  std::chrono::steady_clock::time_point agent_retry_resolve;  ///< After a failed lookup.
  std::string agent_resolve_error;
  std::string agent_trouble;    ///< Why the agent did not answer last time; empty when it did.
  std::string last_bad_answer;  ///< Last unparseable answer logged, so each is logged once.
  std::string last_warning;
  uint64_t unparseable_answers = 0;

  bool checks_enabled() const { return cluster.check.enabled(); }
  bool agent_enabled() const { return agent_port != 0; }

  /// The state a server starts in before any probe: `initial_state`, and "silent" when the
  /// agent's response is required.
  void apply_initial_state();
};

/// Checks `probe` until it is removed (or the io_context stops). The first check waits
/// `first_delay`, so that servers are spread over the interval.
asio::awaitable<void> run_checks(std::shared_ptr<ServerProbe> probe, ProbeContext& context,
                                 core::Nanos first_delay);

/// Queries `probe`'s agent every agent interval until it is removed.
asio::awaitable<void> run_agent(std::shared_ptr<ServerProbe> probe, ProbeContext& context,
                                core::Nanos first_delay);

/// Applies one check result: counts, rise/fall, publishes and logs a transition.
void record_check(ServerProbe& probe, const CheckResult& result, ProbeContext& context);

/// Applies one agent reply: parses, publishes, logs changes and unparseable answers once.
void record_agent_reply(ServerProbe& probe, const AgentReply& reply, ProbeContext& context);

}  // namespace fulcrum::health
