// Power of two choices: scripted pairs, cross-multiplied weights, shares under load.
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

TEST(PowerOfTwo, PrefersTheLessLoadedOfTheTwoDrawn) {
  PolicyHarness h("power_of_two", {1, 1, 1, 1});
  h.state(0).in_flight = 5;
  h.state(2).in_flight = 1;
  h.state(3).in_flight = 9;
  auto rng = draws(4, {0, 2, 2, 0, 3, 0});
  EXPECT_EQ(h.pick(rng), 2u);
  EXPECT_EQ(h.pick(rng), 2u);
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(PowerOfTwo, TieGoesToTheFirstDraw) {
  PolicyHarness h("power_of_two", {1, 1, 1, 1});
  h.state(1).in_flight = 2;
  h.state(3).in_flight = 2;
  auto rng = draws(4, {1, 3, 3, 1});
  EXPECT_EQ(h.pick(rng), 1u);
  EXPECT_EQ(h.pick(rng), 3u);
}

TEST(PowerOfTwo, WeightsByCrossMultiplication) {
  // Weight 3 with in_flight x against weight 1 with in_flight 1: x * 1 vs 1 * 3.
  PolicyHarness h("power_of_two", {3, 1});
  h.state(1).in_flight = 1;
  h.state(0).in_flight = 2;  // 2 < 3: the heavier server wins despite more in flight.
  auto rng = draws(2, {1, 0});
  EXPECT_EQ(h.pick(rng), 0u);
  h.state(0).in_flight = 3;  // 3 == 3: tie, first draw.
  EXPECT_EQ(h.pick(rng), 1u);
  auto reversed = draws(2, {0, 1});
  EXPECT_EQ(h.pick(reversed), 0u);
  h.state(0).in_flight = 4;  // 4 > 3.
  EXPECT_EQ(h.pick(reversed), 1u);
}

TEST(PowerOfTwo, IdleTieGoesToTheFirstDrawWhateverTheWeights) {
  // Nothing in flight: 0 * w == 0 * w, so the weighted first draw decides.
  PolicyHarness h("power_of_two", {1, 2, 1});
  auto rng = draws(3, {0, 1, 2, 1});
  EXPECT_EQ(h.pick(rng), 0u);
  EXPECT_EQ(h.pick(rng), 2u);
}

TEST(PowerOfTwo, AgentLoadsScaleTheComparison) {
  // Equal weights, one in flight each: the server whose agent reports load 0 (factor 101) is
  // lighter per unit of weight than one reporting 50 (factor 51).
  PolicyHarness h("power_of_two", {1, 1});
  h.set_agent_loads(true);
  h.state(0).agent_load = 50;
  h.state(1).agent_load = 0;
  h.state(0).in_flight = 1;
  h.state(1).in_flight = 1;
  auto rng = draws(2, {0, 1});
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(PowerOfTwo, RedrawsUntilTheSecondIsDistinct) {
  PolicyHarness h("power_of_two", {1, 1, 1, 1});
  h.state(3).in_flight = 1;
  auto rng = draws(4, {3, 3, 3, 0});
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(PowerOfTwo, SharesFollowWeightsUnderLoad) {
  // At balance in_flight_i / weight_i is equal for all: with 60 in flight that puts 30 on
  // member 0 (50% of picks) and 10 on each other (16.7%). Without weights it would be 25% each.
  PolicyHarness h("power_of_two", {3, 1, 1, 1});
  FastRng rng(1);
  auto counts = closed_loop(h, rng, 100'000, 60);
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.0);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(percent(counts, i, 100'000), 16.67, 1.0) << i;
}

TEST(PowerOfTwo, IdleTrafficFollowsTheWeights) {
  // One request at a time: every comparison is a tie, won by the weighted first draw. Weights
  // 1, 2, 1 give 25 / 50 / 25 % (a fair coin between two distinct draws would give 29/42/29,
  // always preferring the heavier 7/86/7). 100,000 picks: one standard deviation is 0.16%.
  PolicyHarness h("power_of_two", {1, 2, 1});
  FastRng rng(2);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 25.0, 1.0);
  EXPECT_NEAR(percent(counts, 1, 100'000), 50.0, 1.0);
  EXPECT_NEAR(percent(counts, 2, 100'000), 25.0, 1.0);
}

TEST(PowerOfTwo, IdleTrafficFollowsAgentLoads) {
  // Equal weights, agents reporting loads 0 and 50 (factors 101 and 51) and one not reporting
  // (counted as 50): draws keep a member with probability factor / 101, so shares are
  // 101 : 51 : 51 = 49.8 / 25.1 / 25.1 %.
  PolicyHarness h("power_of_two", {1, 1, 1});
  h.set_agent_loads(true);
  h.state(0).agent_load = 0;
  h.state(1).agent_load = 50;
  FastRng rng(3);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 49.75, 1.0);
  EXPECT_NEAR(percent(counts, 1, 100'000), 25.12, 1.0);
  EXPECT_NEAR(percent(counts, 2, 100'000), 25.12, 1.0);
}

TEST(PowerOfTwo, SkipsEveryKindOfIneligibleMember) {
  PolicyHarness h("power_of_two", {1, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  FastRng rng(3);
  auto counts = closed_loop(h, rng, 100'000, 10);
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_EQ(counts[i], 0u) << i;
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  EXPECT_NEAR(percent(counts, 6, 100'000), 50.0, 1.5);
}

TEST(PowerOfTwo, NeverReturnsTriedMembers) {
  PolicyHarness h("power_of_two", {1, 1, 1});
  h.state(1).in_flight = 100;  // Least attractive, but the only one left.
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  FastRng rng(4);
  for (int k = 0; k < 1'000; ++k) ASSERT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
}

TEST(PowerOfTwo, FewUsableAmongManyAreStillCompared) {
  // Draws almost always miss here, so both choices come from the fallback scans.
  PolicyHarness h("power_of_two", std::vector<uint32_t>(1'000, 1));
  for (std::size_t i = 0; i < 1'000; ++i) {
    if (i != 10 && i != 500) h.state(i).admin_state = AdminState::kDraining;
  }
  h.state(10).in_flight = 3;
  FastRng rng(5);
  for (int k = 0; k < 1'000; ++k) ASSERT_EQ(h.pick(rng), 500u);
}

TEST(PowerOfTwo, NothingUsableSaysSo) {
  PolicyHarness h("power_of_two", {1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  FastRng rng(6);
  EXPECT_EQ(h.pick(rng), kNoPick);
  PolicyHarness empty("power_of_two", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
