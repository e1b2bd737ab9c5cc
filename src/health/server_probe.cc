#include "health/server_probe.h"

#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "agent/answer.h"
#include "core/cluster_health.h"
#include "health/apply_agent_answer.h"
#include "net/endpoint.h"
#include "net/no_throw.h"
#include "tls/client_context.h"

namespace fulcrum::health {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
/// An agent_address that did not resolve is looked up again after this.
constexpr auto kResolveRetry = std::chrono::seconds(30);
/// Agent probes have no jitter setting; this keeps them from marching in step.
constexpr uint32_t kAgentJitterPercent = 10;

/// Where the agent listens: agent_address (resolved once, here, on the health thread) or the
/// server's own address, with the agent port.
std::optional<asio::ip::tcp::endpoint> agent_endpoint(ServerProbe& probe, std::string* error) {
  if (probe.spec.agent_address.empty()) {
    if (!probe.spec.resolved.resolved()) {
      *error = "server address not resolved";
      return std::nullopt;
    }
    auto endpoint = net::to_endpoint(probe.spec.resolved);
    endpoint.port(probe.agent_port);
    return endpoint;
  }
  if (!probe.agent_override) {
    // A lookup blocks this thread: after a failure, wait before trying again rather than stall
    // every other check on each query.
    const auto now = std::chrono::steady_clock::now();
    if (now < probe.agent_retry_resolve) {
      *error = probe.agent_resolve_error;
      return std::nullopt;
    }
    const bool v6 = probe.spec.agent_address.find(':') != std::string::npos;
    const std::string address =
        (v6 ? "[" + probe.spec.agent_address + "]" : probe.spec.agent_address) + ":" +
        std::to_string(probe.agent_port);
    std::string reason;
    const auto resolved = net::resolve_server_address(address, &reason);
    if (!resolved) {
      probe.agent_resolve_error = "cannot resolve " + address + ": " + reason;
      probe.agent_retry_resolve = now + kResolveRetry;
      *error = probe.agent_resolve_error;
      return std::nullopt;
    }
    probe.agent_override = net::to_endpoint(*resolved);
  }
  return probe.agent_override;
}

using TimePoint = asio::steady_timer::time_point;

/// Wake-ups are aligned to this grid: probes due within one slot run in the same turn of the
/// event loop, so 10,000 checks a second cost 200 wake-ups, not 10,000.
constexpr auto kWakeSlot = std::chrono::milliseconds(5);

/// Waits until `due` (rounded up to the slot grid); false when the probe was removed meanwhile.
asio::awaitable<bool> sleep_until(asio::steady_timer& timer, TimePoint due,
                                  const ServerProbe& probe) {
  const auto slot = std::chrono::duration_cast<TimePoint::duration>(kWakeSlot).count();
  const auto since_epoch = due.time_since_epoch().count();
  timer.expires_at(TimePoint(TimePoint::duration((since_epoch + slot - 1) / slot * slot)));
  co_await timer.async_wait(net::kNoThrow);
  co_return !probe.removed;
}

}  // namespace

ServerProbe::ServerProbe(const ClusterHealthConfig& cluster_config, core::ServerSpec server_spec,
                         std::shared_ptr<core::ServerState> server_state)
    : cluster(cluster_config),
      spec(std::move(server_spec)),
      state(std::move(server_state)),
      rise_fall(cluster_config.check.rise, cluster_config.check.fall,
                cluster_config.check.initially_up),
      http(HttpCheck::make(cluster_config.check, spec.address)),
      agent_port(spec.agent_port != 0 ? spec.agent_port : cluster_config.agent.port) {
  http.tls = cluster_config.tls;
  http.tls_host = tls::host_of(spec.address);
}

void ServerProbe::apply_initial_state() {
  if (checks_enabled()) {
    state->check_health.store(rise_fall.up() ? core::CheckHealth::kUp : core::CheckHealth::kDown,
                              kRelaxed);
  }
  if (agent_enabled() && cluster.agent.require_response) {
    state->agent_health.store(core::AgentHealth::kSilent, kRelaxed);
  }
}

void record_check(ServerProbe& probe, const CheckResult& result, ProbeContext& context) {
  context.counters.checks.fetch_add(1, kRelaxed);
  if (!result.ok) {
    context.counters.check_failures.fetch_add(1, kRelaxed);
    probe.last_failure = result.reason;
    SPDLOG_DEBUG("cluster {}: health check of {} failed: {}", probe.cluster.name,
                 probe.spec.address, result.reason);
  }
  const RiseFall::Change change = probe.rise_fall.record(result.ok);
  if (change == RiseFall::Change::kNone) return;
  // Counted and warmed before the verdict is published (release), so whoever sees the new
  // verdict also sees its transition count and warm-up start.
  context.counters.check_transitions.fetch_add(1, kRelaxed);
  if (change == RiseFall::Change::kWentDown) {
    probe.state->check_health.store(core::CheckHealth::kDown, std::memory_order_release);
    spdlog::warn("cluster {}: server {} is down by health checks: {} failed in a row, last: {}",
                 probe.cluster.name, probe.spec.address, probe.cluster.check.fall, result.reason);
    return;
  }
  core::begin_warm_up(*probe.state, context.clock.now(), probe.cluster.options);
  probe.state->check_health.store(core::CheckHealth::kUp, std::memory_order_release);
  spdlog::info("cluster {}: server {} is up by health checks: {} passed in a row",
               probe.cluster.name, probe.spec.address, probe.cluster.check.rise);
}

