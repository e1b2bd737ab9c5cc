#include "proxy/address_refresher.h"

#include <spdlog/spdlog.h>

#include "generation/generation.h"
#include "net/endpoint.h"

namespace fulcrum::proxy {

namespace {

bool any_named_server(const generation::Generation& runtime) {
  for (const auto& cluster : runtime.clusters()) {
    if (cluster.config.discovery.type == config::DiscoveryType::kDns) continue;
    for (const auto& server : cluster.cluster->snapshot()->servers) {
      if (!net::is_ip_literal(server.address)) return true;
    }
  }
  return false;
}

}  // namespace

AddressRefresher::AddressRefresher(generation::Generation& runtime) : runtime_(runtime) {}

void AddressRefresher::start() {
  if (runtime_.config().dns_refresh.count() <= 0 || thread_.joinable()) return;
  if (!any_named_server(runtime_)) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void AddressRefresher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AddressRefresher::run() {
  const auto period = runtime_.config().dns_refresh;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    refresh_once();
    lock.lock();
  }
}

std::size_t AddressRefresher::refresh_once() {
  std::size_t changed = 0;
  for (auto& cluster : runtime_.clusters()) {
    // DNS discovery looks its names up itself, through its own resolvers and TTLs.
    if (cluster.config.discovery.type == config::DiscoveryType::kDns) continue;
    // Resolve outside any lock (lookups can take seconds), then apply only to servers whose
    // resolved address is still the one we started from, so a concurrent change wins.
    const core::SnapshotPtr before = cluster.cluster->snapshot();
    for (const auto& server : before->servers) {
      if (net::is_ip_literal(server.address)) continue;
      std::string error;
      const auto fresh = net::resolve_server_address(server.address, &error);
      if (!fresh) {
        spdlog::warn("cluster {}: cannot re-resolve {} ({}); keeping {}", cluster.config.name,
                     server.address, error,
                     net::to_endpoint(server.resolved).address().to_string());
        continue;
      }
      if (*fresh == server.resolved) continue;
      if (cluster.cluster->set_resolved(server.address, server.resolved, *fresh)) {
        ++changed;
        spdlog::info("cluster {}: {} now resolves to {}", cluster.config.name, server.address,
                     net::to_endpoint(*fresh).address().to_string());
      }
    }
  }
  return changed;
}

}  // namespace fulcrum::proxy
