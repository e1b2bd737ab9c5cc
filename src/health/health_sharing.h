#pragma once

// Shared health (`health_sharing`, docs/discovery.md): several fulcrum instances in front of the
// same servers tell each other, through etcd, which servers they see down. Each instance
// publishes its own view of every server under a lease of its own (shared_views.h has the
// layout) and watches everyone's; a server is down here when at least `quorum` live instances,
// this one included, see it down. So a failure one instance sees protects them all with
// quorum 1, while with quorum 2 one instance's local network trouble ejects nothing elsewhere.
//
// Runs on a thread of its own with its own io_context; it publishes its verdicts only through
// each server's ServerState atomics (peer_down_reports, down_by_peers), which the workers read
// without a lock. While etcd is unreachable for longer than the lease TTL, the other instances'
// reports are dropped (they may be stale) and each instance falls back to its own view.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/cluster.h"
#include "discovery/etcd_client.h"
#include "health/shared_views.h"

namespace fulcrum::generation {
class Generation;
}

namespace fulcrum::health {

class HealthSharing {
 public:
  /// How often this instance's views are compared with what it published, and verdicts applied.
  static constexpr std::chrono::milliseconds kTick{200};

  struct Target {
    std::string name;
    std::shared_ptr<core::Cluster> cluster;
    core::PassiveOptions passive;
  };

  /// `previous`: the stopped service of the configuration before a reload. Its lease, what it
  /// published and the reports it had seen carry over, so a reload changes nothing in etcd.
  HealthSharing(config::HealthSharingConfig config, std::vector<Target> targets,
                HealthSharing* previous = nullptr);
  HealthSharing(generation::Generation& runtime, HealthSharing* previous = nullptr);
  ~HealthSharing();
  HealthSharing(const HealthSharing&) = delete;
  HealthSharing& operator=(const HealthSharing&) = delete;

  void start();
  /// Stops and joins the thread. `leave`: first revoke the lease (bounded by a second), so the
  /// other instances drop this one's reports at once rather than at the lease's expiry.
  void stop(bool leave = false);

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> keep_lease();
  asio::awaitable<void> watch_reports();
  asio::awaitable<void> publish();
  /// Writes the views that changed since they were last published, deletes those of servers
  /// that left.
  asio::awaitable<void> write_changes(int64_t lease);
  asio::awaitable<void> revoke();
  /// Sets every server's peer_down_reports and down_by_peers from the peers' reports and this
  /// instance's own view.
  void apply_verdicts(int64_t now_ns);
  asio::awaitable<void> sleep(std::chrono::milliseconds delay);
  void report(const std::string& problem);

  config::HealthSharingConfig config_;
  std::vector<Target> targets_;
  std::unique_ptr<asio::io_context> io_ = std::make_unique<asio::io_context>(1);
  discovery::EtcdClient etcd_;
  int64_t lease_ = 0;
  /// What this instance last wrote, by key ({cluster}/{server} of its own reports).
  std::unordered_map<std::string, LocalView> published_;
  /// This instance's views at the last tick, by key.
  std::unordered_map<std::string, LocalView> views_;
  PeerReports peers_;
  bool watching_ = false;
  std::chrono::steady_clock::time_point watch_lost_at_{};
  std::string last_problem_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace fulcrum::health
