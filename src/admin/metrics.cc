// GET /metrics: per server, cluster and listener counters and gauges, and process figures, in
// the Prometheus text format. The list with meanings is in docs/admin.md.
#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <vector>

#include "admin/handlers.h"
#include "admin/members.h"
#include "admin/prometheus.h"
#include "admin/server_status.h"
#include "core/slow_start.h"

namespace fulcrum::admin {
namespace {

struct Row {
  const generation::ClusterRuntime* cluster;
  core::ServerSpec spec;
  std::shared_ptr<core::ServerState> state;
  ServerStatus status;
};

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // Not counting the descriptor reading the directory.
}

uint64_t max_fds() {
  rlimit limit{};
  return getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 0;
}

uint64_t load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

void server_metrics(PrometheusText& out, const std::vector<Row>& rows, const Context& context,
                    core::Nanos now) {
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out.family(name, type, help);
    for (const Row& r : rows) {
      out.sample(name, {{"cluster", r.cluster->config.name}, {"server", r.spec.address}}, value(r));
    }
  };
  each("fulcrum_server_requests_total", "counter",
       "Attempts sent to the server: first tries and retries.",
       [](const Row& r) { return load(r.state->picks_total); });
  each("fulcrum_server_connect_failures_total", "counter",
       "Connections to the server that failed before it received anything.",
       [](const Row& r) { return load(r.state->failures_total); });
  each("fulcrum_server_retries_total", "counter", "Attempts on the server that retried a request.",
       [](const Row& r) { return load(r.state->stats.retries); });
  each("fulcrum_server_health_transitions_total", "counter",
       "Changes of eligibility seen by the admin thread (sampled every 500 ms).",
       [&](const Row& r) {
         return context.history.transitions(r.cluster->config.name, r.spec.address);
       });
  each("fulcrum_server_active_connections", "gauge", "Connections to the server in use now.",
       [](const Row& r) {
         return static_cast<double>(r.state->active_connections.load(std::memory_order_relaxed));
       });
  each("fulcrum_server_in_flight_requests", "gauge", "Requests the server is working on now.",
       [](const Row& r) {
         return static_cast<double>(r.state->in_flight.load(std::memory_order_relaxed));
       });
  each("fulcrum_server_weight", "gauge", "Configured weight (as changed at run time).",
       [](const Row& r) { return static_cast<double>(r.spec.weight); });
  each("fulcrum_server_effective_weight", "gauge",
       "Weight balanced with now: slow start and agent weight applied, 0 when not eligible.",
       [&](const Row& r) {
         return r.status.eligible()
                    ? core::effective_weight(r.spec, *r.state, now, r.cluster->config.health)
                    : 0.0;
       });
  each("fulcrum_server_eligible", "gauge", "1 when the server may take a new request now.",
       [](const Row& r) { return r.status.eligible() ? 1.0 : 0.0; });
  each("fulcrum_server_ejected", "gauge", "1 while outlier detection has the server ejected.",
       [&](const Row& r) {
         return r.state->ejected_until_ns.load(std::memory_order_relaxed) > now.count() ? 1.0 : 0.0;
       });

  out.family("fulcrum_server_responses_total", "counter", "Responses from the server by class.");
  static constexpr std::string_view kClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const Row& r : rows) {
    for (std::size_t c = 0; c < core::ServerStats::kStatusClasses; ++c) {
      out.sample(
          "fulcrum_server_responses_total",
          {{"cluster", r.cluster->config.name}, {"server", r.spec.address}, {"class", kClasses[c]}},
          load(r.state->stats.responses[c]));
    }
  }
  out.family("fulcrum_server_admin_state", "gauge", "1 for the server's current admin state.");
  static constexpr core::AdminState kStates[] = {
      core::AdminState::kEnabled, core::AdminState::kDraining, core::AdminState::kDisabled};
  for (const Row& r : rows) {
    const core::AdminState current = r.state->admin_state.load(std::memory_order_relaxed);
    for (const core::AdminState s : kStates) {
      out.sample("fulcrum_server_admin_state",
                 {{"cluster", r.cluster->config.name},
                  {"server", r.spec.address},
                  {"state", to_string(s)}},
                 current == s ? 1.0 : 0.0);
    }
  }
  out.family("fulcrum_server_agent_load", "gauge",
             "Load the server's agent last reported (-1..100); absent while unknown.");
  for (const Row& r : rows) {
    const int8_t agent = r.state->agent_load.load(std::memory_order_relaxed);
    if (agent == core::kAgentLoadUnknown) continue;
    out.sample("fulcrum_server_agent_load",
               {{"cluster", r.cluster->config.name}, {"server", r.spec.address}},
               static_cast<double>(agent));
  }
  constexpr std::string_view kLatency = "fulcrum_server_response_latency_seconds";
  out.family(kLatency, "histogram",
             "From connecting (or taking a pooled connection) to the response head.");
  const auto& bounds = core::ServerStats::kLatencyBoundsNs;
  for (const Row& r : rows) {
    const std::string_view cluster = r.cluster->config.name;
    const std::string_view server = r.spec.address;
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < core::ServerStats::kLatencyBuckets; ++i) {
      cumulative += load(r.state->stats.latency_buckets[i]);
      const std::string le =
          i < bounds.size() ? fmt::format("{}", static_cast<double>(bounds[i]) / 1e9) : "+Inf";
      out.bucket("fulcrum_server_response_latency_seconds_bucket",
                 {{"cluster", cluster}, {"server", server}}, le, cumulative);
    }
    out.sample("fulcrum_server_response_latency_seconds_sum",
               {{"cluster", cluster}, {"server", server}},
               static_cast<double>(load(r.state->stats.latency_sum_ns)) / 1e9);
    out.sample("fulcrum_server_response_latency_seconds_count",
               {{"cluster", cluster}, {"server", server}}, cumulative);
  }
}

