// GET /api/v1/clusters, /api/v1/clusters/{name} and /api/v1/clusters/{name}/servers/{address}.
#include <fmt/format.h>

#include "admin/handlers.h"
#include "admin/members.h"
#include "admin/views.h"
#include "config/values.h"

namespace fulcrum::admin {

std::string canonical_address(std::string_view address) {
  std::string reason;
  const auto host_port = config::parse_host_port(address, 1, &reason);
  return host_port ? host_port->to_string() : std::string(address);
}

Response get_clusters(Context& context) {
  const Moment now = context.now();
  nlohmann::ordered_json clusters = nlohmann::ordered_json::array();
  for (const auto& cluster : context.runtime->clusters()) {
    clusters.push_back(cluster_json(context, now, cluster));
  }
  return json_response(200, {{"time", iso8601(now.wall_ns)}, {"clusters", std::move(clusters)}});
}

Response get_cluster(Context& context, std::string_view name) {
  const generation::ClusterRuntime* cluster = context.find_cluster(name);
  if (cluster == nullptr) return error_response(404, fmt::format("no cluster named '{}'", name));
  return json_response(200, cluster_json(context, context.now(), *cluster));
}

Response get_server(Context& context, std::string_view name, std::string_view address) {
  const generation::ClusterRuntime* cluster = context.find_cluster(name);
  if (cluster == nullptr) return error_response(404, fmt::format("no cluster named '{}'", name));
  const std::string canonical = canonical_address(address);
  const core::SnapshotPtr snapshot = cluster->cluster->snapshot();
  if (const core::Member* member = find_member(*snapshot, canonical)) {
    return json_response(
        200, server_json(context, context.now(), *cluster, member->spec, *member->state));
  }
  return error_response(404, fmt::format("cluster '{}' has no server {}", name, canonical));
}

}  // namespace fulcrum::admin
