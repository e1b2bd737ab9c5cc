#include "proxy/runtime.h"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <stdexcept>

#include "config/values.h"

namespace fulcrum::proxy {

namespace {

asio::ip::tcp::endpoint resolve(asio::ip::tcp::resolver& resolver, const std::string& address) {
  std::string reason;
  const auto host_port = config::parse_host_port(address, 1, &reason);
  if (!host_port) {
    throw std::runtime_error("server address '" + address + "': " + reason);
  }
  std::error_code ec;
  auto results = resolver.resolve(host_port->host, std::to_string(host_port->port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve server address '" + address +
                             "': " + (ec ? ec.message() : "no addresses"));
  }
  return results.begin()->endpoint();
}

}  // namespace

Runtime::Runtime(config::Config config)
    : config_(std::move(config)), access_log_(config_.access_log) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  clusters_.reserve(config_.clusters.size());
  for (const auto& cluster_config : config_.clusters) {
    for (const auto& server : cluster_config.servers) {
      if (!endpoints_.contains(server.address)) {
        endpoints_.emplace(server.address, resolve(resolver, server.address));
      }
    }
    ClusterRuntime runtime{cluster_config, nullptr};
    runtime.cluster =
        std::make_unique<core::Cluster>(core::ClusterOptions{.name = cluster_config.name,
                                                             .policy = cluster_config.policy,
                                                             .passive = cluster_config.passive},
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
    listeners_.push_back(std::move(listener));
  }
}

const asio::ip::tcp::endpoint* Runtime::endpoint_of(std::string_view address) const {
  auto it = endpoints_.find(std::string(address));
  return it == endpoints_.end() ? nullptr : &it->second;
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
