// Smooth weighted round robin (nginx): exact sequences and exact shares.
#include <gtest/gtest.h>

#include "fakes/ineligible.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using testing::PolicyHarness;

std::vector<std::size_t> picks(PolicyHarness& h, int n, const TriedSet* tried = nullptr) {
  FastRng rng(1);
  std::vector<std::size_t> out;
  for (int k = 0; k < n; ++k) out.push_back(h.pick(rng, std::nullopt, tried));
  return out;
}

TEST(WeightedRoundRobin, NginxSmoothSequence) {
  PolicyHarness h("weighted_round_robin", {5, 1, 1});
  const std::vector<std::size_t> cycle{0, 0, 1, 0, 2, 0, 0};  // a a b a c a a
  for (int round = 0; round < 3; ++round) EXPECT_EQ(picks(h, 7), cycle) << "round " << round;
}

TEST(WeightedRoundRobin, ExactSharesOver120kPicks) {
  PolicyHarness h("weighted_round_robin", {3, 1, 1, 1});
  FastRng rng(1);
  auto counts = h.histogram(rng, 120'000);  // 20,000 full cycles of 6.
  EXPECT_EQ(counts, (std::vector<std::size_t>{60'000, 20'000, 20'000, 20'000, 0}));
}

TEST(WeightedRoundRobin, AgentLoadsScaleTheWeights) {
  // Equal weights, loads 0 and 50 reported, one agent silent (counted as 50): 101 : 51 : 51,
  // exact over every 203 picks.
  PolicyHarness h("weighted_round_robin", {1, 1, 1});
  h.state(0).agent_load = 0;
  h.state(1).agent_load = 50;
  FastRng rng(1);
  auto counts = h.histogram(rng, 203 * 100);
  EXPECT_EQ(counts, (std::vector<std::size_t>{10'100, 5'100, 5'100, 0}));
}

TEST(WeightedRoundRobin, SkipsEveryKindOfIneligibleMember) {
  PolicyHarness h("weighted_round_robin", {2, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 1);
  FastRng rng(1);
  auto counts = h.histogram(rng, 30'000);
  EXPECT_EQ(counts, (std::vector<std::size_t>{20'000, 0, 0, 0, 0, 0, 10'000, 0}));
}

TEST(WeightedRoundRobin, SkippedMembersKeepTheSmoothOrderAmongTheRest) {
  PolicyHarness h("weighted_round_robin", {5, 1, 1});
  h.state(1).admin_state = AdminState::kDisabled;
  EXPECT_EQ(picks(h, 6), (std::vector<std::size_t>{0, 0, 0, 2, 0, 0}));
}

TEST(WeightedRoundRobin, UnusableMembersDoNotAccumulateCredit) {
  PolicyHarness h("weighted_round_robin", {1, 1});
  h.state(1).check_health = CheckHealth::kDown;
  EXPECT_EQ(picks(h, 10), std::vector<std::size_t>(10, 0));
  h.state(1).check_health = CheckHealth::kUp;
  // Had member 1 accumulated while down, it would now win many picks in a row.
  EXPECT_EQ(picks(h, 6), (std::vector<std::size_t>{0, 1, 0, 1, 0, 1}));
}

TEST(WeightedRoundRobin, ZeroWeightNeverPicked) {
  PolicyHarness h("weighted_round_robin", {0, 2, 0, 1});
  FastRng rng(1);
  auto counts = h.histogram(rng, 3'000);
  EXPECT_EQ(counts, (std::vector<std::size_t>{0, 2'000, 0, 1'000, 0}));
}

TEST(WeightedRoundRobin, NeverReturnsTriedMembers) {
  PolicyHarness h("weighted_round_robin", {5, 1, 1});
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  EXPECT_EQ(picks(h, 10, &tried), std::vector<std::size_t>(10, 1));
}

TEST(WeightedRoundRobin, NothingUsableSaysSo) {
  PolicyHarness h("weighted_round_robin", {1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), kNoPick);
  PolicyHarness empty("weighted_round_robin", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
