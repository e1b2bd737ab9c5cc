// Least latency (Peak-EWMA): cost = estimate * (in_flight + 1) / effective weight, compared in
// pairs; estimates decay towards the cluster's typical latency (core/latency.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "core/latency.h"
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
  h.set_latency(0, 1 * kMs);  // Idle: cost 1 ms.
  h.set_latency(1, kMs / 4);  // 250 us with 2 in flight: cost 0.75 ms.
  h.state(1).in_flight = 2;   // The faster server wins despite its queue.
  auto rng = draws(2, {0, 1});
  EXPECT_EQ(h.pick(rng), 1u);
  h.state(1).in_flight = 4;  // 1.25 ms: now the idle slower server is cheaper.
  EXPECT_EQ(h.pick(rng), 0u);
  h.state(1).in_flight = 3;  // 1 ms each: tie on cost, then fewer in flight (weights equal).
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(LeastLatency, ServerWithoutSampleGetsTried) {
  PolicyHarness h("least_latency", {1, 1, 1});
  h.set_latency(0, 1);       // As fast as can be measured.
  h.state(2).in_flight = 7;  // No sample yet: cost 0 whatever its queue.
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

TEST(LeastLatency, WeightDividesTheQueueNotTheLatency) {
  // Cost = estimate x (1 + in_flight / weight). Weight 2, 1 ms, 2 in flight: 2 ms.
  PolicyHarness h("least_latency", {2, 1});
  h.set_latency(0, 1 * kMs);
  h.state(0).in_flight = 2;
  h.set_latency(1, 1'500'000);  // Weight 1, 1 in flight: 3 ms.
  h.state(1).in_flight = 1;
  auto rng = draws(2, {1, 0, 1, 0});
  EXPECT_EQ(h.pick(rng), 0u);
  h.set_latency(1, 700'000);  // 1.4 ms.
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(LeastLatency, CostsWithinAQuarterOfEachOtherTie) {
  // 1 ms against 1.2 ms, both idle: noise, not a difference. The tie goes to fewer in flight per
  // weight (none here), then to the first draw. 1 ms against 1.3 ms: the faster wins.
  PolicyHarness h("least_latency", {1, 1});
  h.set_latency(0, 1 * kMs);
  h.set_latency(1, 1'200'000);
  auto rng = draws(2, {1, 0, 0, 1, 1, 0});
  EXPECT_EQ(h.pick(rng), 1u);
  EXPECT_EQ(h.pick(rng), 0u);
  h.set_latency(1, 1'300'000);
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(LeastLatency, IdleServersOfEqualLatencyFollowTheWeights) {
  // One request at a time, equal estimates: every comparison ties and the weighted first draw
  // decides, 25 / 50 / 25 % (dividing the whole cost by the weight would give the heavy server
  // every comparison it is in, 86 %). 100,000 picks: one standard deviation is 0.16 %.
  PolicyHarness h("least_latency", {1, 2, 1});
  for (std::size_t i = 0; i < 3; ++i) h.set_latency(i, 5 * kMs);
  FastRng rng(9);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 25.0, 1.0);
  EXPECT_NEAR(percent(counts, 1, 100'000), 50.0, 1.0);
  EXPECT_NEAR(percent(counts, 2, 100'000), 25.0, 1.0);
}

TEST(LeastLatency, SharesFollowWeightsAtEqualLatency) {
  // Equal estimates leave power_of_two's balance, in_flight / weight equal: 50% / 16.7% with
  // 60 in flight (see there).
  PolicyHarness h("least_latency", {3, 1, 1, 1});
  for (std::size_t i = 0; i < 4; ++i) h.set_latency(i, 5 * kMs);
  FastRng rng(1);
  auto counts = closed_loop(h, rng, 100'000, 60);
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.0);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(percent(counts, i, 100'000), 16.67, 1.0) << i;
}

TEST(LeastLatency, FasterServerCarriesMoreWork) {
  // Equal weights, 1 ms vs 4 ms, 50 in flight, x of them on the fast server: it wins while its
  // cost is clearly (25%) lower, 1.25 * (x + 1) < 4 * (50 - x + 1), i.e. up to x = 38.6; above,
  // costs tie and fewer in flight wins, the slow server. So 77.2% of picks sit on the fast
  // server (50% by load alone).
  PolicyHarness h("least_latency", {1, 1});
  h.set_latency(0, 1 * kMs);
  h.set_latency(1, 4 * kMs);
  FastRng rng(2);
  auto counts = closed_loop(h, rng, 100'000, 50);
  EXPECT_NEAR(percent(counts, 0, 100'000), 77.2, 1.5);
}

TEST(LeastLatency, StaleEstimateDecaysTowardsTheTypicalLatency) {
  PolicyHarness h("least_latency", {1});
  h.cluster_health().typical_latency_ns = 1 * kMs;  // Decay time: 10 ms.
  h.set_latency(0, 21 * kMs);
  const auto estimate = [&] { return latency_estimate(h.state(0), h.clock().now(), 1 * kMs); };
  EXPECT_EQ(estimate(), 21 * kMs);
  h.clock().advance(std::chrono::milliseconds(10));  // One decay time: 1 + 20 / e ms.
  EXPECT_NEAR(static_cast<double>(estimate()), 8.357 * kMs, 0.01 * kMs);
  h.clock().advance(std::chrono::milliseconds(200));
  EXPECT_EQ(estimate(), 1 * kMs);
  // A fast server idle for long drifts up to typical too: its speed is old news.
  h.set_latency(0, kMs / 2);
  h.clock().advance(std::chrono::milliseconds(200));
  EXPECT_EQ(estimate(), 1 * kMs);
}

TEST(LeastLatency, DecayTimeIsTenTypicalResponseTimesWithinBounds) {
  EXPECT_EQ(latency_decay_ns(0), kMinLatencyDecay.count());
  EXPECT_EQ(latency_decay_ns(5 * kMs), 50 * kMs);
  EXPECT_EQ(latency_decay_ns(5'000 * kMs), kMaxLatencyDecay.count());
}

/// One request at a time over three servers for `requests` requests, each answering in its
/// `base` latency plus up to 20% of jitter, the clock moving by each response's latency. Server
/// 2's first answer takes `first_of_2` instead. Returns the requests each server got.
std::array<std::size_t, 3> sequential_with_latencies(std::array<int64_t, 3> base,
                                                     int64_t first_of_2, int requests) {
  PolicyHarness h("least_latency", {1, 1, 1});
  FastRng rng(7);
  FastRng jitter(8);
  std::array<std::size_t, 3> counts{};
  bool first = true;
  for (int k = 0; k < requests; ++k) {
    const std::size_t i = h.pick(rng);
    int64_t latency = base[i] + static_cast<int64_t>(jitter.below(base[i] / 5 + 1));
    if (i == 2 && first) {
      latency = first_of_2;
      first = false;
    }
    h.clock().advance(Nanos{latency});
    record_latency(h.state(i), &h.cluster_health(), Nanos{latency}, h.clock().now());
    counts[i]++;
  }
  return counts;
}

TEST(LeastLatency, OneSlowReadingDoesNotStarveAServer) {
  // Three equal 1 ms servers; server 2's first answer took 30 ms (a connection set-up, a
  // hiccup). Its estimate decays back to typical within a few 10 ms decay times, so of 300
  // sequential requests it still gets its share (without decay it got 1 of 300).
  const auto counts = sequential_with_latencies({kMs, kMs, kMs}, 30 * kMs, 300);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GE(counts[i], 45u) << i;   // 15%
    EXPECT_LE(counts[i], 150u) << i;  // 50%
  }
}

TEST(LeastLatency, AReallySlowerServerStillGetsClearlyLess) {
  // Server 2 answers in 4 ms, the others in 1 ms: each fresh sample renews its peak.
  const auto counts = sequential_with_latencies({kMs, kMs, 4 * kMs}, 4 * kMs, 600);
  EXPECT_GE(counts[2], 1u);  // Re-tried as its estimate decays, not starved...
  EXPECT_LT(counts[2] * 3, std::min(counts[0], counts[1]));  // ...but clearly less.
}

TEST(LeastLatency, SkipsEveryKindOfIneligibleMember) {
  PolicyHarness h("least_latency", {1, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  for (std::size_t i = 1; i <= 5; ++i) h.set_latency(i, 0);  // The most tempting.
  h.set_latency(0, 3 * kMs);
  h.set_latency(6, 3 * kMs);
  FastRng rng(3);
  auto counts = closed_loop(h, rng, 100'000, 10);
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_EQ(counts[i], 0u) << i;
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  EXPECT_NEAR(percent(counts, 6, 100'000), 50.0, 1.5);
}

TEST(LeastLatency, NeverReturnsTriedMembers) {
  PolicyHarness h("least_latency", {1, 1, 1});
  h.set_latency(1, 100 * kMs);
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
