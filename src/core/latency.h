#pragma once

// Per-server latency estimates for least_latency: Peak-EWMA with a decay time, as Finagle's and
// Linkerd's balancers keep them. A sample above the estimate replaces it at once (the peak: a
// server that slows down is avoided immediately); one below it moves the estimate 1/8 of the way
// (TCP's SRTT gain). Between samples the estimate decays towards the cluster's typical latency
// (an EWMA over all servers' samples), so one slow reading cannot starve a server forever: an
// estimate nobody refreshes drifts back to typical, the server is tried again and earns a fresh
// sample. A server that really is slower keeps paying its peak on every such sample, so it still
// gets clearly less.
//
// Decay time: 10 typical response times, at least 1 ms and at most 10 s. Finagle and Linkerd
// use a fixed 10 s, fine for RPC services answering in tens of milliseconds at modest rates; for a
// service answering in 1 ms, 10 s means 10,000 requests go past a server that had one slow
// reading. Measured in the cluster's own response times, a stale estimate is forgotten after a
// similar number of requests whatever the service's speed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "core/clock.h"
#include "core/cluster_health.h"
#include "core/server.h"

namespace fulcrum::core {

inline constexpr int kLatencyEwmaShift = 3;     ///< A sample below the estimate counts 1/8.
inline constexpr int kTypicalLatencyShift = 4;  ///< Each sample counts 1/16 in the typical.
inline constexpr int64_t kDecayTypicals = 10;
inline constexpr Nanos kMinLatencyDecay = std::chrono::milliseconds(1);
inline constexpr Nanos kMaxLatencyDecay = std::chrono::seconds(10);

/// How long a stale estimate takes to close 63 % (1 - 1/e) of its gap to `typical_ns`.
inline int64_t latency_decay_ns(int64_t typical_ns) {
  return std::clamp(typical_ns * kDecayTypicals, int64_t{kMinLatencyDecay.count()},
                    int64_t{kMaxLatencyDecay.count()});
}

/// The server's estimate at `now`, decayed towards `typical_ns` since its last sample; 0 when it
/// has no sample yet.
inline int64_t latency_estimate(const ServerState& state, Nanos now, int64_t typical_ns) {
  const int64_t raw = state.latency_ewma_ns.load(std::memory_order_relaxed);
  if (raw <= 0) return 0;
  const int64_t age = now.count() - state.latency_sampled_ns.load(std::memory_order_relaxed);
  if (age <= 0 || raw == typical_ns) return raw;
  const double x = static_cast<double>(age) / static_cast<double>(latency_decay_ns(typical_ns));
  if (x >= 16) return std::max<int64_t>(typical_ns, 1);  // e^-16: nothing left of the gap.
  const double gap = static_cast<double>(raw - typical_ns) * std::exp(-x);
  return std::max<int64_t>(typical_ns + static_cast<int64_t>(gap), 1);
}

/// The cluster's typical latency, 0 before any sample.
inline int64_t typical_latency(const ClusterHealthState* cluster) {
  return cluster == nullptr ? 0 : cluster->typical_latency_ns.load(std::memory_order_relaxed);
}

/// Folds a response-head latency sample into the server's estimate and the cluster's typical
/// latency (`cluster` may be null). Lost updates under contention drop one sample of a smoothed
/// value, which is fine.
inline void record_latency(ServerState& state, ClusterHealthState* cluster, Nanos latency,
                           Nanos now) {
  const int64_t sample = std::max<int64_t>(latency.count(), 1);
  const int64_t typical = typical_latency(cluster);
  const int64_t current = latency_estimate(state, now, typical);
  const int64_t updated = current == 0 || sample > current
                              ? sample
                              : current + ((sample - current) >> kLatencyEwmaShift);
  state.latency_ewma_ns.store(std::max<int64_t>(updated, 1), std::memory_order_relaxed);
  state.latency_sampled_ns.store(now.count(), std::memory_order_relaxed);
  if (cluster != nullptr) {
    const int64_t t =
        typical == 0 ? sample : typical + ((sample - typical) >> kTypicalLatencyShift);
    if (t != typical) cluster->typical_latency_ns.store(t, std::memory_order_relaxed);
  }
}

}  // namespace fulcrum::core
