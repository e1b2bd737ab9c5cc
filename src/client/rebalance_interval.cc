#include "client/rebalance_interval.h"

#include <algorithm>

namespace fulcrum::client {

core::Nanos rebalance_interval(std::size_t clients, std::size_t servers, uint64_t random,
                               const RebalanceIntervalOptions& options) {
  core::Nanos low = options.min_interval;
  if (options.jitter_divisor != 0) {
    const auto span = static_cast<uint64_t>(options.min_interval.count()) / options.jitter_divisor;
    if (span != 0) {
      const auto jitter =
          static_cast<uint64_t>((static_cast<unsigned __int128>(random) * span) >> 64);
      low += core::Nanos{static_cast<int64_t>(jitter)};
    }
  }
  if (options.new_connections_per_server == 0 || servers == 0) return low;
  // clients / (rate × servers) seconds, in nanoseconds without overflow for any fleet size.
  const auto rate = static_cast<unsigned __int128>(options.new_connections_per_server) * servers;
  const auto scaled = static_cast<unsigned __int128>(clients) * 1'000'000'000u / rate;
  const auto capped = std::min<unsigned __int128>(scaled, static_cast<uint64_t>(INT64_MAX));
  return std::max(low, core::Nanos{static_cast<int64_t>(capped)});
}

}  // namespace fulcrum::client
