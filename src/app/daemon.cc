#include "app/daemon.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>

#include "app/sd_notify.h"
#include "tls/config_files.h"

namespace fulcrum::app {
namespace {

/// One log record per error (a configuration may have several, one per line), then the outcome.
void log_reload_failure(std::string_view what) {
  while (!what.empty()) {
    const std::size_t end = what.find('\n');
    spdlog::error("reload: {}", what.substr(0, end));
    if (end == std::string_view::npos) break;
    what.remove_prefix(end + 1);
  }
  spdlog::error("reload: the running configuration stays");
}

/// Settings the running process cannot change: a reload keeps the running value and says so.
void keep_fixed_settings(const config::Config& current, config::Config& next) {
  if (next.workers != current.workers) {
    spdlog::warn("reload: 'workers' changes from {} to {} only at a restart", current.workers,
                 next.workers);
    next.workers = current.workers;
  }
  const auto& a = current.admin;
  const auto& b = next.admin;
  if (a.enabled != b.enabled || a.host != b.host || a.port != b.port || a.token != b.token ||
      a.state_file != b.state_file) {
    spdlog::warn("reload: the 'admin' section changes only at a restart");
  }
  next.admin = current.admin;
  if (next.access_log.enabled != current.access_log.enabled ||
      next.access_log.path != current.access_log.path) {
    spdlog::warn("reload: the 'access_log' section changes only at a restart");
  }
  next.access_log = current.access_log;
  if (next.health_sharing != current.health_sharing) {
    spdlog::warn("reload: the 'health_sharing' section changes only at a restart");
  }
  next.health_sharing = current.health_sharing;
}

// How long start() waits for the discovered clusters' first memberships.
constexpr std::chrono::milliseconds kFirstMembershipWait{5000};

bool same_endpoint(const config::ListenerConfig& a, const config::ListenerConfig& b) {
  return a.host == b.host && a.port == b.port && a.mode == b.mode;
}

/// The journal lives next to the configuration file unless the config says otherwise.
void default_state_file(config::Config& config) {
  if (!config.admin.enabled || config.admin.state_file) return;
  std::error_code ec;
  if (std::filesystem::is_regular_file(config.source_path, ec)) {
    config.admin.state_file = config.source_path + ".state";
  }
}

}  // namespace

Daemon::Daemon(config::Config config) : config_path_(config.source_path) {
  default_state_file(config);
  runtime_ = std::make_shared<generation::Generation>(std::move(config));
  for (unsigned i = 0; i < runtime_->worker_count(); ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(runtime_, i));
  }
  if (runtime_->config().admin.enabled) {
    admin_ = std::make_unique<admin::AdminServer>(*runtime_, runtime_->config().admin,
                                                  runtime_->config().drain_timeout);
    admin_->journal().load();
    if (const std::size_t applied = admin_->journal().apply(*runtime_)) {
      spdlog::info("admin: {} run-time server changes re-applied from {}", applied,
                   admin_->journal().path());
    }
    // Runs on the admin thread already: apply directly.
    admin_->set_reload([this] {
      try {
        return apply(tls::load_checked_config_file(config_path_));
      } catch (const std::exception& e) {
        log_reload_failure(e.what());
        return std::string(e.what());
      }
    });
  }
  address_refresher_ = std::make_unique<proxy::AddressRefresher>(*runtime_);
  discovery_ = std::make_unique<proxy::DiscoveryService>(*runtime_);
  health_ = std::make_unique<health::HealthService>(*runtime_);
  if (runtime_->config().health_sharing.enabled) {
    sharing_ = std::make_unique<health::HealthSharing>(*runtime_);
  }
}

Daemon::~Daemon() {
  shutdown();
  // Removing the signal set restores the default action; a second SIGTERM sent while the
  // process finishes exiting must not turn a clean drain into death by signal.
  signals_.reset();
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
}

void Daemon::start() {
  if (!signals_) signals_.emplace(signals_io_, SIGINT, SIGTERM, SIGHUP);
  ports_.assign(runtime_->listeners().size(), 0);
  for (auto& worker : workers_) worker->bind(ports_);
  // Discovered clusters get their first membership before traffic is served (bounded: a source
  // that cannot answer leaves its cluster empty, answering 503, until it does). Connections
  // arriving meanwhile wait in the listen backlog.
  discovery_->start();
  for (const auto& name : discovery_->wait_first_memberships(kFirstMembershipWait)) {
    spdlog::warn(
        "cluster {}: no membership from discovery within {} ms; serving without it "
        "until it arrives",
        name, kFirstMembershipWait.count());
  }
  for (auto& worker : workers_) worker->start();
  address_refresher_->start();
  health_->start();
  if (sharing_) sharing_->start();
  if (admin_) admin_->start();
  const auto& listeners = runtime_->listeners();
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const auto& config = listeners[i]->config;
    const bool v6 = config.host.find(':') != std::string::npos;
    spdlog::info("listener {} ({}) on {}{}{}:{} with {} workers", config.name,
                 config.mode == config::ListenerMode::kHttp ? "http" : "tcp", v6 ? "[" : "",
                 config.host, v6 ? "]" : "", ports_[i], workers_.size());
  }
  // Type=notify units are "started" from here on: every socket is bound and served.
  sd_notify("READY=1\nSTATUS=serving");
}

int Daemon::run_until_signal() {
  if (!signals_) signals_.emplace(signals_io_, SIGINT, SIGTERM, SIGHUP);
  int received = 0;
  for (;;) {
    received = 0;
    signals_->async_wait([&](std::error_code ec, int signal) {
      if (!ec) received = signal;
    });
    signals_io_.restart();
    signals_io_.run();
    if (received != SIGHUP) break;
    spdlog::info("signal {}: reloading {}", received, config_path_);
    reload();
  }
  spdlog::info(
      "signal {}: draining (up to {} ms)", received,
      std::chrono::duration_cast<std::chrono::milliseconds>(runtime_->config().drain_timeout)
          .count());
  shutdown();
  spdlog::info("stopped");
  return 0;
}

