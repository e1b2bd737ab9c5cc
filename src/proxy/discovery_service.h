#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "discovery/source.h"

namespace fulcrum::generation {
class Generation;
}  // namespace fulcrum::generation

namespace fulcrum::proxy {

/// The Source for a cluster's `discovery` section. Throws std::runtime_error for a type this
/// build cannot serve. Called on reload before anything changes, so such an error fails the
/// reload and keeps the running configuration.
std::unique_ptr<discovery::Source> make_source(const config::DiscoveryConfig& config);

/// The discovery thread: one io_context running the Source of every discovered cluster of one
/// configuration generation. Each reported membership has its names resolved, is refused when empty
/// (unless `allow_empty`: the last good one stays), and is published with Cluster::set_servers,
/// so servers that stay keep their health, passive state and counters; a server that leaves
/// takes no new requests while requests in flight finish on the snapshot they hold. A server
/// the source marks draining gets AdminState::kDraining (and kEnabled back when it no longer
/// is). A reload replaces the service with one on the new generation, whose discovered
/// clusters start with the old generation's membership (the Generation seeds them).
class DiscoveryService {
 public:
  /// Builds the sources (throws as make_source does); starts nothing.
  explicit DiscoveryService(generation::Generation& runtime);
  ~DiscoveryService() { stop(); }
  DiscoveryService(const DiscoveryService&) = delete;
  DiscoveryService& operator=(const DiscoveryService&) = delete;

  /// Starts the thread unless no cluster is discovered.
  void start();
  /// Blocks until every discovered cluster has heard from its source once (a refused empty set
  /// counts) or `timeout` passes. Returns the names of the clusters still waiting.
  std::vector<std::string> wait_first_memberships(std::chrono::milliseconds timeout);
  void stop();

 private:
  struct Watched {
    std::size_t cluster_index;
    std::unique_ptr<discovery::Source> source;
    bool reported = false;                    // guarded by mutex_
    std::set<std::string> drained_by_source;  // discovery thread only
  };
  void apply(Watched& watched, discovery::Membership members);

  generation::Generation& runtime_;
  // Before the sources: their timers and descriptors must go before the io_context does.
  asio::io_context io_{1};
  std::vector<std::unique_ptr<Watched>> watched_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::mutex mutex_;
  std::condition_variable reported_;
  std::thread thread_;
};

}  // namespace fulcrum::proxy
