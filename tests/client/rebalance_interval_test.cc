// The rebalance interval formula of docs/client-library.md, term by term.
#include "client/rebalance_interval.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace fulcrum::client {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kNoJitter = 0;
constexpr uint64_t kMaxJitter = std::numeric_limits<uint64_t>::max();

TEST(RebalanceInterval, SmallFleetsRebalanceAtTheMinimumPlusJitter) {
  EXPECT_EQ(rebalance_interval(1, 3, kNoJitter), 120s);
  EXPECT_EQ(rebalance_interval(1000, 3, kNoJitter), 120s);
  const auto longest = rebalance_interval(1, 3, kMaxJitter);
  EXPECT_GT(longest, 179s);
  EXPECT_LT(longest, 180s);  // Jitter is below min_interval / 2.
  EXPECT_EQ(rebalance_interval(1, 3, uint64_t{1} << 63), 150s);  // Half way.
}

TEST(RebalanceInterval, LargeFleetsAreCappedAt64NewConnectionsPerServerPerSecond) {
  // 100,000 clients over 5 servers: 100,000 / (64 × 5) = 312.5 s, above the minimum.
  EXPECT_EQ(rebalance_interval(100'000, 5, kNoJitter), 312'500ms);
  EXPECT_EQ(rebalance_interval(100'000, 5, kMaxJitter), 312'500ms);
  // The crossover: 7,680 clients per server make exactly 120 s.
  EXPECT_EQ(rebalance_interval(7'680 * 2, 2, kNoJitter), 120s);
  EXPECT_EQ(rebalance_interval(7'680 * 2 + 128, 2, kNoJitter), 121s);
}

TEST(RebalanceInterval, OptionsChangeEachTerm) {
  const RebalanceIntervalOptions fast{.min_interval = 10ms, .jitter_divisor = 0};
  EXPECT_EQ(rebalance_interval(1, 2, kMaxJitter, fast), 10ms);  // No jitter.
  const RebalanceIntervalOptions slow_rate{.new_connections_per_server = 1};
  EXPECT_EQ(rebalance_interval(600, 2, kNoJitter, slow_rate), 300s);
  const RebalanceIntervalOptions uncapped{.new_connections_per_server = 0};
  EXPECT_EQ(rebalance_interval(100'000'000, 1, kNoJitter, uncapped), 120s);
}

TEST(RebalanceInterval, NoServersOrHugeFleetsStayWellDefined) {
  EXPECT_EQ(rebalance_interval(1'000'000, 0, kNoJitter), 120s);
  const auto huge = rebalance_interval(std::numeric_limits<std::size_t>::max(), 1, kNoJitter);
  EXPECT_GT(huge, 120s);
}

}  // namespace
}  // namespace fulcrum::client
