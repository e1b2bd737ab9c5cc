#include "generation/generation.h"

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <stdexcept>

#include "net/endpoint.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::generation {

Generation::Generation(config::Config config, const Generation* previous)
    : config_(std::move(config)),
      worker_count_(previous ? previous->worker_count_ : std::max<uint32_t>(1, config_.workers)),
      serial_(previous ? previous->serial_ + 1 : 1),
      process_(previous ? previous->process_ : std::make_shared<Process>(config_.access_log)) {
  clusters_.reserve(config_.clusters.size());
  std::unordered_map<std::string, core::NetAddress> resolved;
  for (auto& cluster_config : config_.clusters) {
    for (auto& server : cluster_config.servers) {
      auto [it, fresh] = resolved.try_emplace(server.address);
      if (fresh) {
        std::string error;
        const auto address = net::resolve_server_address(server.address, &error);
        if (!address) {
          throw std::runtime_error("cannot resolve server address '" + server.address +
                                   "': " + error);
        }
        it->second = *address;
      }
      server.resolved = it->second;
    }
    ClusterRuntime runtime{cluster_config, nullptr, {}, nullptr};
    if (cluster_config.tls.enabled) {
      runtime.tls = std::make_shared<tls::ClientTlsContext>(cluster_config.tls);
    }
    core::ClusterOptions options{.name = cluster_config.name,
                                 .policy = cluster_config.policy,
                                 .passive = cluster_config.passive,
                                 .health = cluster_config.health};
    const ClusterRuntime* before = previous ? previous->find_cluster(cluster_config.name) : nullptr;
    // A discovered cluster starts with the membership it has now, not the (empty) configured
    // one: its new discovery source replaces it once it reports.
    const std::vector<core::ServerSpec> servers = before && cluster_config.discovery.discovered()
                                                      ? before->cluster->snapshot()->servers
                                                      : cluster_config.servers;
    runtime.cluster =
        before ? std::make_shared<core::Cluster>(std::move(options), servers, *before->cluster)
               : std::make_shared<core::Cluster>(std::move(options), servers);
    runtime.readers.reserve(worker_count_);
    for (unsigned w = 0; w < worker_count_; ++w) runtime.readers.emplace_back(*runtime.cluster);
    clusters_.push_back(std::move(runtime));
  }

  auto cluster_index = [&](const std::string& name) {
    for (std::size_t i = 0; i < clusters_.size(); ++i) {
      if (clusters_[i].config.name == name) return i;
    }
    throw std::runtime_error("unknown cluster '" + name + "'");  // The loader checks this first.
  };
  for (const auto& listener_config : config_.listeners) {
    std::shared_ptr<ListenerCounters> counters;
    const ListenerRuntime* before = nullptr;
    if (previous) {
      const std::size_t index = previous->listener_index(listener_config.name);
      if (index != SIZE_MAX) before = previous->listeners_[index].get();
    }
    if (before) counters = before->counters;
    if (!counters) counters = std::make_shared<ListenerCounters>();
    auto listener = std::make_unique<ListenerRuntime>(std::move(counters));
    listener->config = listener_config;
    for (const auto& route : listener_config.routes) {
      listener->routes.push_back({route.host, route.path_prefix, cluster_index(route.cluster)});
    }
    if (listener_config.mode == config::ListenerMode::kTcp) {
      listener->tcp_cluster_index = cluster_index(listener_config.cluster);
    }
    if (listener_config.tls.enabled && before && before->tls) {
      // A new context on the previous one's session ticket keys, so clients resume across the
      // reload; the running one is not touched until the workers switch to this generation.
      // Throws on bad files.
      listener->tls = std::make_shared<tls::ServerTlsContext>(listener_config.tls, *before->tls);
    } else if (listener_config.tls.enabled) {
      listener->tls = std::make_shared<tls::ServerTlsContext>(listener_config.tls);
    }
    listeners_.push_back(std::move(listener));
  }
}

const ClusterRuntime* Generation::find_cluster(std::string_view name) const {
  for (const auto& cluster : clusters_) {
    if (cluster.config.name == name) return &cluster;
  }
  return nullptr;
}

std::size_t Generation::listener_index(std::string_view name) const {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i]->config.name == name) return i;
  }
  return SIZE_MAX;
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

std::size_t Generation::route_position(const ListenerRuntime& listener, std::string_view host,
                                       std::string_view path) {
  for (std::size_t i = 0; i < listener.routes.size(); ++i) {
    const RouteRuntime& route = listener.routes[i];
    if (host_matches(route.host, host) && path.starts_with(route.path_prefix)) return i;
  }
  return SIZE_MAX;
}

std::size_t Generation::route(const ListenerRuntime& listener, std::string_view host,
                              std::string_view path) {
  const std::size_t position = route_position(listener, host, path);
  return position == SIZE_MAX ? SIZE_MAX : listener.routes[position].cluster_index;
}

}  // namespace fulcrum::generation
