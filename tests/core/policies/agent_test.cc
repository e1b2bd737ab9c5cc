// Agent (Equalizer): probability proportional to weight * (101 - load), loads read per pick.
#include <gtest/gtest.h>

#include "fakes/ineligible.h"
#include "fakes/policy_drivers.h"
#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using testing::percent;
using testing::PolicyHarness;
using testing::ScriptedRng;

TEST(Agent, LightServerTakesAlmostAllWhileRoundRobinStaysEven) {
  PolicyHarness agent("agent", {1, 1});
  PolicyHarness rr("round_robin", {1, 1});
  for (PolicyHarness* h : {&agent, &rr}) {
    h->state(0).agent_load = 100;
    h->state(1).agent_load = 0;
  }
  FastRng rng(1);
  auto a = agent.histogram(rng, 100'000);
  EXPECT_GT(percent(a, 1, 100'000), 95.0);
  EXPECT_NEAR(percent(a, 1, 100'000), 100.0 * 101 / 102, 0.5);
  EXPECT_GT(a[0], 0u);  // Load 100 still gets weight * 1: not starved.
  auto r = rr.histogram(rng, 100'000);
  EXPECT_NEAR(percent(r, 0, 100'000), 50.0, 1.0);
  EXPECT_NEAR(percent(r, 1, 100'000), 50.0, 1.0);
}

TEST(Agent, DrawMapsOntoEffectiveWeightRanges) {
  // Effective weights 1 * (101 - 100) = 1 and 1 * 101 = 101: draws 0 and 1..101 of 102.
  PolicyHarness h("agent", {1, 1});
  h.state(0).agent_load = 100;
  h.state(1).agent_load = 0;
  ScriptedRng rng({ScriptedRng::draw_for(0, 102), ScriptedRng::draw_for(1, 102),
                   ScriptedRng::draw_for(101, 102)});
  EXPECT_EQ(h.pick(rng), 0u);
  EXPECT_EQ(h.pick(rng), 1u);
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(Agent, SharesFollowWeightsWhenLoadsAreEqual) {
  PolicyHarness h("agent", {3, 1, 1, 1});
  for (std::size_t i = 0; i < 4; ++i) h.state(i).agent_load = 20;
  FastRng rng(2);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(percent(counts, i, 100'000), 16.67, 1.5) << i;
}

TEST(Agent, WeightsAndLoadsCombine) {
  // Effective weights 2 * 101 = 202, 1 * 51 = 51, 4 * 1 = 4: shares 78.6%, 19.8%, 1.6%.
  PolicyHarness h("agent", {2, 1, 4});
  h.state(0).agent_load = 0;
  h.state(1).agent_load = 50;
  h.state(2).agent_load = 100;
  FastRng rng(3);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(counts, 0, 100'000), 100.0 * 202 / 257, 1.5);
  EXPECT_NEAR(percent(counts, 1, 100'000), 100.0 * 51 / 257, 1.5);
  EXPECT_NEAR(percent(counts, 2, 100'000), 100.0 * 4 / 257, 0.5);
}

TEST(Agent, UnknownLoadCountsAsFifty) {
  PolicyHarness h("agent", {1, 1});
  h.state(0).agent_load = kAgentLoadUnknown;
  h.state(1).agent_load = 50;
  FastRng rng(4);
  auto even = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(even, 0, 100'000), 50.0, 1.5);
  h.state(1).agent_load = 0;  // 51 against 101.
  auto skewed = h.histogram(rng, 100'000);
  EXPECT_NEAR(percent(skewed, 0, 100'000), 100.0 * 51 / 152, 1.5);
}

TEST(Agent, LoadChangesActOnTheNextPick) {
  PolicyHarness h("agent", {1, 1});
  h.state(0).agent_load = 0;
  h.state(1).agent_load = 100;
  // Draw 50 of 102 lands in member 0's range [0, 101) now, in member 1's once the loads swap.
  ScriptedRng rng({ScriptedRng::draw_for(50, 102)});
  EXPECT_EQ(h.pick(rng), 0u);
  h.state(0).agent_load = 100;
  h.state(1).agent_load = 0;
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST(Agent, SkipsEveryKindOfIneligibleMember) {
  PolicyHarness h("agent", {1, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  for (std::size_t i = 1; i <= 5; ++i) {
    if (i != 4) h.state(i).agent_load = 0;  // The most tempting (4 is the agent's -1).
  }
  h.state(0).agent_load = 60;
  h.state(6).agent_load = 60;
  FastRng rng(5);
  auto counts = h.histogram(rng, 100'000);
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_EQ(counts[i], 0u) << i;
  EXPECT_NEAR(percent(counts, 0, 100'000), 50.0, 1.5);
  EXPECT_NEAR(percent(counts, 6, 100'000), 50.0, 1.5);
}

TEST(Agent, NeverReturnsTriedMembers) {
  PolicyHarness h("agent", {1, 1, 1});
  h.state(1).agent_load = 100;
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  FastRng rng(6);
  for (int k = 0; k < 1'000; ++k) ASSERT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
}

TEST(Agent, NothingUsableSaysSo) {
  PolicyHarness h("agent", {1, 1, 1, 1, 1, 0}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  FastRng rng(7);
  EXPECT_EQ(h.pick(rng), kNoPick);
  PolicyHarness empty("agent", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
