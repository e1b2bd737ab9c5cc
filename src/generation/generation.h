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
#include "generation/access_log.h"

namespace fulcrum::tls {
class ServerTlsContext;
class ClientTlsContext;
}  // namespace fulcrum::tls

namespace fulcrum::generation {

/// A worker's cache of a cluster's snapshot, on a cache line of its own.
struct alignas(64) WorkerReader {
  explicit WorkerReader(const core::Cluster& cluster) : reader(cluster) {}
  core::SnapshotReader reader;
};

/// A configured cluster at run time: the balancing core's cluster plus proxy settings.
struct ClusterRuntime {
  config::ClusterConfig config;
  std::shared_ptr<core::Cluster> cluster;
  /// Indexed by worker: each worker picks through its own reader, with no lock.
  std::vector<WorkerReader> readers;
  std::shared_ptr<tls::ClientTlsContext> tls;  ///< TLS to the servers; null: plain TCP.

  core::SnapshotReader& reader(unsigned worker) { return readers[worker].reader; }
};

struct RouteRuntime {
  std::string host;
  std::string path_prefix;
  std::size_t cluster_index;
};

/// A listener's counters, carried from one configuration to the next while the listener stays.
struct ListenerCounters {
  std::atomic<uint32_t> connections{0};
  std::atomic<uint64_t> accepted_total{0};
  std::atomic<uint64_t> rejected_total{0};
};

struct ListenerRuntime {
  explicit ListenerRuntime(std::shared_ptr<ListenerCounters> shared)
      : counters(std::move(shared)),
        connections(counters->connections),
        accepted_total(counters->accepted_total),
        rejected_total(counters->rejected_total) {}

  config::ListenerConfig config;
  std::vector<RouteRuntime> routes;   ///< http mode
  std::size_t tcp_cluster_index = 0;  ///< tcp mode
  std::shared_ptr<ListenerCounters> counters;
  std::atomic<uint32_t>& connections;
  std::atomic<uint64_t>& accepted_total;
  std::atomic<uint64_t>& rejected_total;
  std::shared_ptr<tls::ServerTlsContext> tls;  ///< TLS terminated here; null: plain TCP.
};

/// Everything the workers share for one generation of the configuration. Immutable once built
/// except for the clusters' own published snapshots and the atomics; a reload builds the next
/// generation from the new configuration and the previous generation, whose live state (server
/// health, passive tracking, ejections, counters) it takes over. Sessions hold the generation
/// they started with (shared_ptr) until their request is done. Server names are resolved here
/// into each ServerSpec (and later by the AddressRefresher), so the request path never blocks
/// on name lookup. Process-wide parts (access log, drain signalling) are shared by every
/// generation.
class Generation {
 public:
  /// Resolves every server address; throws std::runtime_error naming an address that does not
  /// resolve. `previous`, when given, is the generation this one replaces.
  explicit Generation(config::Config config, const Generation* previous = nullptr);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  const config::Config& config() const { return config_; }
  /// Worker threads, fixed for the process's life: a reload cannot change it.
  unsigned worker_count() const { return worker_count_; }
  /// 1 for the configuration the process started with, +1 per reload.
  uint64_t serial() const { return serial_; }
  std::vector<ClusterRuntime>& clusters() { return clusters_; }
  const std::vector<ClusterRuntime>& clusters() const { return clusters_; }
  std::vector<std::unique_ptr<ListenerRuntime>>& listeners() { return listeners_; }
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners() const { return listeners_; }

  /// Index of the cluster serving (host, path) on `listener`, or SIZE_MAX when no route matches.
  static std::size_t route(const ListenerRuntime& listener, std::string_view host,
                           std::string_view path);
  /// Position in `listener.routes` of the route that serves (host, path), or SIZE_MAX.
  static std::size_t route_position(const ListenerRuntime& listener, std::string_view host,
                                    std::string_view path);

  /// The cluster named `name`, or nullptr.
  const ClusterRuntime* find_cluster(std::string_view name) const;
  /// Index of the listener named `name`, or SIZE_MAX.
  std::size_t listener_index(std::string_view name) const;

  AccessLog& access_log() { return process_->access_log; }
  std::atomic<bool>& draining() { return process_->draining; }

  /// Thread-safe: a worker's last session closed; wakes wait_drained().
  void notify_session_closed() {
    std::lock_guard lock(process_->drain_mutex);
    process_->drain_changed.notify_all();
  }
  /// Waits until `done()` holds or `deadline` passes; `done` is re-checked on every close.
  template <typename Done>
  bool wait_drained(std::chrono::steady_clock::time_point deadline, Done done) {
    std::unique_lock lock(process_->drain_mutex);
    return process_->drain_changed.wait_until(lock, deadline, done);
  }

 private:
  /// What outlives a reload: built with the first generation, shared by the later ones.
  struct Process {
    explicit Process(const config::AccessLogConfig& config) : access_log(config) {}
    AccessLog access_log;
    std::atomic<bool> draining{false};
    std::mutex drain_mutex;
    std::condition_variable drain_changed;
  };

  config::Config config_;
  unsigned worker_count_;
  uint64_t serial_;
  std::shared_ptr<Process> process_;
  std::vector<ClusterRuntime> clusters_;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners_;
};

}  // namespace fulcrum::generation
