#pragma once

// How often a ServerManager reshuffles its servers (rebalancing, after Consul's client).
//
//   interval = max(min_interval + jitter, clients / (new_connections_per_server × servers) s)
//   jitter   = uniform in [0, min_interval / jitter_divisor)
//
// Each rebalance moves a client to (probably) another server: one new connection. With `clients`
// clients rebalancing every `interval`, the servers together see clients / interval new
// connections per second; the second term keeps that at or below new_connections_per_server per
// server. Up to 7,680 clients per server (64/s × 120 s) the minimum wins, so most fleets
// rebalance every 120-180 s; the jitter keeps clients started together from moving together.
// Consul's defaults: 120 s minimum, jitter up to half of it, 64 new connections per server per
// second.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/clock.h"

namespace fulcrum::client {

struct RebalanceIntervalOptions {
  core::Nanos min_interval{std::chrono::seconds(120)};
  uint32_t new_connections_per_server = 64;  ///< Per second; 0 turns the rate cap off.
  uint32_t jitter_divisor = 2;               ///< Jitter below min_interval / this; 0: none.
};

/// The interval before the next rebalance. `random` is a uniformly distributed 64-bit draw (the
/// jitter); `clients` is the number of clients sharing the servers, `servers` their number.
core::Nanos rebalance_interval(std::size_t clients, std::size_t servers, uint64_t random,
                               const RebalanceIntervalOptions& options = {});

}  // namespace fulcrum::client