void cluster_metrics(PrometheusText& out, const std::vector<Row>& rows, Context& context) {
  const auto& clusters = context.runtime->clusters();
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out.family(name, type, help);
    for (const auto& c : clusters) out.sample(name, {{"cluster", c.config.name}}, value(c));
  };
  auto count_servers = [&](const generation::ClusterRuntime& c, bool only_eligible) {
    double n = 0;
    for (const Row& r : rows) n += r.cluster == &c && (!only_eligible || r.status.eligible());
    return n;
  };
  each("fulcrum_cluster_servers", "gauge", "Servers in the cluster.",
       [&](const generation::ClusterRuntime& c) { return count_servers(c, false); });
  each("fulcrum_cluster_eligible_servers", "gauge", "Servers that may take a new request now.",
       [&](const generation::ClusterRuntime& c) { return count_servers(c, true); });
  each("fulcrum_cluster_panic", "gauge",
       "1 while the cluster is in panic mode (balancing over every server).",
       [](const generation::ClusterRuntime& c) {
         return c.cluster->health_state().panic.load(std::memory_order_relaxed) ? 1.0 : 0.0;
       });
  each("fulcrum_cluster_ejections_total", "counter", "Outlier ejections in the cluster.",
       [](const generation::ClusterRuntime& c) {
         return load(c.cluster->health_state().ejections_total);
       });
  each("fulcrum_cluster_panic_entered_total", "counter", "Times the cluster entered panic mode.",
       [](const generation::ClusterRuntime& c) {
         return load(c.cluster->health_state().panic_entered_total);
       });
}

void listener_metrics(PrometheusText& out, generation::Generation& runtime) {
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out.family(name, type, help);
    for (const auto& l : runtime.listeners()) {
      out.sample(name, {{"listener", l->config.name}}, value(*l));
    }
  };
  each("fulcrum_listener_accepted_connections_total", "counter", "Connections accepted.",
       [](const generation::ListenerRuntime& l) { return load(l.accepted_total); });
  each("fulcrum_listener_rejected_connections_total", "counter",
       "Connections closed at once because the listener was at max_connections.",
       [](const generation::ListenerRuntime& l) { return load(l.rejected_total); });
  each("fulcrum_listener_active_connections", "gauge", "Client connections open now.",
       [](const generation::ListenerRuntime& l) {
         return static_cast<double>(l.connections.load(std::memory_order_relaxed));
       });
}

}  // namespace

Response metrics(Context& context) {
  const core::Nanos now = context.clock.now();
  std::vector<Row> rows;
  for (const auto& cluster : context.runtime->clusters()) {
    const core::SnapshotPtr snapshot = cluster.cluster->snapshot();
    for_each_member(*snapshot, [&](const core::Member& member) {
      const ServerStatus status = server_status(cluster, member.spec, *member.state, now);
      rows.push_back(Row{&cluster, member.spec, member.state, status});
    });
  }
  PrometheusText out;
  server_metrics(out, rows, context, now);
  cluster_metrics(out, rows, context);
  listener_metrics(out, *context.runtime);
  out.family("fulcrum_process_resident_memory_bytes", "gauge", "Resident memory size.");
  out.sample("fulcrum_process_resident_memory_bytes", {}, resident_bytes());
  out.family("fulcrum_process_open_fds", "gauge", "Open file descriptors.");
  out.sample("fulcrum_process_open_fds", {}, open_fds());
  out.family("fulcrum_process_max_fds", "gauge", "Limit on open file descriptors.");
  out.sample("fulcrum_process_max_fds", {}, max_fds());
  out.family("fulcrum_process_uptime_seconds", "gauge", "Seconds since the proxy started.");
  out.sample("fulcrum_process_uptime_seconds", {},
             std::chrono::duration<double>(now - context.started).count());
  return Response{.status = 200,
                  .content_type = "text/plain; version=0.0.4; charset=utf-8",
                  .body = out.text()};
}

}  // namespace fulcrum::admin
