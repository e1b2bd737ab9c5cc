// Parsing and checking of the `listeners` section, including routes.

#include <fmt/format.h>

#include <map>

#include "config/sections.h"
#include "config/tls.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr uint64_t kMaxConnections = 1'000'000;
constexpr uint64_t kMinHeadBytes = 1024;
constexpr uint64_t kMaxHeadBytes = 1 << 20;
constexpr uint64_t kMinUriBytes = 64;
constexpr std::string_view kModes[] = {"http", "tcp"};

struct Checks {
  const std::vector<ClusterConfig>* clusters;  ///< nullptr: unknown, names are not checked.
  std::map<std::string, int> names;            // listener name -> line
  std::map<std::string, int> addresses;        // canonical listen address -> line
};

std::string read_cluster_ref(const Source& source, const Field& field,
                             const std::vector<ClusterConfig>* clusters) {
  std::string name = read_string(source, field);
  if (clusters == nullptr) return name;
  for (const ClusterConfig& c : *clusters) {
    if (c.name == name) return name;
  }
  std::vector<std::string_view> defined;
  for (const ClusterConfig& c : *clusters) defined.push_back(c.name);
  source.fail(field.mark(), fmt::format("unknown cluster '{}' (defined clusters: {})", name,
                                        fmt::join(defined, ", ")));
}

RouteConfig read_route(const Source& source, const Field& item,
                       const std::vector<ClusterConfig>* clusters) {
  const MapReader m(source, item, schema::kRoute);
  RouteConfig route;
  if (const Field* f = m.find("match")) {
    source.recover([&] {
      const MapReader match(source, *f, schema::kRouteMatch);
      if (const Field* g = match.find("host")) {
        source.recover([&] {
          route.host = read_string(source, *g);
          for (char& c : route.host)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (!is_valid_name(route.host)) {
            source.fail(g->mark(), fmt::format("invalid host '{}' (a host name without port, "
                                               "letters, digits, '-', '_' and '.')",
                                               route.host));
          }
        });
      }
      if (const Field* g = match.find("path_prefix")) {
        source.recover([&] {
          route.path_prefix = read_string(source, *g);
          const bool has_space = route.path_prefix.find_first_of(" \t\r\n") != std::string::npos;
          if (route.path_prefix.front() != '/' || has_space) {
            source.fail(g->mark(),
                        fmt::format("expected a path prefix starting with '/' and without "
                                    "spaces, got '{}'",
                                    route.path_prefix));
          }
        });
      }
    });
  }
  source.recover([&] { route.cluster = read_cluster_ref(source, m.require("cluster"), clusters); });
  return route;
}

// First match wins, so a route every request of which an earlier route already takes is dead
// configuration, almost always a mistake in ordering.
bool shadows(const RouteConfig& earlier, const RouteConfig& later) {
  const bool host_covered = earlier.host.empty() || earlier.host == later.host;
  return host_covered && later.path_prefix.starts_with(earlier.path_prefix);
}

std::vector<RouteConfig> read_routes(const Source& source, const Field& field,
                                     const std::vector<ClusterConfig>* clusters) {
  std::vector<RouteConfig> routes;
  std::vector<int> lines;
  for (const Field& item : read_list(source, field)) {
    source.recover([&] {
      RouteConfig route = read_route(source, item, clusters);
      for (std::size_t i = 0; i < routes.size(); ++i) {
        if (shadows(routes[i], route)) {
          source.fail(item.mark(),
                      fmt::format("route can never match: the route at line {} takes all of its "
                                  "requests (first match wins)",
                                  lines[i]));
        }
      }
      routes.push_back(std::move(route));
      lines.push_back(line_of(item.mark()));
    });
  }
  return routes;
}

void read_limits(const Source& source, const Field& field, ListenerLimits& limits) {
  const MapReader m(source, field, schema::kListenerLimits);
  if (const Field* f = m.find("max_connections")) {
    source.recover([&] {
      limits.max_connections = static_cast<uint32_t>(read_uint(source, *f, 1, kMaxConnections));
    });
  }
  if (const Field* f = m.find("max_head_bytes")) {
    source.recover([&] {
      limits.max_head_bytes =
          static_cast<uint32_t>(read_size(source, *f, kMinHeadBytes, kMaxHeadBytes));
    });
  }
  if (const Field* f = m.find("max_uri_bytes")) {
    source.recover([&] {
      limits.max_uri_bytes =
          static_cast<uint32_t>(read_size(source, *f, kMinUriBytes, kMaxHeadBytes));
    });
  }
  // The request line is part of the head, so a longer URI limit could never be reached.
  if (limits.max_uri_bytes > limits.max_head_bytes) {
    const Field* f = m.find("max_uri_bytes");
    source.report(
        f != nullptr ? f->mark() : m.mark(),
        fmt::format("max_uri_bytes ({}) must not exceed max_head_bytes ({})",
                    format_size(limits.max_uri_bytes), format_size(limits.max_head_bytes)));
  }
}

