// Run-time server changes: POST (add), PATCH (weight, state) and DELETE (drain, then remove).
// Each applies to every worker at once (a published snapshot or an atomic) and is logged with
// its origin.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <variant>

#include "admin/handlers.h"
#include "admin/members.h"
#include "admin/server_status.h"
#include "admin/views.h"
#include "config/values.h"
#include "core/cluster_health.h"
#include "net/endpoint.h"

namespace fulcrum::admin {
namespace {

using json = nlohmann::ordered_json;

constexpr uint64_t kMaxWeight = 10000;  // As the config loader allows.

/// The body as a JSON object, or an error response naming what is wrong with it.
std::variant<json, Response> parse_object(const Request& request,
                                          std::initializer_list<std::string_view> keys) {
  json body;
  try {
    body = json::parse(request.body);
  } catch (const json::parse_error& e) {
    return error_response(400, fmt::format("the body is not valid JSON: {}", e.what()));
  }
  if (!body.is_object()) return error_response(400, "the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return error_response(
          400, fmt::format("unknown key '{}' (expected {})", key, fmt::join(keys, ", ")));
    }
  }
  return body;
}

std::optional<uint32_t> weight_of(const json& value) {
  if (!value.is_number_unsigned() || value.get<uint64_t>() > kMaxWeight) return std::nullopt;
  return static_cast<uint32_t>(value.get<uint64_t>());
}

struct Found {
  generation::ClusterRuntime* cluster = nullptr;
  core::ServerSpec spec;
  std::shared_ptr<core::ServerState> state;
};

/// The cluster and current member, or a 404 response.
std::variant<Found, Response> find_server(Context& context, std::string_view name,
                                          std::string_view address) {
  Found found;
  found.cluster = context.find_cluster(name);
  if (found.cluster == nullptr) {
    return error_response(404, fmt::format("no cluster named '{}'", name));
  }
  const std::string canonical = canonical_address(address);
  const core::SnapshotPtr snapshot = found.cluster->cluster->snapshot();
  if (const core::Member* member = find_member(*snapshot, canonical)) {
    found.spec = member->spec;
    found.state = member->state;
    return found;
  }
  return error_response(404, fmt::format("cluster '{}' has no server {}", name, canonical));
}

/// A discovered cluster's membership and weights come from its source, which would undo any
/// change made here at its next report: such changes are refused (states may still change).
std::optional<Response> refuse_if_discovered(const generation::ClusterRuntime& cluster) {
  if (!cluster.config.discovery.discovered()) return std::nullopt;
  return error_response(
      409, fmt::format("cluster '{}' takes its membership from discovery; change the source "
                       "(servers and weights), or PATCH only 'state'",
                       cluster.config.name));
}

Response server_response(Context& context, int status, const Found& found) {
  // Re-read: the answer shows the server as it is after the change.
  const core::SnapshotPtr snapshot = found.cluster->cluster->snapshot();
  if (const core::Member* member = find_member(*snapshot, found.spec.address)) {
    return json_response(
        status, server_json(context, context.now(), *found.cluster, member->spec, *member->state));
  }
  return json_response(status, {{"address", found.spec.address}});
}

}  // namespace

Response add_server(Context& context, const Request& request, const Caller& caller,
                    std::string_view name) {
  generation::ClusterRuntime* cluster = context.find_cluster(name);
  if (cluster == nullptr) return error_response(404, fmt::format("no cluster named '{}'", name));
  if (auto refused = refuse_if_discovered(*cluster)) return *refused;
  auto parsed = parse_object(request, {"address", "weight", "backup"});
  if (auto* error = std::get_if<Response>(&parsed)) return *error;
  const json& body = std::get<json>(parsed);

  if (!body.contains("address") || !body["address"].is_string()) {
    return error_response(400, "'address' (\"host:port\") is required");
  }
  const std::string text = body["address"].get<std::string>();
  std::string reason;
  const auto host_port = config::parse_host_port(text, 1, &reason);
  if (!host_port) {
    return error_response(400, fmt::format("invalid server address '{}': {}", text, reason));
  }
  core::ServerSpec spec{.address = host_port->to_string()};
  if (body.contains("weight")) {
    const auto weight = weight_of(body["weight"]);
    if (!weight) return error_response(400, "'weight' must be a whole number from 0 to 10000");
    spec.weight = *weight;
  }
  if (body.contains("backup")) {
    if (!body["backup"].is_boolean()) return error_response(400, "'backup' must be true or false");
    spec.backup = body["backup"].get<bool>();
  }
  if (cluster->cluster->state_of(spec.address)) {
    return error_response(409,
                          fmt::format("cluster '{}' already has server {}{}", name, spec.address,
                                      context.removals.pending(name, spec.address)
                                          ? " (being removed; add it again once it is gone)"
                                          : ""));
  }
  // Resolving blocks, but only this admin thread: workers never wait for it.
  const auto resolved = net::resolve_server_address(spec.address, &reason);
  if (!resolved) {
    return error_response(400, fmt::format("cannot resolve '{}': {}", spec.address, reason));
  }
  spec.resolved = *resolved;
  if (!cluster->cluster->add_server(spec)) {
    return error_response(409,
                          fmt::format("cluster '{}' already has server {}", name, spec.address));
  }
  spdlog::info("admin: server {} added to cluster '{}' (weight {}{}) by {}", spec.address, name,
               spec.weight, spec.backup ? ", backup" : "", caller.origin);
  context.journal.record(*cluster, spec.address);
  Found found{cluster, spec, cluster->cluster->state_of(spec.address)};
  if (!found.state) return error_response(409, "the server was removed again meanwhile");
  return server_response(context, 201, found);
}