void record_agent_reply(ServerProbe& probe, const AgentReply& reply, ProbeContext& context) {
  context.counters.agent_queries.fetch_add(1, kRelaxed);
  const std::string& cluster = probe.cluster.name;
  const std::string& server = probe.spec.address;
  AgentOutcome outcome;
  std::string description;
  if (!reply.answered) {
    context.counters.agent_silent.fetch_add(1, kRelaxed);
    if (reply.failure != probe.agent_trouble) {
      spdlog::warn("cluster {}: agent of server {} does not answer: {}{}", cluster, server,
                   reply.failure,
                   probe.cluster.agent.require_response ? " (required: server out)"
                                                        : " (balanced without it)");
      probe.agent_trouble = reply.failure;
    }
    outcome = apply_agent_silence(probe.cluster.agent.require_response, *probe.state);
  } else {
    if (!probe.agent_trouble.empty()) {
      spdlog::info("cluster {}: agent of server {} answers again", cluster, server);
      probe.agent_trouble.clear();
    }
    const agent::ParseResult parsed = agent::parse_agent_answer(reply.text);
    if (!parsed.answer) {
      context.counters.agent_unparseable.fetch_add(1, kRelaxed);
      ++probe.unparseable_answers;
      if (reply.text != probe.last_bad_answer) {
        spdlog::warn("cluster {}: agent of server {} sent an answer that was ignored: {}", cluster,
                     server, parsed.error);
        probe.last_bad_answer = reply.text;
      }
      return;
    }
    probe.last_bad_answer.clear();
    if (parsed.warning != probe.last_warning) {
      if (!parsed.warning.empty()) {
        spdlog::warn("cluster {}: agent of server {}: {}", cluster, server, parsed.warning);
      }
      probe.last_warning = parsed.warning;
    }
    outcome = apply_agent_answer(*parsed.answer, probe.spec.weight, *probe.state);
    description = parsed.answer->description;
  }
  if (outcome.came_back()) {
    core::begin_warm_up(*probe.state, context.clock.now(), probe.cluster.options);
  }
  if (outcome.changed()) {
    spdlog::info("cluster {}: agent of server {}: {} (was {}){}{}", cluster, server,
                 outcome.after.describe(), outcome.before.describe(),
                 description.empty() ? "" : " # ", description);
  }
}

asio::awaitable<void> run_checks(std::shared_ptr<ServerProbe> probe, ProbeContext& context,
                                 core::Nanos first_delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const config::HealthCheckConfig& config = probe->cluster.check;
  const CheckIntervals intervals{config.interval, config.fast_interval, config.down_interval,
                                 config.jitter_percent};
  // In this frame, so that it closes when the loop ends (server removed, service stopped).
  KeptConnection kept;
  KeptConnection* const reuse = config.reuse_connection ? &kept : nullptr;
  TimePoint due = std::chrono::steady_clock::now() + first_delay;
  while (co_await sleep_until(timer, due, *probe)) {
    // The next check is due an interval after this one started, however long this one takes.
    const TimePoint started = std::chrono::steady_clock::now();
    CheckResult result;
    if (!probe->spec.resolved.resolved()) {
      result.reason = "address not resolved";
    } else if (config.type == config::HealthCheckType::kHttp) {
      result = co_await http_check(net::to_endpoint(probe->spec.resolved), probe->http,
                                   config.timeout, reuse);
    } else {
      result = co_await tcp_check(net::to_endpoint(probe->spec.resolved), config.timeout);
    }
    if (probe->removed) co_return;
    record_check(*probe, result, context);
    const core::ServerState& state = *probe->state;
    const bool passive_trouble = state.consecutive_failures.load(kRelaxed) > 0 ||
                                 state.consecutive_5xx.load(kRelaxed) > 0 ||
                                 state.consecutive_gateway_errors.load(kRelaxed) > 0;
    due = started + jittered(next_interval(intervals, probe->rise_fall, passive_trouble),
                             config.jitter_percent, context.rng.next());
  }
}

asio::awaitable<void> run_agent(std::shared_ptr<ServerProbe> probe, ProbeContext& context,
                                core::Nanos first_delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const config::AgentConfig& config = probe->cluster.agent;
  TimePoint due = std::chrono::steady_clock::now() + first_delay;
  while (co_await sleep_until(timer, due, *probe)) {
    const TimePoint started = std::chrono::steady_clock::now();
    std::string error;
    AgentReply reply;
    if (const auto endpoint = agent_endpoint(*probe, &error)) {
      // Over TLS, the agent's certificate is checked for the host it was reached by.
      const tls::ClientTlsContext* tls = config.tls ? probe->cluster.tls.get() : nullptr;
      const std::string& host =
          probe->spec.agent_address.empty() ? probe->http.tls_host : probe->spec.agent_address;
      reply = co_await query_agent(*endpoint, config.send, config.timeout, tls, host);
    } else {
      reply.failure = error;
    }
    if (probe->removed) co_return;
    record_agent_reply(*probe, reply, context);
    due = started + jittered(config.interval, kAgentJitterPercent, context.rng.next());
  }
}

}  // namespace fulcrum::health
