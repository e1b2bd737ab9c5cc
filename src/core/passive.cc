#include "core/passive.h"

#include "core/latency.h"

namespace fulcrum::core {

PassiveStatus passive_status(const ServerState& state, const PassiveOptions& options, Nanos now) {
  if (!options.enabled()) return PassiveStatus::kOnline;
  if (state.consecutive_failures.load(std::memory_order_relaxed) < options.attempts) {
    return PassiveStatus::kOnline;
  }
  if (now < offline_until(state, options)) return PassiveStatus::kOffline;
  return state.trial_in_progress.load(std::memory_order_relaxed) ? PassiveStatus::kTrialBusy
                                                                 : PassiveStatus::kTrialAvailable;
}

void record_failure(ServerState& state, const PassiveOptions& options, FailureKind kind,
                    Nanos now) {
  if (kind == FailureKind::kConnectFailure) {
    state.failures_total.fetch_add(1, std::memory_order_relaxed);
  }
  if (!options.enabled() || !options.count.contains(kind)) return;
  // Timestamp first: a reader that sees the new count must not pair it with an old timestamp and
  // judge the offline period already over.
  state.last_failure_ns.store(now.count(), std::memory_order_relaxed);
  state.consecutive_failures.fetch_add(1, std::memory_order_release);
  state.trial_in_progress.store(false, std::memory_order_relaxed);
}

void record_success(ServerState& state, Nanos latency, Nanos now, ClusterHealthState* cluster) {
  // Avoid dirtying shared cache lines on the common path where nothing failed.
  if (state.consecutive_failures.load(std::memory_order_relaxed) != 0) {
    state.consecutive_failures.store(0, std::memory_order_relaxed);
    state.last_failure_ns.store(0, std::memory_order_relaxed);
  }
  if (state.trial_in_progress.load(std::memory_order_relaxed)) {
    state.trial_in_progress.store(false, std::memory_order_relaxed);
  }
  record_latency(state, cluster, latency, now);
}

}  // namespace fulcrum::core
