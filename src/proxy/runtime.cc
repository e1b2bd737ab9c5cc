#include "proxy/runtime.h"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <stdexcept>

#include "proxy/address_resolution.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::proxy {

Runtime::Runtime(config::Config config)
    : config_(std::move(config)), access_log_(config_.access_log) {
  clusters_.reserve(config_.clusters.size());
  std::unordered_map<std::string, core::NetAddress> resolved;
  for (auto& cluster_config : config_.clusters) {
    for (auto& server : cluster_config.servers) {
      auto [it, fresh] = resolved.try_emplace(server.address);
      if (fresh) {
        std::string error;
        const auto address = resolve_server_address(server.address, &error);
        if (!address) {
          throw std::runtime_error("cannot resolve server address '" + server.address +
                                   "': " + error);
        }
        it->second = *address;
      }
      server.resolved = it->second;
    }
    ClusterRuntime runtime{cluster_config, nullptr, nullptr};
    if (cluster_config.tls.enabled) {
      runtime.tls = std::make_shared<tls::ClientTlsContext>(cluster_config.tls);
    }
    runtime.cluster =
        std::make_unique<core::Cluster>(core::ClusterOptions{.name = cluster_config.name,
                                                             .policy = cluster_config.policy,
                                                             .passive = cluster_config.passive,
                                                             .health = cluster_config.health},
                                        cluster_config.servers);
    clusters_.push_back(std::move(runtime));
  }

  auto cluster_index = [&](const std::string& name) {
    for (std::size_t i = 0; i < clusters_.size(); ++i) {
      if (clusters_[i].config.name == name) return i;
    }
    throw std::runtime_error("unknown cluster '" + name + "'");  // The loader checks this first.
  };
  for (const auto& listener_config : config_.listeners) {
    auto listener = std::make_unique<ListenerRuntime>();
    listener->config = listener_config;
    for (const auto& route : listener_config.routes) {
      listener->routes.push_back({route.host, route.path_prefix, cluster_index(route.cluster)});
    }
    if (listener_config.mode == config::ListenerMode::kTcp) {
      listener->tcp_cluster_index = cluster_index(listener_config.cluster);
    }
    if (listener_config.tls.enabled) {
      listener->tls = std::make_shared<tls::ServerTlsContext>(listener_config.tls);
    }
    listeners_.push_back(std::move(listener));
  }
}

namespace {

/// Host header without port, compared case-insensitively.
bool host_matches(std::string_view configured, std::string_view host) {
  if (configured.empty()) return true;
  if (!host.empty() && host.front() != '[') {
    const std::size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  } else if (!host.empty()) {
    const std::size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(1, close - 1);
  }
  if (host.size() != configured.size()) return false;
  for (std::size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != configured[i]) return false;
  }
  return true;
}

}  // namespace

std::size_t Runtime::route(const ListenerRuntime& listener, std::string_view host,
                           std::string_view path) {
  for (const auto& route : listener.routes) {
    if (host_matches(route.host, host) && path.starts_with(route.path_prefix)) {
      return route.cluster_index;
    }
  }
  return SIZE_MAX;
}

}  // namespace fulcrum::proxy