Response patch_server(Context& context, const Request& request, const Caller& caller,
                      std::string_view name, std::string_view address) {
  auto target = find_server(context, name, address);
  if (auto* error = std::get_if<Response>(&target)) return *error;
  const Found& found = std::get<Found>(target);
  auto parsed = parse_object(request, {"weight", "state"});
  if (auto* error = std::get_if<Response>(&parsed)) return *error;
  const json& body = std::get<json>(parsed);
  if (body.empty()) return error_response(400, "give 'weight' or 'state' (or both)");

  std::optional<uint32_t> weight;
  if (body.contains("weight")) {
    weight = weight_of(body["weight"]);
    if (!weight) return error_response(400, "'weight' must be a whole number from 0 to 10000");
  }
  std::optional<core::AdminState> wanted;
  if (body.contains("state")) {
    const std::string state = body["state"].is_string() ? body["state"].get<std::string>() : "";
    wanted = state_for_verb(state);
    if (!wanted) return error_response(400, "'state' must be \"enable\", \"drain\" or \"disable\"");
  }
  if (weight) {
    if (auto refused = refuse_if_discovered(*found.cluster)) return *refused;
  }
  // Check everything first, then apply: a bad half of a request changes nothing.
  if (weight && *weight != found.spec.weight) {
    found.cluster->cluster->set_weight(found.spec.address, *weight);
    spdlog::info("admin: server {} of cluster '{}' weight {} -> {} by {}", found.spec.address, name,
                 found.spec.weight, *weight, caller.origin);
  }
  if (wanted) {
    const core::AdminState before = found.state->admin_state.exchange(*wanted);
    if (before != *wanted) {
      if (*wanted == core::AdminState::kEnabled) {
        core::begin_warm_up(*found.state, context.clock.now(), found.cluster->config.health);
      }
      spdlog::info("admin: server {} of cluster '{}' {} -> {} by {}", found.spec.address, name,
                   to_string(before), to_string(*wanted), caller.origin);
    }
  }
  context.journal.record(*found.cluster, found.spec.address);
  return server_response(context, 200, found);
}

asio::awaitable<Response> delete_server(Context& context, const Request& request,
                                        const Caller& caller, std::string_view name,
                                        std::string_view address) {
  auto target = find_server(context, name, address);
  if (auto* error = std::get_if<Response>(&target)) co_return *error;
  const Found found = std::get<Found>(target);
  if (auto refused = refuse_if_discovered(*found.cluster)) co_return *refused;
  const std::string cluster_name(name);
  const std::string& server = found.spec.address;
  const auto wait = request.query_param("wait");
  if (wait && *wait != "true" && *wait != "false") {
    co_return error_response(400, "'wait' must be true or false");
  }

  const core::AdminState before = found.state->admin_state.load();
  if (before == core::AdminState::kEnabled) {
    found.state->admin_state.store(core::AdminState::kDraining);
  }
  const core::Nanos started = context.clock.now();
  // Journalled as removed now: a reload during the drain does not bring it back.
  if (context.removals.begin(found.cluster->cluster, server, caller.origin, started,
                             context.drain_timeout)) {
    context.journal.record_removed(*found.cluster, server);
    spdlog::info("admin: server {} of cluster '{}' {} for removal by {}", server, cluster_name,
                 before == core::AdminState::kEnabled ? "draining"
                                                      : "left " + std::string(to_string(before)),
                 caller.origin);
  }
  context.removals.poll(started);  // An idle server goes at once.

  if (wait && *wait == "true") {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (context.removals.pending(cluster_name, server)) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::use_awaitable);
    }
  }
  if (context.removals.pending(cluster_name, server)) {
    const Moment now = context.now();
    co_return json_response(
        202,
        {{"cluster", cluster_name},
         {"address", server},
         {"removed", false},
         {"state", "draining"},
         {"active_connections", found.state->active_connections.load()},
         {"in_flight", found.state->in_flight.load()},
         {"remove_by", iso8601(now.wall_of(started + context.drain_timeout))},
         {"message",
          fmt::format("draining: no new requests; removed once its connections finish, at the "
                      "latest at remove_by (drain_timeout). GET /api/v1/clusters/{}/servers/{} "
                      "answers 404 once it is gone; DELETE ...?wait=true waits for it.",
                      cluster_name, server)}});
  }
  const auto outcome = context.removals.outcome(cluster_name, server);
  if (outcome && !outcome->removed) {
    co_return error_response(409, "removal cancelled: the server was enabled again");
  }
  co_return json_response(
      200, {{"cluster", cluster_name},
            {"address", server},
            {"removed", true},
            {"open_connections_at_removal", outcome ? outcome->open_connections : 0},
            {"drained_ms",
             outcome ? std::chrono::duration_cast<std::chrono::milliseconds>(outcome->took).count()
                     : 0}});
}

}  // namespace fulcrum::admin