// `listen`: a host and port, the port unique among listeners (except 0).
void read_listen(const Source& source, const Field& listen, Checks& checks, ListenerConfig& l) {
  const std::string text = read_string(source, listen);
  std::string reason;
  const auto host_port = parse_host_port(text, 0, &reason);
  if (!host_port) {
    source.fail(listen.mark(), fmt::format("invalid listen address '{}': {}", text, reason));
  }
  l.host = host_port->host;
  l.port = host_port->port;
  // Port 0 asks the kernel for a free port, so several such listeners do not collide.
  if (l.port != 0) {
    const auto [it, inserted] =
        checks.addresses.emplace(host_port->to_string(), line_of(listen.mark()));
    if (!inserted) {
      source.fail(listen.mark(), fmt::format("listen address '{}' is already used at line {}",
                                             host_port->to_string(), it->second));
    }
  }
}

// Where a listener sends its traffic: a tcp listener's one `cluster`, an http listener's
// `routes` or `cluster`.
void read_targets(const Source& source, const MapReader& m, const Checks& checks,
                  ListenerConfig& l) {
  const Field* routes = m.find("routes");
  const Field* cluster = m.find("cluster");
  if (l.mode == ListenerMode::kTcp) {
    if (routes != nullptr) {
      source.fail(routes->key_mark(), "a tcp listener takes one 'cluster', not 'routes'");
    }
    if (cluster == nullptr) {
      if (m.misspelt("cluster")) throw AlreadyReported{};
      source.fail(m.mark(), fmt::format("tcp listener '{}' needs a 'cluster'", l.name));
    }
    l.cluster = read_cluster_ref(source, *cluster, checks.clusters);
  } else if (routes != nullptr && cluster != nullptr) {
    source.fail(cluster->key_mark(), "give either 'routes' or 'cluster', not both");
  } else if (routes != nullptr) {
    l.routes = read_routes(source, *routes, checks.clusters);
  } else if (cluster != nullptr) {
    l.routes.push_back(RouteConfig{"", "", read_cluster_ref(source, *cluster, checks.clusters)});
  } else if (m.misspelt("routes") || m.misspelt("cluster")) {
    throw AlreadyReported{};
  } else {
    source.fail(m.mark(), fmt::format("http listener '{}' needs 'routes' or 'cluster'", l.name));
  }
}

ListenerConfig read_listener(const Source& source, const Field& item, Checks& checks) {
  const MapReader m(source, item, schema::kListener);
  ListenerConfig l;
  source.recover([&] {
    const Field& name = m.require("name");
    l.name = read_name(source, name);
    if (const auto [it, inserted] = checks.names.emplace(l.name, line_of(name.mark())); !inserted) {
      source.fail(name.mark(), fmt::format("duplicate listener name '{}' (first defined at line "
                                           "{})",
                                           l.name, it->second));
    }
  });
  source.recover([&] { read_listen(source, m.require("listen"), checks, l); });
  if (const Field* f = m.find("mode")) {
    source.recover([&] {
      l.mode = read_choice(source, *f, kModes) == 0 ? ListenerMode::kHttp : ListenerMode::kTcp;
    });
  }
  if (const Field* f = m.find("timeouts")) {
    source.recover([&] {
      const MapReader t(source, *f, schema::kListenerTimeouts);
      if (const Field* g = t.find("client_header")) {
        source.recover([&] { l.timeouts.client_header = read_duration(source, *g, false); });
      }
      if (const Field* g = t.find("client_idle")) {
        source.recover([&] { l.timeouts.client_idle = read_duration(source, *g, false); });
      }
    });
  }
  if (const Field* f = m.find("limits")) source.recover([&] { read_limits(source, *f, l.limits); });
  if (const Field* f = m.find("tls")) {
    source.recover([&] { l.tls = read_listener_tls(source, *f, l.mode); });
  }

  source.recover([&] { read_targets(source, m, checks, l); });
  return l;
}

}  // namespace

std::vector<ListenerConfig> parse_listeners(const Source& source, const Field& field,
                                            const std::vector<ClusterConfig>* clusters) {
  Checks checks{clusters, {}, {}};
  std::vector<ListenerConfig> listeners;
  for (const Field& item : read_list(source, field)) {
    source.recover([&] { listeners.push_back(read_listener(source, item, checks)); });
  }
  return listeners;
}

}  // namespace fulcrum::config::detail
