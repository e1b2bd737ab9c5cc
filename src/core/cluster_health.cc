#include "core/cluster_health.h"

#include <array>

#include "core/cluster.h"
#include "core/eligibility.h"
#include "core/outlier.h"

namespace fulcrum::core {

namespace {

struct TierCount {
  uint32_t considered = 0;  // Servers not out by the operator's or their own word.
  uint32_t healthy = 0;
};

void count(TierCount& tier, Eligibility e) {
  // A server at its agent's maxconn is healthy, only busy; a trial is still passively offline,
  // and passively offline is unhealthy though panic cannot lift it (cluster_health.h).
  if (e == Eligibility::kEligible || e == Eligibility::kAgentMaxconn) {
    ++tier.considered;
    ++tier.healthy;
  } else if (inferred(e) || passively_offline(e) || e == Eligibility::kTrial) {
    ++tier.considered;
  }  // Else out by the operator's or the server's own word: not panic's business.
}

void finish_warm_up(ServerState& state, Nanos now, const HealthOptions& options) {
  int64_t since = state.warming_since_ns.load(std::memory_order_relaxed);
  if (since == 0 || now.count() - since < options.slow_start.count()) return;
  // CAS: a warm-up begun meanwhile (the server went out and came back) must not be lost.
  state.warming_since_ns.compare_exchange_strong(since, 0, std::memory_order_relaxed);
}

void decay_times_ejected(ServerState& state) {
  if (state.ejected_until_ns.load(std::memory_order_relaxed) != 0) return;
  uint32_t times = state.times_ejected.load(std::memory_order_relaxed);
  while (times > 0 &&
         !state.times_ejected.compare_exchange_weak(times, times - 1, std::memory_order_relaxed)) {
  }
}

/// True once per base_ejection_time: the sweep then decays times_ejected.
bool decay_due(ClusterHealthState& health, const OutlierOptions& outlier, Nanos now) {
  const int64_t period = outlier.base_ejection_time.count();
  if (!outlier.enabled || period <= 0) return false;
  int64_t next = health.next_decay_ns.load(std::memory_order_relaxed);
  if (next == 0) {  // First sweep: start the clock.
    health.next_decay_ns.compare_exchange_strong(next, now.count() + period);
    return false;
  }
  return now.count() >= next &&
         health.next_decay_ns.compare_exchange_strong(next, now.count() + period);
}

}  // namespace

SweepResult sweep(const ClusterSnapshot& snapshot, Nanos now) {
  SweepResult result;
  ClusterHealthState& health = *snapshot.health_state;
  const HealthOptions& options = snapshot.health;
  const bool decay = decay_due(health, options.outlier, now);
  std::array<TierCount, 2> tiers;
  for (std::size_t kind = 0; kind < snapshot.tiers.size(); ++kind) {
    for (const Member& m : snapshot.tiers[kind].members) {
      ServerState& state = *m.state;
      if (end_ejection_if_over(state, health, now)) {
        result.returned.push_back(
            {state.address(), state.times_ejected.load(std::memory_order_relaxed)});
      } else if (decay) {
        decay_times_ejected(state);  // As Envoy: a returning server does not decay that tick.
      }
      finish_warm_up(state, now, options);
      count(tiers[kind], evaluate(m.spec, state, snapshot.passive, now));
    }
  }

  const TierCount& primary = tiers[static_cast<std::size_t>(TierKind::kPrimary)];
  const TierCount& backup = tiers[static_cast<std::size_t>(TierKind::kBackup)];
  const TierCount& judged = primary.considered > 0 ? primary : backup;
  bool panic =
      options.panic_threshold > 0 && judged.considered > 0 &&
      uint64_t{judged.healthy} * 100 < uint64_t{options.panic_threshold} * judged.considered;
  // No healthy primary but a healthy backup: the tier fallback serves, no need to panic.
  if (&judged == &primary && primary.healthy == 0 && backup.healthy > 0) panic = false;

  result.panic = panic;
  result.considered = judged.considered;
  result.healthy = judged.healthy;
  health.considered.store(judged.considered, std::memory_order_relaxed);
  health.healthy.store(judged.healthy, std::memory_order_relaxed);
  if (health.panic.exchange(panic, std::memory_order_relaxed) != panic) {
    result.panic_changed = true;
    if (panic) health.panic_entered_total.fetch_add(1, std::memory_order_relaxed);
  }
  return result;
}

void begin_warm_up(ServerState& state, Nanos now, const HealthOptions& options) {
  if (options.slow_start.count() <= 0) return;
  // 0 means "not warming", so a clock reading of exactly 0 is nudged.
  state.warming_since_ns.store(now.count() != 0 ? now.count() : 1, std::memory_order_relaxed);
}

}  // namespace fulcrum::core
