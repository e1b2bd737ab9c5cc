#pragma once

// The proxy's health service: active checks and agent queries for every server, and the
// periodic cluster health sweep (outlier returns, panic), all on one thread with its own
// io_context, off the request path. Results are published only through each server's
// ServerState atomics and the cluster's health state, which workers read without a lock.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/rng.h"
#include "health/server_probe.h"

namespace fulcrum::generation {
class Generation;
}

namespace fulcrum::health {

/// One cluster to watch and how.
struct WatchedCluster {
  core::Cluster* cluster;
  ClusterHealthConfig config;
};

class HealthService {
 public:
  /// Applies every server's initial state (initial_state, a required agent's "silent") at once,
  /// so that the first request after start already sees it.
  explicit HealthService(std::vector<WatchedCluster> clusters,
                         const HealthService* previous = nullptr);
  /// Watches every cluster of the runtime with its configured checks and agent. After a reload,
  /// `previous` is the stopped service of the configuration before: servers that stay keep
  /// their check state (up or down) and agent state instead of starting over.
  explicit HealthService(generation::Generation& runtime, const HealthService* previous = nullptr);
  ~HealthService();
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  /// Starts the health thread. Idempotent.
  void start();
  /// Stops and joins the thread; checks in progress are abandoned. Idempotent.
  void stop();

  const HealthCounters& counters() const { return counters_; }

 private:
  struct Watch {
    WatchedCluster target;
    uint64_t seen_version = 0;
    std::map<std::string, std::shared_ptr<ServerProbe>> probes;  // by address
  };

  /// Brings `watch.probes` in line with the cluster's current snapshot: new servers get a
  /// probe (in their initial state), removed ones are stopped, addresses and weights refreshed.
  /// Returns the new probes with their positions, to be started.
  std::vector<std::pair<std::shared_ptr<ServerProbe>, std::size_t>> sync_members(Watch& watch);
  /// The previous service's probe of the same server (same live state), or nullptr.
  const ServerProbe* inherited(const Watch& watch, const ServerProbe& probe) const;
  void spawn(Watch& watch, const std::shared_ptr<ServerProbe>& probe, std::size_t index);
  asio::awaitable<void> maintain(Watch& watch);

  std::vector<std::unique_ptr<Watch>> watches_;
  core::SteadyClock clock_;
  core::FastRng rng_;
  const HealthService* previous_;  ///< During construction only.
  HealthCounters counters_;
  ProbeContext context_{clock_, rng_, counters_};
  // Declared last: destroyed first, with the coroutine frames (timers, sockets) it holds.
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  std::thread thread_;
  bool started_ = false;
};

}  // namespace fulcrum::health
