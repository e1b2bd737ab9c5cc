// GET /api/v1/explain?listener=L&host=H&path=P: which route and cluster a request would take, and
// for every server of that cluster whether it may take the request now and, if not, why and
// until when.
#include <fmt/format.h>

#include "admin/handlers.h"
#include "admin/members.h"
#include "admin/server_status.h"
#include "admin/views.h"
#include "core/passive.h"

namespace fulcrum::admin {
namespace {

using json = nlohmann::ordered_json;

json server_explanation(const Context& context, const Moment& now,
                        const generation::ClusterRuntime& cluster, const core::ServerSpec& spec,
                        const core::ServerState& state) {
  const ServerStatus status = server_status(cluster, spec, state, now.steady);
  json out{{"address", spec.address},
           {"tier", spec.backup ? "backup" : "primary"},
           {"eligible", status.eligible()},
           {"reason", status.reason()}};
  std::string detail;
  switch (status.eligibility) {
    case core::Eligibility::kOffline:
    case core::Eligibility::kTrialBusy: {
      const core::Nanos until = core::offline_until(state, cluster.config.passive);
      out["until"] = iso8601(now.wall_of(until));
      detail = fmt::format("{} consecutive failures counted by passive tracking; offline until {}",
                           state.consecutive_failures.load(std::memory_order_relaxed),
                           iso8601(now.wall_of(until)));
      if (status.eligibility == core::Eligibility::kTrialBusy) {
        detail = "offline period over; one trial request is being sent to it now";
      }
      break;
    }
    case core::Eligibility::kEjected: {
      const core::Nanos until{state.ejected_until_ns.load(std::memory_order_relaxed)};
      out["until"] = iso8601(now.wall_of(until));
      detail = fmt::format("ejected for a run of error responses (ejection {}) until {}",
                           state.times_ejected.load(std::memory_order_relaxed),
                           iso8601(now.wall_of(until)));
      break;
    }
    case core::Eligibility::kAgentUnavailable:
      detail = "its agent answered -1";
      break;
    case core::Eligibility::kDownByPeers:
      detail = fmt::format("{} fulcrum instance(s) report it down through health_sharing",
                           state.peer_down_reports.load(std::memory_order_relaxed));
      break;
    default:
      break;
  }
  if (!status.eligible() && !out.contains("until")) {
    // When the current state began, as the admin thread's samples saw it.
    const auto& timeline = context.history.timeline(cluster.config.name, spec.address);
    if (!timeline.empty() && timeline.back().state == status.eligibility) {
      out["since"] = iso8601(timeline.back().wall_ns);
    }
  }
  if (status.eligible() && status.eligibility == core::Eligibility::kTrial) {
    detail = "offline period over: the next request may try it";
  }
  if (spec.backup) {
    detail += detail.empty() ? "" : "; ";
    detail += "backup: serves only while no primary server is eligible";
  }
  if (!detail.empty()) out["detail"] = detail;
  return out;
}

}  // namespace

Response explain(Context& context, const Request& request) {
  const auto listener_name = request.query_param("listener");
  if (!listener_name) return error_response(400, "'listener' is required (?listener=NAME)");
  const std::string host = request.query_param("host").value_or("");
  const std::string path = request.query_param("path").value_or("/");

  generation::ListenerRuntime* listener = nullptr;
  std::vector<std::string> names;
  for (auto& candidate : context.runtime->listeners()) {
    names.push_back(candidate->config.name);
    if (candidate->config.name == *listener_name) listener = candidate.get();
  }
  if (listener == nullptr) {
    return error_response(404, fmt::format("no listener named '{}' (listeners: {})", *listener_name,
                                           fmt::join(names, ", ")));
  }

  json out{{"listener", listener->config.name}};
  std::size_t index = SIZE_MAX;
  if (listener->config.mode == config::ListenerMode::kTcp) {
    out["mode"] = "tcp";
    index = listener->tcp_cluster_index;
  } else {
    out["mode"] = "http";
    out["host"] = host;
    out["path"] = path;
    index = generation::Generation::route(*listener, host, path);
    const std::size_t position = generation::Generation::route_position(*listener, host, path);
    if (position != SIZE_MAX) {
      const auto& route = listener->routes[position];
      out["route"] = {{"index", position},
                      {"host", route.host.empty() ? json(nullptr) : json(route.host)},
                      {"path_prefix", route.path_prefix}};
    }
    if (index == SIZE_MAX) {
      out["route"] = nullptr;
      out["result"] = "no route matches this host and path: the proxy answers 404";
      return json_response(200, out);
    }
  }
  const generation::ClusterRuntime& cluster = context.runtime->clusters()[index];
  const Moment now = context.now();
  const core::SnapshotPtr snapshot = cluster.cluster->snapshot();
  out["cluster"] = cluster.config.name;
  out["policy"] = cluster.config.policy;
  out["panic"] = cluster.cluster->health_state().panic.load(std::memory_order_relaxed);

  json servers = json::array();
  std::size_t primaries = 0, backups = 0;
  for_each_member(*snapshot, [&](const core::Member& member) {
    json server = server_explanation(context, now, cluster, member.spec, *member.state);
    if (server["eligible"].get<bool>()) ++(member.spec.backup ? backups : primaries);
    servers.push_back(std::move(server));
  });
  out["servers"] = std::move(servers);
  if (primaries > 0) {
    out["result"] = fmt::format("{} primary server(s) eligible; {} picks among them", primaries,
                                cluster.config.policy);
  } else if (backups > 0) {
    out["result"] = fmt::format("no primary server eligible: {} backup server(s) serve", backups);
  } else {
    out["result"] = "no server eligible: the proxy answers 503";
  }
  return json_response(200, out);
}

}  // namespace fulcrum::admin
