#include "core/outlier.h"

#include <algorithm>
#include <atomic>

#include "core/eligibility.h"

namespace fulcrum::core {

namespace {

// A sweep returning the server between our read and our write makes us start over; twice is
// plenty.
constexpr int kEjectRounds = 3;

/// Any member of the cluster other than `self` eligible now (ignoring panic: this asks whether
/// ejecting `self` would leave the cluster with nothing it trusts).
bool another_eligible(const ClusterSnapshot& cluster, const ServerState& self, Nanos now) {
  for (const Tier& tier : cluster.tiers) {
    for (const Member& m : tier.members) {
      if (m.state.get() != &self && pickable(evaluate(m.spec, *m.state, cluster.passive, now))) {
        return true;
      }
    }
  }
  return false;
}

/// Takes one ejection slot unless the cluster is at its cap: allowed while fewer than
/// max_percent of `total` servers are ejected.
bool reserve_slot(ClusterHealthState& health, uint32_t max_percent, std::size_t total) {
  uint32_t current = health.ejected.load(std::memory_order_relaxed);
  do {
    if (uint64_t{current} * 100 >= uint64_t{max_percent} * total) return false;
  } while (!health.ejected.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

Nanos ejection_time(const OutlierOptions& options, uint32_t times) {
  const int64_t base = std::max<int64_t>(options.base_ejection_time.count(), 0);
  const int64_t cap =
      options.max_ejection_time.count() > 0 ? options.max_ejection_time.count() : INT64_MAX / 2;
  const auto wanted = static_cast<__int128>(base) * times;
  return Nanos{static_cast<int64_t>(std::min<__int128>(wanted, cap))};
}

void reset_run(std::atomic<uint32_t>& run) {
  // Avoid dirtying a shared cache line on the common path where nothing failed.
  if (run.load(std::memory_order_relaxed) != 0) run.store(0, std::memory_order_relaxed);
}

EjectionResult try_eject(ServerState& state, EjectionResult result, const ClusterSnapshot& cluster,
                         Nanos now) {
  const OutlierOptions& options = cluster.health.outlier;
  ClusterHealthState& health = *cluster.health_state;
  for (int round = 0; round < kEjectRounds; ++round) {
    int64_t until = state.ejected_until_ns.load(std::memory_order_acquire);
    if (until == kEjectionRetired) return {};  // Left the cluster; nothing to eject.
    if (until > now.count()) {
      result.outcome = EjectionOutcome::kAlreadyEjected;
      return result;
    }
    const bool holds_slot = until != 0;  // Ejection over, not yet returned by the sweep.
    if (!holds_slot && !reserve_slot(health, options.max_ejection_percent, cluster.size())) {
      result.outcome = EjectionOutcome::kCapReached;
      return result;
    }
    auto release = [&] {
      if (!holds_slot) health.ejected.fetch_sub(1, std::memory_order_relaxed);
    };
    if (!another_eligible(cluster, state, now)) {
      release();
      result.outcome = EjectionOutcome::kLastEligible;
      return result;
    }
    const uint32_t times = state.times_ejected.fetch_add(1, std::memory_order_relaxed) + 1;
    const Nanos duration = ejection_time(options, times);
    const int64_t ejected_until = now.count() + duration.count();
    if (!state.ejected_until_ns.compare_exchange_strong(until, ejected_until,
                                                        std::memory_order_acq_rel)) {
      state.times_ejected.fetch_sub(1, std::memory_order_relaxed);
      release();
      continue;  // Returned, ejected or retired meanwhile: look again.
    }
    // Two servers ejected at once must not both have been "not the last": each publishes its
    // ejection, then passes through one shared read-modify-write, then looks at the others. The
    // one passing second synchronises with the first, so it sees the first one's ejection. (An
    // RMW rather than a fence: ThreadSanitizer does not model fences.)
    health.ejection_order.fetch_add(1, std::memory_order_acq_rel);
    if (!another_eligible(cluster, state, now)) {
      int64_t mine = ejected_until;
      if (state.ejected_until_ns.compare_exchange_strong(mine, until, std::memory_order_acq_rel)) {
        state.times_ejected.fetch_sub(1, std::memory_order_relaxed);
        release();
      }  // Else retired meanwhile, which freed the slot.
      result.outcome = EjectionOutcome::kLastEligible;
      return result;
    }
    health.ejections_total.fetch_add(1, std::memory_order_relaxed);
    // The ramp starts when the ejection ends, whenever the sweep notices.
    if (cluster.health.slow_start.count() > 0) {
      state.warming_since_ns.store(ejected_until, std::memory_order_relaxed);
    }
    result.outcome = EjectionOutcome::kEjected;
    result.times_ejected = times;
    result.duration = duration;
    return result;
  }
  result.outcome = EjectionOutcome::kAlreadyEjected;
  return result;
}

}  // namespace

std::string_view to_string(EjectionTrigger trigger) {
  switch (trigger) {
    case EjectionTrigger::kNone:
      return "none";
    case EjectionTrigger::kConsecutive5xx:
      return "consecutive 5xx";
    case EjectionTrigger::kConsecutiveGatewayErrors:
      return "consecutive gateway errors";
  }
  return "unknown";
}

std::string_view to_string(EjectionOutcome outcome) {
  switch (outcome) {
    case EjectionOutcome::kNotTriggered:
      return "not triggered";
    case EjectionOutcome::kEjected:
      return "ejected";
    case EjectionOutcome::kAlreadyEjected:
      return "already ejected";
    case EjectionOutcome::kCapReached:
      return "not ejected: max_ejection_percent reached";
    case EjectionOutcome::kLastEligible:
      return "not ejected: last eligible server";
  }
  return "unknown";
}

EjectionResult on_response(ServerState& state, int status, const ClusterSnapshot& cluster,
                           Nanos now) {
  const OutlierOptions& options = cluster.health.outlier;
  if (!options.enabled) return {};
  if (status < 500 || status > 599) {
    reset_run(state.consecutive_5xx);
    reset_run(state.consecutive_gateway_errors);
    return {};
  }
  // As Envoy: a 5xx that is not a gateway error ends the gateway-error run; a threshold fires
  // when a run reaches it exactly, so concurrent reports of one run make one attempt.
  const bool gateway = status == 502 || status == 503 || status == 504;
  uint32_t gateway_run = 0;
  if (gateway) {
    gateway_run = state.consecutive_gateway_errors.fetch_add(1, std::memory_order_relaxed) + 1;
  } else {
    reset_run(state.consecutive_gateway_errors);
  }
  const uint32_t run_5xx = state.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;

  EjectionResult result;
  if (options.consecutive_gateway_errors != 0 &&
      gateway_run == options.consecutive_gateway_errors) {
    result.trigger = EjectionTrigger::kConsecutiveGatewayErrors;
    result.consecutive = gateway_run;
  } else if (options.consecutive_5xx != 0 && run_5xx == options.consecutive_5xx) {
    result.trigger = EjectionTrigger::kConsecutive5xx;
    result.consecutive = run_5xx;
  } else {
    return result;
  }
  result = try_eject(state, result, cluster, now);
  // Both runs restart, ejected or not, so a refused ejection is tried again after a fresh run
  // rather than on every further error (and a run past its threshold cannot be left stranded).
  reset_run(state.consecutive_5xx);
  reset_run(state.consecutive_gateway_errors);
  return result;
}

void retire(ServerState& state, ClusterHealthState& health) {
  if (state.ejected_until_ns.exchange(kEjectionRetired, std::memory_order_acq_rel) > 0) {
    health.ejected.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool end_ejection_if_over(ServerState& state, ClusterHealthState& health, Nanos now) {
  int64_t until = state.ejected_until_ns.load(std::memory_order_acquire);
  if (until <= 0 || until > now.count()) return false;
  if (!state.ejected_until_ns.compare_exchange_strong(until, 0, std::memory_order_acq_rel)) {
    return false;
  }
  health.ejected.fetch_sub(1, std::memory_order_relaxed);
  health.returns_total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace fulcrum::core