std::string Daemon::reload() {
  config::Config next;
  try {
    next = tls::load_checked_config_file(config_path_);
  } catch (const std::exception& e) {
    log_reload_failure(e.what());
    return e.what();
  }
  return reload(std::move(next));
}

std::string Daemon::reload(config::Config next) {
  if (!admin_) return apply(std::move(next));
  std::string outcome;
  admin_->run_on_admin_thread([&] { outcome = apply(std::move(next)); });
  return outcome;
}

std::string Daemon::apply(config::Config next) {
  std::lock_guard lock(reload_mutex_);
  if (workers_.empty() || runtime_->draining()) return "the proxy is shutting down";
  sd_notify("RELOADING=1\nSTATUS=reloading");
  const std::shared_ptr<generation::Generation> current = runtime_;
  default_state_file(next);
  keep_fixed_settings(current->config(), next);
  std::shared_ptr<generation::Generation> fresh;
  std::unique_ptr<proxy::DiscoveryService> discovery;
  try {
    fresh = std::make_shared<generation::Generation>(std::move(next), current.get());
    discovery = std::make_unique<proxy::DiscoveryService>(*fresh);
  } catch (const std::exception& e) {
    log_reload_failure(e.what());
    sd_notify("READY=1\nSTATUS=serving");
    return e.what();
  }

  // Listeners that stay keep their sockets (and the connections waiting in them); new ones are
  // bound now, before anything changes, so that a port in use fails the reload cleanly.
  const auto& listeners = fresh->listeners();
  std::vector<std::size_t> kept(listeners.size(), SIZE_MAX);
  std::vector<uint16_t> ports(listeners.size(), 0);
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const std::size_t before = current->listener_index(listeners[i]->config.name);
    if (before != SIZE_MAX &&
        same_endpoint(current->listeners()[before]->config, listeners[i]->config)) {
      kept[i] = before;
      ports[i] = ports_[before];
    }
  }
  std::vector<std::vector<std::unique_ptr<asio::ip::tcp::acceptor>>> sockets;
  try {
    for (auto& worker : workers_) sockets.push_back(worker->bind_new(*fresh, kept, ports));
  } catch (const std::exception& e) {
    const std::string error = std::string("cannot listen: ") + e.what();
    log_reload_failure(error);
    sd_notify("READY=1\nSTATUS=serving");
    return error;
  }

  if (admin_) {
    if (const std::size_t applied = admin_->journal().apply(*fresh)) {
      spdlog::info("reload: {} run-time server changes re-applied", applied);
    }
  }
  address_refresher_->stop();
  discovery_->stop();
  health_->stop();
  auto health = std::make_unique<health::HealthService>(*fresh, health_.get());
  std::unique_ptr<health::HealthSharing> sharing;
  if (sharing_) {
    sharing_->stop();
    sharing = std::make_unique<health::HealthSharing>(*fresh, sharing_.get());
  }
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    workers_[w]->install(fresh, kept, std::move(sockets[w]));
  }
  runtime_ = fresh;
  ports_ = ports;
  health_ = std::move(health);
  health_->start();
  if (sharing) {
    sharing_ = std::move(sharing);
    sharing_->start();
  }
  address_refresher_ = std::make_unique<proxy::AddressRefresher>(*runtime_);
  address_refresher_->start();
  discovery_ = std::move(discovery);
  discovery_->start();
  if (admin_) admin_->adopt(*runtime_);

  std::size_t kept_count = 0;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    if (kept[i] != SIZE_MAX) {
      ++kept_count;
      continue;
    }
    const auto& config = listeners[i]->config;
    spdlog::info("reload: new listener {} on {}:{}", config.name, config.host, ports_[i]);
  }
  for (const auto& listener : current->listeners()) {
    const std::size_t now = fresh->listener_index(listener->config.name);
    if (now == SIZE_MAX || kept[now] == SIZE_MAX) {
      spdlog::info("reload: listener {} closed", listener->config.name);
    }
  }
  spdlog::info("reloaded {} (generation {}): {} listeners kept, {} clusters", config_path_,
               fresh->serial(), kept_count, fresh->clusters().size());
  sd_notify("READY=1\nSTATUS=serving");
  return {};
}

void Daemon::shutdown() {
  std::unique_lock lock(reload_mutex_);
  if (workers_.empty()) return;
  sd_notify("STOPPING=1\nSTATUS=draining");
  address_refresher_->stop();
  discovery_->stop();
  health_->stop();
  // Withdrawn now: the other instances stop counting this one's views at once.
  if (sharing_) sharing_->stop(/*leave=*/true);
  runtime_->draining() = true;
  for (auto& worker : workers_) worker->begin_drain();
  // Requests in flight finish; sessions close at their next request boundary.
  const auto deadline = std::chrono::steady_clock::now() + runtime_->config().drain_timeout;
  auto open_sessions = [&] {
    std::size_t total = 0;
    for (auto& worker : workers_) total += worker->session_count();
    return total;
  };
  runtime_->wait_drained(deadline, [&] { return open_sessions() == 0; });
  if (const std::size_t left = open_sessions(); left > 0) {
    spdlog::warn("drain timeout: closing {} connections still open", left);
  }
  for (auto& worker : workers_) worker->stop();
  for (auto& worker : workers_) worker->join();
  workers_.clear();
  lock.unlock();
  // A reload waiting on the admin thread now finds no workers and gives up.
  if (admin_) admin_->stop();
  runtime_->access_log().flush();
}

}  // namespace fulcrum::app
