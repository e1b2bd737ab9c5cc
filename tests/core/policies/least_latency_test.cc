// Least latency (peak-EWMA-lite): cost = EWMA * (in_flight + 1) / weight, compared in pairs.
#include <gtest/gtest.h>

#include "fakes/ineligible.h"
#include "fakes/policy_drivers.h"
#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using testing::closed_loop;
using testing::draws;
using testing::percent;
using testing::PolicyHarness;
using testing::ScriptedRng;

constexpr int64_t kMs = 1'000'000;

TEST(LeastLatency, PrefersLowerEwmaTimesInFlightPlusOne) {
  PolicyHarness h("least_latency", {1, 1});
  h.state(0).latency_ewma_ns = 1 * kMs;  // Idle: cost 1 ms.
  h.state(1).latency_ewma_ns = kMs / 4;  // 250 us with 2 in flight: cost 0.75 ms.
  h.state(1).in_flight = 2;              // The faster server wins despite its queue.
  auto rng = draws(2, {0, 1});
  EXPECT_EQ(h.pick(rng), 1u);
  h.state(1).in_flight = 4;  // 1.25 ms: now the idle slower server is cheaper.
  EXPECT_EQ(h.pick(rng), 0u);
  h.state(1).in_flight = 3;  // 1 ms each: tie on cost, then fewer in flight (weights equal).
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(LeastLatency, ServerWithoutSampleGetsTried) {
  PolicyHarness h("least_latency", {1, 1, 1});
  h.state(0).latency_ewma_ns = 1;  // As fast as can be measured.
  h.state(2).in_flight = 7;        // No sample yet: cost 0 whatever its queue.
  auto rng = draws(3, {0, 2, 2, 0});
  EXPECT_EQ(h.pick(rng), 2u);
  EXPECT_EQ(h.pick(rng), 2u);
}

TEST(LeastLatency, TwoServersWithoutSamplesCompareLoad) {
  PolicyHarness h("least_latency", {1, 1});
  h.state(0).in_flight = 3;
  h.state(1).in_flight = 1;
  auto rng = draws(2, {0, 1});
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(LeastLatency, CostIsDividedByWeight) {
  PolicyHarness h("least_latency", {2, 1});
  h.state(0).latency_ewma_ns = 2 * kMs;  // 2 ms / weight 2 = 1 ms.
  h.state(1).latency_ewma_ns = 1'100'000;
  auto rng = draws(2, {1, 0});
  EXPECT_EQ(h.pick(rng), 0u);
  h.state(1).latency_ewma_ns = 900'000;
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(LeastLatency, SharesFollowWeightsAtEqualLatency) {
  // Equal EWMAs leave power_of_two's balance: 51.7% / 16.1% with 60 in flight (see there).
  PolicyHarness h("least_latency", {3, 1, 1, 1});
  for (std::size_t i = 0; i < 4; ++i) h.state(i).latency_ewma_ns = 5 * kMs;
  FastRng rng(1);
  auto counts = closed_loop(h, rng, 100'000, 60);
  EXPECT_NEAR(percent(counts, 0, 100'000), 51.67, 1.0);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(percent(counts, i, 100'000), 16.11, 1.0) << i;
}

TEST(LeastLatency, FasterServerCarriesMoreWork) {
  // Equal weights, 1 ms vs 4 ms, 50 in flight: balance is 1 * (x + 1) = 4 * (50 - x + 1), so
  // x = 40.6 of the 50 requests, 81.2% of picks, sit on the fast server (50% by load alone).
  PolicyHarness h("least_latency", {1, 1});
  h.state(0).latency_ewma_ns = 1 * kMs;
  h.state(1).latency_ewma_ns = 4 * kMs;
  FastRng rng(2);
  auto counts = closed_loop(h, rng, 100'000, 50);
  EXPECT_NEAR(percent(counts, 0, 100'000), 81.2, 1.5);
}

TEST(LeastLatency, SkipsEveryKindOfIneligibleMember) {
  PolicyHarness h("least_latency", {1, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  for (std::size_t i = 1; i <= 5; ++i) h.state(i).latency_ewma_ns = 0;  // The most tempting.
  h.state(0).latency_ewma_ns = 3 * kMs;
  h.state(6).latency_ewma_ns = 3 * kMs;
  FastRng rng(3);
  auto counts = closed_loop(h, rng, 100'000, 10);
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_EQ(counts[i], 0u) << i;
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  EXPECT_NEAR(percent(counts, 6, 100'000), 50.0, 1.5);
}

TEST(LeastLatency, NeverReturnsTriedMembers) {
  PolicyHarness h("least_latency", {1, 1, 1});
  h.state(1).latency_ewma_ns = 100 * kMs;
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  FastRng rng(4);
  for (int k = 0; k < 1'000; ++k) ASSERT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
}

TEST(LeastLatency, NothingUsableSaysSo) {
  PolicyHarness h("least_latency", {1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  FastRng rng(5);
  EXPECT_EQ(h.pick(rng), kNoPick);
  PolicyHarness empty("least_latency", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
