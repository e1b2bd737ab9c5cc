#pragma once

// Per-server counters for metrics and the admin API: responses by status class, retries and a
// fixed-bucket latency histogram. Written on the request path, so everything is a relaxed atomic
// in a fixed array: recording is a few increments, never a lock or an allocation. Readers (the
// admin thread) may see one counter slightly ahead of another; each is exact on its own.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/clock.h"

namespace fulcrum::core {

struct ServerStats {
  /// Upper bounds of the latency buckets in nanoseconds (Prometheus `le`), 0.5 ms to 10 s; one
  /// more bucket past the last bound counts everything slower (+Inf).
  static constexpr std::array<int64_t, 14> kLatencyBoundsNs = {
      500'000,      1'000'000,    2'500'000,    5'000'000,    10'000'000,
      25'000'000,   50'000'000,   100'000'000,  250'000'000,  500'000'000,
      1000'000'000, 2500'000'000, 5000'000'000, 10000'000'000};
  static constexpr std::size_t kLatencyBuckets = kLatencyBoundsNs.size() + 1;
  /// Index 1..5 counts 1xx..5xx; index 0 any status outside 100..599.
  static constexpr std::size_t kStatusClasses = 6;

  std::array<std::atomic<uint64_t>, kStatusClasses> responses{};
  /// Attempts on this server that retried a request first sent to another server (or to this
  /// one on an earlier attempt).
  std::atomic<uint64_t> retries{0};
  /// Per bucket, not cumulative: bucket i counts latencies in (bound[i-1], bound[i]].
  std::array<std::atomic<uint64_t>, kLatencyBuckets> latency_buckets{};
  std::atomic<uint64_t> latency_sum_ns{0};
};

/// Index of the status class counter for `status`.
constexpr std::size_t status_class(int status) {
  return status >= 100 && status <= 599 ? static_cast<std::size_t>(status / 100) : 0;
}

/// Index of the latency bucket `latency` falls in.
constexpr std::size_t latency_bucket(Nanos latency) {
  std::size_t i = 0;
  while (i < ServerStats::kLatencyBoundsNs.size() &&
         latency.count() > ServerStats::kLatencyBoundsNs[i]) {
    ++i;
  }
  return i;
}

/// A final response from the server (not an interim 1xx): `latency` from the start of the
/// attempt to the response head.
inline void record_response(ServerStats& stats, int status, Nanos latency) {
  stats.responses[status_class(status)].fetch_add(1, std::memory_order_relaxed);
  stats.latency_buckets[latency_bucket(latency)].fetch_add(1, std::memory_order_relaxed);
  const int64_t ns = latency.count();
  stats.latency_sum_ns.fetch_add(ns > 0 ? static_cast<uint64_t>(ns) : 0, std::memory_order_relaxed);
}

/// An attempt on this server that is a retry of the same request.
inline void record_retry(ServerStats& stats) {
  stats.retries.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fulcrum::core
