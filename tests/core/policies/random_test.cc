// Weighted random over an alias table: shares within explicit bounds, bounded work.
#include <gtest/gtest.h>

#include "core/policies/weighted_draw.h"
#include "fakes/ineligible.h"
#include "fakes/policy_drivers.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using testing::percent;
using testing::PolicyHarness;

/// Counts the raw draws a pick makes, to check its work is bounded.
class CountingRng final : public Rng {
 public:
  uint64_t next() override {
    ++draws;
    return inner_.next();
  }
  std::size_t draws = 0;

 private:
  FastRng inner_{11};
};

TEST(Random, SharesFollowWeights) {
  PolicyHarness h("random", {3, 1, 1, 1});
  FastRng rng(1);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(percent(counts, i, 100'000), 16.67, 1.5) << i;
  EXPECT_EQ(counts[4], 0u);
}

TEST(Random, SkewedWeightsAndZeroWeight) {
  PolicyHarness h("random", {1, 10, 0, 100});
  FastRng rng(2);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 100.0 / 111, 0.3);
  EXPECT_NEAR(percent(counts, 1, 100'000), 1000.0 / 111, 0.6);
  EXPECT_EQ(counts[2], 0u);
  EXPECT_NEAR(percent(counts, 3, 100'000), 10000.0 / 111, 0.6);
}

TEST(Random, SkipsEveryKindOfIneligibleMemberAndRenormalises) {
  PolicyHarness h("random", {3, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  FastRng rng(3);
  auto counts = h.histogram(rng, 100'000);
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_EQ(counts[i], 0u) << i;
  EXPECT_NEAR(percent(counts, 0, 100'000), 75.0, 1.5);
  EXPECT_NEAR(percent(counts, 6, 100'000), 25.0, 1.5);
}

TEST(Random, NeverReturnsTriedMembers) {
  PolicyHarness h("random", {5, 1, 5});
  FastRng rng(4);
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  for (int k = 0; k < 1'000; ++k) ASSERT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
}

TEST(Random, FindsTheOnlyUsableMemberAmongManyByFallbackScan) {
  PolicyHarness h("random", std::vector<uint32_t>(1'000, 1));
  for (std::size_t i = 0; i < 1'000; ++i) {
    if (i != 777) h.state(i).admin_state = AdminState::kDisabled;
  }
  FastRng rng(5);
  for (int k = 0; k < 100; ++k) ASSERT_EQ(h.pick(rng), 777u);
}

TEST(Random, NothingUsableSaysSoAfterBoundedWork) {
  PolicyHarness h("random", std::vector<uint32_t>(1'000, 1));
  for (std::size_t i = 0; i < 1'000; ++i) h.state(i).check_health = CheckHealth::kDown;
  CountingRng rng;
  EXPECT_EQ(h.pick(rng), kNoPick);
  // kMaxDraws weighted draws of two raw draws each, plus the scan's starting point.
  EXPECT_LE(rng.draws, 2u * policies::kMaxDraws + 1);
  PolicyHarness empty("random", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

TEST(Random, AgentLoadsScaleTheWeights) {
  // Effective weight = weight x (101 - load): 2 x 101 (load 0) against 2 x 51 (load 50) and
  // 1 x 51 (no report yet, counted as 50): 202 : 102 : 51.
  PolicyHarness h("random", {2, 2, 1});
  h.set_agent_loads(true);
  h.state(0).agent_load = 0;
  h.state(1).agent_load = 50;
  FastRng rng(6);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 56.90, 1.0);
  EXPECT_NEAR(percent(counts, 1, 100'000), 28.73, 1.0);
  EXPECT_NEAR(percent(counts, 2, 100'000), 14.37, 1.0);
}

}  // namespace
}  // namespace fulcrum::core
