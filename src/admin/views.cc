#include "admin/views.h"

#include <cmath>

#include "admin/members.h"
#include "admin/server_status.h"
#include "core/passive.h"
#include "core/slow_start.h"

namespace fulcrum::admin {
namespace {

using json = nlohmann::ordered_json;

std::string_view to_string(core::CheckHealth health) {
  return health == core::CheckHealth::kUp ? "up" : "down";
}

std::string_view to_string(core::AgentHealth health) {
  switch (health) {
    case core::AgentHealth::kUnknown:
      return "unknown";
    case core::AgentHealth::kUp:
      return "up";
    case core::AgentHealth::kDown:
      return "down";
    case core::AgentHealth::kSilent:
      return "silent";
  }
  return "unknown";
}

std::string_view to_string(core::AgentAdmin admin) {
  switch (admin) {
    case core::AgentAdmin::kReady:
      return "ready";
    case core::AgentAdmin::kDrain:
      return "drain";
    case core::AgentAdmin::kMaint:
      return "maint";
  }
  return "ready";
}

std::string address_text(const core::NetAddress& address) {
  if (!address.resolved()) return {};
  char text[64];
  if (address.family == 4) {
    std::snprintf(text, sizeof text, "%u.%u.%u.%u:%u", address.bytes[0], address.bytes[1],
                  address.bytes[2], address.bytes[3], address.port);
    return text;
  }
  std::string out = "[";
  for (std::size_t i = 0; i < 16; i += 2) {
    if (i > 0) out += ':';
    std::snprintf(text, sizeof text, "%x", (address.bytes[i] << 8) | address.bytes[i + 1]);
    out += text;
  }
  return out + "]:" + std::to_string(address.port);
}

json milliseconds(std::optional<double> seconds) {
  if (!seconds) return nullptr;
  return std::round(*seconds * 1e6) / 1e3;  // Microsecond precision, in ms.
}

json health_json(const Moment& now, const generation::ClusterRuntime& cluster,
                 const core::ServerState& state) {
  const core::PassiveOptions& passive = cluster.config.passive;
  const auto passive_status = core::passive_status(state, passive, now.steady);
  const bool offline = passive_status == core::PassiveStatus::kOffline;
  const int64_t ejected_until = state.ejected_until_ns.load(std::memory_order_relaxed);
  const int8_t load = state.agent_load.load(std::memory_order_relaxed);
  return json{
      {"checks", to_string(state.check_health.load(std::memory_order_relaxed))},
      {"passive",
       {{"consecutive_failures", state.consecutive_failures.load(std::memory_order_relaxed)},
        {"offline", offline},
        {"offline_until",
         offline ? time_or_null(now, core::offline_until(state, passive)) : json(nullptr)}}},
      {"ejection",
       {{"ejected", ejected_until > now.steady.count()},
        {"until", ejected_until > now.steady.count() ? time_or_null(now, core::Nanos{ejected_until})
                                                     : json(nullptr)},
        {"times_ejected", state.times_ejected.load(std::memory_order_relaxed)}}},
      {"shared",
       {{"down_reports", state.peer_down_reports.load(std::memory_order_relaxed)},
        {"down_by_peers", state.down_by_peers.load(std::memory_order_relaxed)}}},
      {"agent",
       {{"load", load == core::kAgentLoadUnknown ? json(nullptr) : json(load)},
        {"health", to_string(state.agent_health.load(std::memory_order_relaxed))},
        {"admin", to_string(state.agent_admin.load(std::memory_order_relaxed))},
        {"weight_percent", state.agent_weight_percent.load(std::memory_order_relaxed)},
        {"maxconn", state.agent_maxconn.load(std::memory_order_relaxed)}}}};
}

// Per minute, oldest first; null for minutes before the admin thread first saw the server.
json last_hour_json(const Context& context, const Moment& now, std::string_view cluster,
                    std::string_view address) {
  const auto hour = context.history.last_hour(cluster, address, now.wall_ns);
  json requests = json::array();
  json errors = json::array();
  for (const History::Minute& minute : hour) {
    requests.push_back(minute.known ? json(minute.requests) : json(nullptr));
    errors.push_back(minute.known ? json(minute.errors) : json(nullptr));
  }
  return json{{"from", iso8601(hour.front().start_wall_ns)},
              {"bucket_seconds", History::kMinuteNs / 1'000'000'000},
              {"requests", std::move(requests)},
              {"errors", std::move(errors)}};
}

}  // namespace

json time_or_null(const Moment& now, core::Nanos steady) {
  if (steady.count() == 0) return nullptr;
  return iso8601(now.wall_of(steady));
}

json server_json(const Context& context, const Moment& now,
                 const generation::ClusterRuntime& cluster, const core::ServerSpec& spec,
                 const core::ServerState& state) {
  const ServerStatus status = server_status(cluster, spec, state, now.steady);
  const auto& name = cluster.config.name;
  const History::Rates rates = context.history.rates(name, spec.address);
  const auto& stats = state.stats;
  auto count = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  const double effective =
      status.eligible() ? core::effective_weight(spec, state, now.steady, cluster.config.health)
                        : 0.0;

  json timeline = json::array();
  const auto& events = context.history.timeline(name, spec.address);
  for (const auto& event : events) {
    timeline.push_back({{"at", iso8601(event.wall_ns)},
                        {"state", core::to_string(event.state)},
                        {"eligible", core::pickable(event.state)}});
  }
  const int64_t ewma = state.latency_ewma_ns.load(std::memory_order_relaxed);
  return json{
      {"address", spec.address},
      {"resolved", spec.resolved.resolved() ? json(address_text(spec.resolved)) : json(nullptr)},
      {"backup", spec.backup},
      {"weight", {{"configured", spec.weight}, {"effective", std::round(effective * 100) / 100}}},
      {"admin_state", to_string(state.admin_state.load(std::memory_order_relaxed))},
      {"eligible", status.eligible()},
      {"reason", status.reason()},
      {"since", events.empty() ? json(nullptr) : json(iso8601(events.back().wall_ns))},
      {"removal_pending", context.removals.pending(name, spec.address)},
      {"health", health_json(now, cluster, state)},
      {"active_connections", state.active_connections.load(std::memory_order_relaxed)},
      {"in_flight", state.in_flight.load(std::memory_order_relaxed)},
      {"requests_total", count(state.picks_total)},
      {"connect_failures_total", count(state.failures_total)},
      {"retries_total", count(stats.retries)},
      {"responses",
       {{"1xx", count(stats.responses[1])},
        {"2xx", count(stats.responses[2])},
        {"3xx", count(stats.responses[3])},
        {"4xx", count(stats.responses[4])},
        {"5xx", count(stats.responses[5])},
        {"other", count(stats.responses[0])}}},
      {"request_rate", std::round(rates.requests_per_second * 100) / 100},
      {"error_rate", std::round(rates.errors_per_second * 100) / 100},
      {"latency_ms",
       {{"ewma", ewma == 0 ? json(nullptr) : json(std::round(ewma / 1e3) / 1e3)},
        {"p50", milliseconds(rates.p50)},
        {"p90", milliseconds(rates.p90)},
        {"p99", milliseconds(rates.p99)}}},
      {"last_hour", last_hour_json(context, now, name, spec.address)},
      {"timeline", std::move(timeline)}};
}

json cluster_json(const Context& context, const Moment& now,
                  const generation::ClusterRuntime& cluster) {
  const core::SnapshotPtr snapshot = cluster.cluster->snapshot();
  const core::ClusterHealthState& health = cluster.cluster->health_state();
  json servers = json::array();
  std::size_t eligible = 0;
  for_each_member(*snapshot, [&](const core::Member& member) {
    json server = server_json(context, now, cluster, member.spec, *member.state);
    if (server["eligible"].get<bool>()) ++eligible;
    servers.push_back(std::move(server));
  });
  return json{{"name", cluster.config.name},
              {"policy", cluster.config.policy},
              {"panic", health.panic.load(std::memory_order_relaxed)},
              {"eligible_servers", eligible},
              {"ejections_total", health.ejections_total.load(std::memory_order_relaxed)},
              {"max_connections_per_server", cluster.config.max_connections_per_server},
              {"servers", std::move(servers)}};
}

}  // namespace fulcrum::admin
