#pragma once

#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/cluster.h"
#include "proxy/access_log.h"

namespace fulcrum::tls {
class ServerTlsContext;
class ClientTlsContext;
}  // namespace fulcrum::tls

namespace fulcrum::proxy {

/// A configured cluster at run time: the balancing core's cluster plus proxy settings.
struct ClusterRuntime {
  config::ClusterConfig config;
  std::unique_ptr<core::Cluster> cluster;
  std::shared_ptr<tls::ClientTlsContext> tls;  ///< TLS to the servers; null: plain TCP.
};

struct RouteRuntime {
  std::string host;
  std::string path_prefix;
  std::size_t cluster_index;
};

struct ListenerRuntime {
  config::ListenerConfig config;
  std::vector<RouteRuntime> routes;   ///< http mode
  std::size_t tcp_cluster_index = 0;  ///< tcp mode
  std::atomic<uint32_t> connections{0};
  std::atomic<uint64_t> accepted_total{0};
  std::atomic<uint64_t> rejected_total{0};
  std::shared_ptr<tls::ServerTlsContext> tls;  ///< TLS terminated here; null: plain TCP.
};

/// Everything the workers share. Built once at start, immutable afterwards except for the
/// clusters' own published snapshots and the atomics. Server names are resolved here, at start,
/// into each ServerSpec (and later by the AddressRefresher), so the request path never blocks on
/// name lookup.
class Runtime {
 public:
  /// Resolves every server address; throws std::runtime_error naming an address that does not
  /// resolve.
  explicit Runtime(config::Config config);

  const config::Config& config() const { return config_; }
  std::vector<ClusterRuntime>& clusters() { return clusters_; }
  const std::vector<ClusterRuntime>& clusters() const { return clusters_; }
  std::vector<std::unique_ptr<ListenerRuntime>>& listeners() { return listeners_; }

  /// Index of the cluster serving (host, path) on `listener`, or SIZE_MAX when no route matches.
  static std::size_t route(const ListenerRuntime& listener, std::string_view host,
                           std::string_view path);

  /// Loads every TLS listener's certificate files again (renewed certificates), for SIGHUP:
  /// new handshakes use them, open connections keep theirs. A listener whose files fail keeps
  /// its current certificates; the failure is logged. Returns false if any failed. Thread-safe.
  /// Defined in runtime_tls.cc.
  bool reload_tls();

  AccessLog& access_log() { return access_log_; }
  std::atomic<bool>& draining() { return draining_; }

  /// Thread-safe: a worker's last session closed; wakes wait_drained().
  void notify_session_closed() {
    std::lock_guard lock(drain_mutex_);
    drain_changed_.notify_all();
  }
  /// Waits until `done()` holds or `deadline` passes; `done` is re-checked on every close.
  template <typename Done>
  bool wait_drained(std::chrono::steady_clock::time_point deadline, Done done) {
    std::unique_lock lock(drain_mutex_);
    return drain_changed_.wait_until(lock, deadline, done);
  }

 private:
  config::Config config_;
  std::vector<ClusterRuntime> clusters_;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners_;
  AccessLog access_log_;
  std::atomic<bool> draining_{false};
  std::mutex drain_mutex_;
  std::condition_variable drain_changed_;
};

}  // namespace fulcrum::proxy
