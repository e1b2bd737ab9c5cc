#pragma once

// What the admin thread remembers about each server between requests: recent counter samples
// (for request and error rates and latency percentiles over the last ten seconds), requests and
// errors per wall-clock minute over the last hour (the status page's history column), and a
// timeline of eligibility changes over the last hour. Sampled on the admin thread only, from the
// servers' atomics, so the request path does nothing extra for it. Not thread-safe: one admin
// thread.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "admin/time_format.h"
#include "core/server_stats.h"
#include "generation/generation.h"

namespace fulcrum::admin {

using LatencyCounts = std::array<uint64_t, core::ServerStats::kLatencyBuckets>;

/// The latency below which a fraction `q` (0..1) of the counted responses fell, in seconds,
/// interpolated linearly within its bucket; nullopt when nothing was counted.
std::optional<double> latency_quantile(const LatencyCounts& counts, double q);

class History {
 public:
  static constexpr core::Nanos kPeriod{500'000'000};
  static constexpr std::size_t kSamples = 21;  ///< kPeriod apart: a ten-second window.
  static constexpr int64_t kTimelineSpanNs = int64_t{3600} * 1'000'000'000;
  static constexpr std::size_t kMaxEvents = 240;
  static constexpr int64_t kMinuteNs = int64_t{60} * 1'000'000'000;
  static constexpr std::size_t kMinutes = 60;  ///< One-minute buckets: the last hour.

  struct Event {
    int64_t wall_ns = 0;
    core::Eligibility state = core::Eligibility::kEligible;
  };

  struct Rates {
    double requests_per_second = 0;
    double errors_per_second = 0;         ///< Connect failures and 5xx responses.
    std::optional<double> p50, p90, p99;  ///< Seconds.
  };

  /// Requests and errors counted in one wall-clock minute; unknown for minutes before the
  /// server was first sampled (the admin thread was not watching it yet).
  struct Minute {
    int64_t start_wall_ns = 0;
    bool known = false;
    uint64_t requests = 0;
    uint64_t errors = 0;  ///< Connect failures and 5xx responses, as in Rates.
  };

  /// Reads every server of every cluster; drops what it kept for servers no longer listed.
  void sample(const std::vector<generation::ClusterRuntime>& clusters, const Moment& now);

  /// Over the samples kept (nothing before two samples).
  Rates rates(std::string_view cluster, std::string_view address) const;
  /// Oldest first; empty for a server not sampled yet.
  const std::deque<Event>& timeline(std::string_view cluster, std::string_view address) const;
  /// The kMinutes minutes up to and including the one holding `wall_ns`, oldest first (the
  /// last one is still being counted); all unknown for a server not sampled yet.
  std::array<Minute, kMinutes> last_hour(std::string_view cluster, std::string_view address,
                                         int64_t wall_ns) const;
  /// Eligibility changes seen since the server was first sampled.
  uint64_t transitions(std::string_view cluster, std::string_view address) const;

 private:
  struct Sample {
    core::Nanos at{0};
    uint64_t requests = 0;
    uint64_t errors = 0;
    LatencyCounts latency{};
  };
  struct MinuteCounts {
    int64_t minute = -1;  ///< wall_ns / kMinuteNs of what the counts hold; -1: nothing yet.
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  struct Entry {
    std::array<Sample, kSamples> ring{};
    /// Indexed by minute % kMinutes: fixed memory, a slot is reused an hour later.
    std::array<MinuteCounts, kMinutes> minutes{};
    int64_t first_minute = -1;  ///< The minute of the first sample.
    std::size_t count = 0;      ///< Samples held, up to kSamples.
    std::size_t next = 0;       ///< Where the next sample goes.
    std::deque<Event> timeline;
    uint64_t transitions = 0;
    uint64_t generation = 0;                   ///< Of the last sample() that saw the server.
    const core::ServerState* state = nullptr;  ///< Identity only, never dereferenced.
  };

  /// Adds what happened between the last two samples to the minute of the newer one.
  static void count_minute(Entry& entry, int64_t wall_ns, uint64_t requests, uint64_t errors);
  static std::string key(std::string_view cluster, std::string_view address);
  const Entry* find(std::string_view cluster, std::string_view address) const;

  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;
};

}  // namespace fulcrum::admin
