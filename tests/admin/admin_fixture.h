#pragma once

// Starts a real AdminServer (its own thread, a real listening socket on port 0) over a Generation
// built from a configuration string, and captures log lines so tests can check what was logged.

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "admin/admin_server.h"
#include "config/config.h"
#include "generation/generation.h"
#include "tests/admin/admin_client.h"

namespace fulcrum::admin::testing {

/// Two clusters: web (two primaries, one backup, passive tracking after one failure, slow start)
/// and api (one server, one connection each), routed by path on listener "web".
inline std::string base_config(std::string_view drain_timeout = "2s") {
  return std::string(R"(workers: 1
access_log: { enabled: false }
drain_timeout: )") +
         std::string(drain_timeout) + R"(
listeners:
  - name: web
    listen: 127.0.0.1:0
    routes:
      - match: { path_prefix: /api }
        cluster: api
      - cluster: web
clusters:
  - name: web
    slow_start: 10s
    passive: { attempts: 1, offline_timeout: 10s }
    servers:
      - address: 127.0.0.1:9001
        weight: 2
      - address: 127.0.0.1:9002
      - address: 127.0.0.1:9003
        backup: true
  - name: api
    limits: { max_connections_per_server: 1 }
    servers:
      - address: 127.0.0.1:9101
)";
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
    spdlog::default_logger()->sinks().push_back(log_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), log_), sinks.end());
    std::error_code ignored;
    if (!token_path_.empty()) std::filesystem::remove(token_path_, ignored);
  }

  /// `admin` is the YAML of the admin section's mapping, e.g. "{ listen: 127.0.0.1:0 }".
  void start(const std::string& admin, std::string_view drain_timeout = "2s") {
    config::Config config = config::load_config_string(
        base_config(drain_timeout) + "admin: " + admin + "\n", "/tmp/admin-test.yaml");
    runtime_ = std::make_unique<generation::Generation>(std::move(config));
    server_ = std::make_unique<AdminServer>(*runtime_, runtime_->config().admin,
                                            runtime_->config().drain_timeout);
    server_->start();
    port_ = server_->port();
  }

  /// Writes `token` to a file and returns its absolute path.
  std::string token_file(const std::string& token) {
    token_path_ = std::filesystem::temp_directory_path() /
                  ("fulcrum-admin-token-" + std::to_string(::getpid()) + "-" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(token_path_) << token << "\n";
    return token_path_.string();
  }

  core::Cluster& cluster(std::string_view name) {
    for (auto& c : runtime_->clusters()) {
      if (c.config.name == name) return *c.cluster;
    }
    throw std::runtime_error("no cluster");
  }
  std::shared_ptr<core::ServerState> state(std::string_view cluster_name,
                                           std::string_view address) {
    return cluster(cluster_name).state_of(address);
  }

  bool logged(std::string_view text) const {
    for (const std::string& line : log_->last_formatted()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  /// Polls `done` every 10 ms for at most `timeout`.
  template <typename Done>
  static bool eventually(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  std::unique_ptr<generation::Generation> runtime_;
  std::unique_ptr<AdminServer> server_;
  uint16_t port_ = 0;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
  std::filesystem::path token_path_;
};

}  // namespace fulcrum::admin::testing
