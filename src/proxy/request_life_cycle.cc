#include "proxy/request_life_cycle.h"

#include <spdlog/spdlog.h>

#include "core/outlier.h"
#include "core/server_stats.h"
#include "net/endpoint.h"
#include "proxy/worker.h"

namespace fulcrum::proxy {

RequestLifeCycle::RequestLifeCycle(generation::ClusterRuntime& cluster, Worker& worker,
                                   std::optional<uint64_t> hash_key, bool replayable,
                                   Traffic traffic)
    : cluster_(cluster),
      worker_(worker),
      tries_(cluster.reader(worker.index()).current(), worker.clock(), worker.rng(),
             cluster.config.retries + 1, hash_key),
      replayable_(replayable),
      traffic_(traffic) {}

bool RequestLifeCycle::next_attempt() {
  if (reconnect_) {
    // The retry rule's exception: a pooled connection the server had closed is no failure of
    // the server; the same server gets the request once more, on a fresh connection.
    reconnect_ = false;
    attempt_.pooled = false;
    attempt_.fresh = true;
    attempt_.start = worker_.clock().now();
    return true;
  }
  for (core::Pick pick = tries_.next(); pick; pick = tries_.next()) {
    UpstreamPool::Slot* slot = nullptr;
    if (!admit(pick, slot)) continue;
    attempt_ = Attempt{.pick = pick, .slot = slot};
    if (traffic_ == Traffic::kHttpRequest) {
      if (attempted_) {
        ++retries_;
        core::record_retry(pick.state().stats);
      }
      attempt_.load = core::LoadGuard(tries_.snapshot(), pick, core::LoadKind::kConnection);
    }
    attempted_ = true;
    attempt_.start = worker_.clock().now();
    return true;
  }
  return false;
}

bool RequestLifeCycle::admit(const core::Pick& pick, UpstreamPool::Slot*& slot) {
  upstream_ = pick.member->spec.address;  // Named by a timeout's answer even if left out.
  const uint32_t max_per_server = cluster_.config.max_connections_per_server;
  if (traffic_ == Traffic::kHttpRequest && max_per_server != 0 &&
      pick.state().active_connections.load(std::memory_order_relaxed) >=
          static_cast<int32_t>(max_per_server)) {
    limited_ = true;
    return false;
  }
  const core::NetAddress& address = pick.member->spec.resolved;
  if (!address.resolved()) {
    tries_.report_failure(pick, core::FailureCause::kNameLookup);
    return false;
  }
  if (traffic_ == Traffic::kHttpRequest) slot = &worker_.pool().slot(pick.member->state, address);
  return true;
}

std::optional<tls::Stream> RequestLifeCycle::take_pooled() {
  if (!replayable_ || attempt_.fresh || attempt_.slot == nullptr) return std::nullopt;
  std::optional<tls::Stream> stream =
      worker_.pool().take(*attempt_.slot, attempt_.start, cluster_.config.timeouts.idle);
  attempt_.pooled = stream.has_value();
  return stream;
}

net::ConnectTarget RequestLifeCycle::connect_target() const {
  const core::ServerSpec& server = attempt_.pick.member->spec;
  return {.endpoint = net::to_endpoint(server.resolved),
          .server = server.address,
          .cluster = cluster_.config.name,
          .tls = cluster_.tls.get(),
          .timeout = cluster_.config.timeouts.connect};
}

void RequestLifeCycle::connect_failed(core::FailureCause cause) {
  tries_.report_failure(attempt_.pick, cause);
  attempt_.load.release();
  timeout_counted_ = false;
}

void RequestLifeCycle::connected() {
  tries_.report_success(attempt_.pick, worker_.clock().now() - attempt_.start);
  attempt_.load = core::LoadGuard(tries_.snapshot(), attempt_.pick, core::LoadKind::kConnection);
}

void RequestLifeCycle::responded(int status) {
  upstream_time_ = worker_.clock().now() - attempt_.start;
  tries_.report_success(attempt_.pick, upstream_time_);
  core::record_response(attempt_.pick.state().stats, status, upstream_time_);
  note_status(status);
}

void RequestLifeCycle::release(tls::Stream& upstream, bool reusable) {
  if (reusable && !worker_.draining()) {
    worker_.pool().give_back(*attempt_.slot, std::move(upstream), worker_.clock().now(),
                             cluster_.config.max_idle_per_server, cluster_.config.timeouts.idle);
  } else {
    std::error_code ignored;
    upstream.socket().close(ignored);
  }
}

Next RequestLifeCycle::ended(AttemptEnd end) {
  if (end == AttemptEnd::kClosedBeforeResponse && attempt_.pooled) {
    reconnect_ = true;  // Passive tracking records nothing: see next_attempt().
    return Next::kRetry;
  }
  // What failed after the request was sent: passive tracking counts it if the cluster's
  // passive.count lists its kind, and the request goes to the next server only if retry_on
  // lists it and the request may be replayed. An HTTP status never gets here.
  timeout_counted_ = false;
  Next next = Next::kStop;
  if (end == AttemptEnd::kResponseTimeout) {
    tries_.report_failure(attempt_.pick, core::FailureCause::kResponseTimeout);
    if (replays_after(core::FailureKind::kResponseTimeout)) {
      // As nginx (proxy_next_upstream timeout) and HAProxy (retry-on response-timeout): the
      // client has had no byte of a response yet. Outlier ejection sees a gateway error.
      note_status(504);
      timeout_counted_ = true;
      next = Next::kRetry;
    }
  } else if (end == AttemptEnd::kClosedBeforeResponse) {
    // The server took bytes and closed without answering: a replay must be safe.
    tries_.report_failure(attempt_.pick, core::FailureCause::kClosedBeforeResponse);
    next =
        replays_after(core::FailureKind::kResetBeforeResponse) ? Next::kRetry : Next::kUnanswered;
  }
  attempt_.load.release();
  return next;
}

void RequestLifeCycle::timed_out() {
  if (!timeout_counted_) note_status(504);
}

bool RequestLifeCycle::replays_after(core::FailureKind kind) const {
  return replayable_ && cluster_.config.retry_on.contains(kind);
}

void RequestLifeCycle::note_status(int status) {
  const core::EjectionResult result = tries_.report_response(attempt_.pick, status);
  if (result.outcome == core::EjectionOutcome::kNotTriggered) return;
  const std::string_view cluster = cluster_.config.name;
  if (result.ejected()) {
    spdlog::warn("cluster {}: server {} ejected for {} ms after {} {} (ejected {} times)", cluster,
                 upstream_, result.duration.count() / 1'000'000, result.consecutive,
                 core::to_string(result.trigger), result.times_ejected);
  } else {
    spdlog::info("cluster {}: server {} reached {} {} but stays: {}", cluster, upstream_,
                 result.consecutive, core::to_string(result.trigger),
                 core::to_string(result.outcome));
  }
}

}  // namespace fulcrum::proxy
