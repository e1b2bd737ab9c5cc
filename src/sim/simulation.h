#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sim/cluster_config.h"
#include "sim/scenario.h"

namespace fulcrum::sim {

struct SimulationOptions {
  /// Keep every connection attempt in SimulationResult::attempts (for --trace and tests).
  bool record_attempts = false;
  /// Width of the traffic-per-window table; zero picks one giving about ten windows.
  core::Nanos window{0};
};

/// One connection attempt. Times are simulated time since the scenario started.
struct Attempt {
  core::Nanos at{0};
  uint64_t request = 0;
  std::size_t server = 0;  ///< Index into ClusterConfig::servers.
  bool failed = false;     ///< Refused: the scenario had failed the server.
  bool trial = false;      ///< The server was offline; this was its one trial after the timeout.
};

/// A period in which passive tracking kept a server out of rotation.
struct Outage {
  core::Nanos detected{0};              ///< When consecutive failures reached `passive.attempts`.
  std::optional<core::Nanos> returned;  ///< When a trial succeeded; empty if it never did.
  uint32_t failed_trials = 0;
};

struct ServerResult {
  std::string address;
  uint32_t weight = 0;  ///< As configured (events may change it; see the timeline).
  bool backup = false;
  uint64_t served = 0;           ///< Requests this server answered.
  uint64_t failed_attempts = 0;  ///< Connection attempts it refused.
  uint64_t absorbed = 0;         ///< Of those, how many the request survived by retrying.
  std::vector<Outage> outages;
  std::vector<uint64_t> served_per_window;
};

struct TimelineEntry {
  core::Nanos at{0};
  std::string text;
};

struct SimulationResult {
  std::vector<ServerResult> servers;  ///< In cluster order.
  uint64_t requests = 0;
  uint64_t succeeded = 0;
  uint64_t failed_no_server = 0;  ///< Every server ineligible or already tried.
  uint64_t failed_exhausted = 0;  ///< Retry budget spent while eligible servers remained.
  uint64_t retries = 0;           ///< Attempts beyond each request's first.
  core::Nanos last_arrival{0};
  core::Nanos window{0};
  std::vector<TimelineEntry> timeline;
  std::vector<Attempt> attempts;  ///< Only with SimulationOptions::record_attempts.

  uint64_t failed_outright() const { return failed_no_server + failed_exhausted; }
};

/// Runs `scenario` against the real balancing core (core::Cluster, TryList, LoadGuard, passive
/// tracking) under a ManualClock: simulated time, no sleeping, deterministic for a given seed.
SimulationResult simulate(const ClusterConfig& cluster, const Scenario& scenario,
                          const SimulationOptions& options = {});

}  // namespace fulcrum::sim
