#include "proxy/discovery_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/post.hpp>
#include <map>
#include <stdexcept>

#include "discovery/dns_source.h"
#include "discovery/etcd_source.h"
#include "discovery/file_source.h"
#include "discovery/membership_gate.h"
#include "generation/generation.h"
#include "net/endpoint.h"

namespace fulcrum::proxy {

std::unique_ptr<discovery::Source> make_source(const config::DiscoveryConfig& config) {
  switch (config.type) {
    case config::DiscoveryType::kDns:
      return std::make_unique<discovery::DnsSource>(config);
    case config::DiscoveryType::kFile:
      return std::make_unique<discovery::FileSource>(config.path);
    case config::DiscoveryType::kEtcd:
      return discovery::make_etcd_source(config.endpoints, config.prefix,
                                         discovery::etcd_access(config.etcd_tls, config.etcd_auth));
    case config::DiscoveryType::kStatic:
      break;
  }
  throw std::logic_error("make_source: a static cluster has no discovery source");
}

DiscoveryService::DiscoveryService(generation::Generation& runtime) : runtime_(runtime) {
  const auto& clusters = runtime_.clusters();
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const auto& discovery = clusters[i].config.discovery;
    if (!discovery.discovered()) continue;
    try {
      watched_.push_back(std::make_unique<Watched>(Watched{i, make_source(discovery), false, {}}));
    } catch (const std::exception& e) {
      throw std::runtime_error("cluster '" + clusters[i].config.name + "': " + e.what());
    }
  }
}

void DiscoveryService::start() {
  if (watched_.empty() || thread_.joinable()) return;
  work_.emplace(io_.get_executor());
  for (auto& watched : watched_) {
    asio::post(io_, [this, w = watched.get()] {
      spdlog::info("cluster {}: membership from {}",
                   runtime_.clusters()[w->cluster_index].config.name, w->source->describe());
      try {
        w->source->start(
            io_, [this, w](discovery::Membership members) { apply(*w, std::move(members)); });
      } catch (const std::exception& e) {
        // E.g. c-ares cannot start: the cluster keeps what it has; nothing to wait for.
        spdlog::error("cluster {}: {} cannot start: {}",
                      runtime_.clusters()[w->cluster_index].config.name, w->source->describe(),
                      e.what());
        std::lock_guard lock(mutex_);
        w->reported = true;
        reported_.notify_all();
      }
    });
  }
  thread_ = std::thread([this] { io_.run(); });
}

std::vector<std::string> DiscoveryService::wait_first_memberships(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  reported_.wait_for(lock, timeout, [this] {
    for (const auto& w : watched_) {
      if (!w->reported) return false;
    }
    return true;
  });
  std::vector<std::string> waiting;
  for (const auto& w : watched_) {
    if (!w->reported) waiting.push_back(runtime_.clusters()[w->cluster_index].config.name);
  }
  return waiting;
}

void DiscoveryService::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    for (auto& watched : watched_) watched->source->stop();
    work_.reset();
    io_.stop();
  });
  thread_.join();
}

void DiscoveryService::apply(Watched& watched, discovery::Membership members) {
  generation::ClusterRuntime& cluster = runtime_.clusters()[watched.cluster_index];
  const std::string& name = cluster.config.name;
  const std::string source = watched.source->describe();
  auto mark_reported = [&] {
    std::lock_guard lock(mutex_);
    watched.reported = true;
    reported_.notify_all();
  };

  // Resolve names the source did not (files and etcd may list host names). Blocking, but only
  // this thread waits; a name that does not resolve is left out.
  std::vector<core::ServerSpec> specs;
  std::map<std::string, bool> draining;
  for (auto& member : members) {
    if (draining.contains(member.spec.address)) continue;  // Duplicates: the first wins.
    if (!member.spec.resolved.resolved()) {
      std::string error;
      const auto address = net::resolve_server_address(member.spec.address, &error);
      if (!address) {
        spdlog::warn("cluster {}: {} lists {}, which does not resolve ({}); left out", name, source,
                     member.spec.address, error);
        continue;
      }
      member.spec.resolved = *address;
    }
    draining.emplace(member.spec.address, member.draining);
    specs.push_back(std::move(member.spec));
  }

  const core::SnapshotPtr before = cluster.cluster->snapshot();
  if (discovery::judge_membership(members, cluster.config.discovery.allow_empty) ==
          discovery::Verdict::kRefuseEmpty ||
      (specs.empty() && !members.empty() && !cluster.config.discovery.allow_empty)) {
    spdlog::error(
        "cluster {}: {} reports no servers; keeping the last good membership ({} "
        "servers); set discovery allow_empty to accept an empty cluster",
        name, source, before->servers.size());
    mark_reported();
    return;
  }

  std::size_t added = 0;
  std::size_t changed = 0;
  for (const auto& spec : specs) {
    const auto it =
        std::find_if(before->servers.begin(), before->servers.end(),
                     [&](const core::ServerSpec& s) { return s.address == spec.address; });
    if (it == before->servers.end()) {
      ++added;
    } else if (!(*it == spec)) {
      ++changed;
    }
  }
  const std::size_t removed = before->servers.size() + added - specs.size();
  const std::size_t count = specs.size();
  cluster.cluster->set_servers(std::move(specs));

  for (const auto& [address, wants_drain] : draining) {
    const auto state = cluster.cluster->state_of(address);
    if (!state) continue;
    if (wants_drain) {
      auto expected = core::AdminState::kEnabled;
      if (state->admin_state.compare_exchange_strong(expected, core::AdminState::kDraining)) {
        watched.drained_by_source.insert(address);
        spdlog::info("cluster {}: {} drains {}", name, source, address);
      }
    } else if (watched.drained_by_source.erase(address) > 0) {
      // Undo only our own drain: an operator's drain or disable stays.
      auto expected = core::AdminState::kDraining;
      state->admin_state.compare_exchange_strong(expected, core::AdminState::kEnabled);
    }
  }
  std::erase_if(watched.drained_by_source,
                [&](const std::string& address) { return !draining.contains(address); });

  spdlog::info("cluster {}: {} servers from {} ({} added, {} removed, {} changed)", name, count,
               source, added, removed, changed);
  mark_reported();
}

}  // namespace fulcrum::proxy
