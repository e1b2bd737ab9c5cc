#pragma once

// Cluster-wide health: panic mode, the ejection count that outlier ejection's cap is enforced
// on, and the periodic sweep that keeps both current.
//
// Panic (Envoy's panic threshold, HAProxy has none): when fewer than panic_threshold percent of
// a cluster's servers are healthy, eligibility ignores what Fulcrum inferred from probes (active
// checks, shared health, a silent agent, outlier ejection) so the load spreads over those servers
// too instead of crushing the survivors. It never lifts passive tracking's offline period (real
// connections failed; see eligibility.h). It is decided by the sweep, never on the request path,
// and read by each pick as one relaxed load.
//
// What counts. A server the operator took out or that said it is out (drain, maint, -1, down,
// weight 0) is neither healthy nor unhealthy, so draining half a cluster for maintenance does not
// cause panic. Every other server counts; healthy: eligible now (a server at its agent's maxconn
// is healthy, just busy). A passively offline server counts as unhealthy even though panic cannot
// bring it back: the survivors carry its share all the same, and that load is what panic is
// about (Envoy too counts every host that is not excluded, whatever made it unhealthy). Panic
// then lifts what it can. The ratio is over the primary servers:
// backups stand in for primaries that are all gone (the normal tier fallback), so while no
// primary is healthy and a backup is, the cluster is not in panic - the backups serve, as
// Envoy spills over to a lower priority before panicking. A cluster without primaries is
// judged on its backups.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/health_options.h"
#include "core/server.h"

namespace fulcrum::core {

struct ClusterSnapshot;

/// Mutable health facts of one cluster, shared by the Cluster and every snapshot it publishes
/// (so a reader holding an old snapshot sees the same panic flag and ejection count).
struct ClusterHealthState {
  std::atomic<bool> panic{false};
  /// Servers currently holding an ejection slot (outlier.h): ejected, or ejection time over but
  /// not yet returned by the sweep.
  std::atomic<uint32_t> ejected{0};
  std::atomic<uint64_t> panic_entered_total{0};
  std::atomic<uint64_t> ejections_total{0};
  std::atomic<uint64_t> returns_total{0};
  /// As of the last sweep, for stats: servers counted for panic (not out by the operator's or
  /// their own word), and how many are healthy.
  std::atomic<uint32_t> considered{0};
  std::atomic<uint32_t> healthy{0};
  /// Orders concurrent ejections so they cannot both remove the last eligible server (outlier.cc).
  std::atomic<uint64_t> ejection_order{0};
  /// Next time the sweep lowers times_ejected of servers in service (see sweep()).
  std::atomic<int64_t> next_decay_ns{0};
  /// The cluster's typical response-head latency: an EWMA over every server's samples, which
  /// least_latency lets a stale per-server estimate decay towards (latency.h). 0: no sample yet.
  /// On its own cache line: written by every worker's successes, while `panic` is read by every
  /// pick.
  alignas(64) std::atomic<int64_t> typical_latency_ns{0};
};

/// A server whose ejection time is over, returned to service by the sweep.
struct ReturnedServer {
  std::string address;
  uint32_t times_ejected = 0;  ///< Including the ejection that just ended.
};

struct SweepResult {
  bool panic = false;
  bool panic_changed = false;  ///< Entered or left panic in this sweep.
  uint32_t considered = 0;     ///< As ClusterHealthState::considered.
  uint32_t healthy = 0;
  std::vector<ReturnedServer> returned;
};

/// Recommended period between sweeps: panic and returns are at most this late.
inline constexpr Nanos kSweepPeriod{250'000'000};

/// Off the request path, every kSweepPeriod or so, per cluster, from one thread at a time
/// (concurrent sweeps of one cluster are safe, just wasteful). Returns servers whose ejection is
/// over (their slow start began when the ejection ended), clears finished slow starts, lowers
/// every in-service server's times_ejected by one each base_ejection_time (as Envoy decays its
/// ejection multiplier, so a server that behaves again is back to short ejections), and
/// recomputes panic. The caller logs result.returned and panic changes.
SweepResult sweep(const ClusterSnapshot& snapshot, Nanos now);

/// Slow start for a server coming back into service (checks up, agent back from -1 / down /
/// maint / drain, admin enable): its effective weight ramps from 10% to 100% over
/// options.slow_start. No-op when slow start is off.
void begin_warm_up(ServerState& state, Nanos now, const HealthOptions& options);

}  // namespace fulcrum::core
