#include "proxy/daemon.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <csignal>

#include "proxy/sd_notify.h"

namespace fulcrum::proxy {

Daemon::Daemon(config::Config config) : runtime_(std::make_unique<Runtime>(std::move(config))) {
  const uint32_t count = std::max<uint32_t>(1, runtime_->config().workers);
  for (uint32_t i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>(*runtime_, i));
  }
  if (runtime_->config().admin.enabled) {
    admin_ = std::make_unique<admin::AdminServer>(*runtime_, runtime_->config().admin,
                                                  runtime_->config().drain_timeout);
  }
}

Daemon::~Daemon() {
  shutdown();
  // Removing the signal set restores the default action; a second SIGTERM sent while the
  // process finishes exiting must not turn a clean drain into death by signal.
  signals_.reset();
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
}

void Daemon::start() {
  if (!signals_) signals_.emplace(signals_io_, SIGINT, SIGTERM);
  ports_.assign(runtime_->listeners().size(), 0);
  for (auto& worker : workers_) worker->bind(ports_);
  for (auto& worker : workers_) worker->start();
  address_refresher_.start();
  health_.start();
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
  if (!signals_) signals_.emplace(signals_io_, SIGINT, SIGTERM);
  int received = 0;
  signals_->async_wait([&](std::error_code ec, int signal) {
    if (!ec) received = signal;
  });
  signals_io_.run();
  spdlog::info(
      "signal {}: draining (up to {} ms)", received,
      std::chrono::duration_cast<std::chrono::milliseconds>(runtime_->config().drain_timeout)
          .count());
  shutdown();
  spdlog::info("stopped");
  return 0;
}

void Daemon::shutdown() {
  if (workers_.empty()) return;
  sd_notify("STOPPING=1\nSTATUS=draining");
  address_refresher_.stop();
  health_.stop();
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
  if (admin_) admin_->stop();
  runtime_->access_log().flush();
}

}  // namespace fulcrum::proxy
