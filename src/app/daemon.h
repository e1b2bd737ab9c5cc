#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "config/config.h"
#include "generation/generation.h"
#include "health/health_service.h"
#include "health/health_sharing.h"
#include "proxy/address_refresher.h"
#include "proxy/discovery_service.h"
#include "proxy/worker.h"

namespace fulcrum::app {

/// The proxy process: a runtime shared by `workers` event-loop threads, hot reload (a new
/// runtime generation taking over the old one's live state and listening sockets), and the
/// graceful shutdown sequence (stop accepting, let requests in flight finish, close idle
/// keep-alive connections, exit within the drain timeout).
class Daemon {
 public:
  /// Throws on unresolvable servers.
  explicit Daemon(config::Config config);
  ~Daemon();

  /// Binds every listener on every worker and starts the threads. Throws std::system_error
  /// (e.g. address in use) before any thread starts.
  void start();
  /// The bound port of each listener, in configuration order (useful with port 0).
  const std::vector<uint16_t>& ports() const { return ports_; }

  /// Blocks until SIGINT or SIGTERM, then drains; SIGHUP reloads meanwhile. Returns the process
  /// exit status.
  int run_until_signal();
  /// Reads the configuration file again and applies it (SIGHUP, POST /api/v1/reload). On any
  /// error (invalid file, a name that does not resolve, a new listener that cannot bind) the
  /// running configuration stays; returns the error, "" on success. Thread-safe.
  std::string reload();
  /// Applies `next` as a reload would. Thread-safe.
  std::string reload(config::Config next);
  /// Drains and stops; returns once every worker thread has exited.
  void shutdown();

  /// The current generation. Not synchronised with reload(): for tests and the owning thread.
  generation::Generation& runtime() { return *runtime_; }
  /// The admin listener's bound port; 0 when no `admin` section is configured.
  uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }

 private:
  /// The reload itself; runs on the admin thread when there is one (serialised with the API's
  /// changes), else on the caller's.
  std::string apply(config::Config next);

  const std::string config_path_;  ///< What a reload reads.
  std::mutex reload_mutex_;        // One reload at a time; guards runtime_ against reload().
  std::shared_ptr<generation::Generation> runtime_;
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::unique_ptr<proxy::AddressRefresher> address_refresher_;
  // Runs the discovered clusters' sources; replaced (on the new generation) by a reload.
  std::unique_ptr<proxy::DiscoveryService> discovery_;
  // Built with the runtime, so servers start in their initial health state; started after the
  // workers, stopped before them. A reload replaces it with one that inherits its state.
  std::unique_ptr<health::HealthService> health_;
  // Only with a `health_sharing` section; its own thread. A reload hands its lease to the next.
  std::unique_ptr<health::HealthSharing> sharing_;
  // Only with an `admin` section; its own thread, started after the workers, stopped after them
  // so that it can be watched during a drain.
  std::unique_ptr<admin::AdminServer> admin_;
  std::vector<uint16_t> ports_;
  // Installed by start() before the listener lines announce readiness: a SIGTERM sent as soon
  // as they appear must drain, not kill the process with the default action.
  asio::io_context signals_io_{1};
  std::optional<asio::signal_set> signals_;
};

}  // namespace fulcrum::app
