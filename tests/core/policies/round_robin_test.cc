#include <gtest/gtest.h>

#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using testing::PolicyHarness;

TEST(RoundRobin, VisitsMembersInOrderIgnoringWeights) {
  PolicyHarness h("round_robin", {5, 1, 1});
  FastRng rng(1);
  std::vector<std::size_t> picks;
  for (int k = 0; k < 6; ++k) picks.push_back(h.pick(rng));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobin, EvenOver100kPicks) {
  PolicyHarness h("round_robin", {3, 1, 1, 1});
  FastRng rng(1);
  auto counts = h.histogram(rng, 100'000);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(counts[i], 25'000u) << i;
}

TEST(RoundRobin, SkipsIneligibleAndNeverReturnsThem) {
  PolicyHarness h("round_robin", {1, 1, 1, 1});
  h.state(1).admin_state = AdminState::kDisabled;
  h.state(3).check_health = CheckHealth::kDown;
  FastRng rng(1);
  auto counts = h.histogram(rng, 10'000);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_EQ(counts[3], 0u);
  EXPECT_EQ(counts[0] + counts[2], 10'000u);
}

TEST(RoundRobin, AMemberTakenOutLeavesItsTurnsToAllTheOthers) {
  // The fourth of four goes down: the rotation continues over the three left, each getting a
  // third, instead of the member after it (the first) taking its turn too (a b c a a b c a...).
  PolicyHarness h("round_robin", {1, 1, 1, 1});
  FastRng rng(1);
  std::vector<std::size_t> picks;
  for (int k = 0; k < 4; ++k) picks.push_back(h.pick(rng));
  h.state(3).check_health = CheckHealth::kDown;
  for (int k = 0; k < 9; ++k) picks.push_back(h.pick(rng));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 3, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobin, AMemberInTheMiddleTakenOutKeepsTheOrder) {
  PolicyHarness h("round_robin", {1, 1, 1, 1, 1});
  h.state(1).admin_state = AdminState::kDisabled;
  h.state(2).admin_state = AdminState::kDisabled;
  FastRng rng(1);
  std::vector<std::size_t> picks;
  for (int k = 0; k < 6; ++k) picks.push_back(h.pick(rng));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 3, 4, 0, 3, 4}));
  auto counts = h.histogram(rng, 30'000);
  for (std::size_t i : {0u, 3u, 4u}) EXPECT_EQ(counts[i], 10'000u) << i;
}

TEST(RoundRobin, IgnoresAgentLoads) {
  PolicyHarness h("round_robin", {1, 1, 1});
  h.set_agent_loads(true);
  h.state(0).agent_load = 100;
  h.state(1).agent_load = 0;
  FastRng rng(1);
  auto counts = h.histogram(rng, 3'000);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(counts[i], 1'000u) << i;
}

TEST(RoundRobin, NeverReturnsTriedMembers) {
  PolicyHarness h("round_robin", {1, 1, 1});
  FastRng rng(1);
  TriedSet tried;
  tried.insert(&h.state(0));
  tried.insert(&h.state(2));
  for (int k = 0; k < 10; ++k) EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
}

TEST(RoundRobin, NothingEligibleSaysSo) {
  PolicyHarness h("round_robin", {1, 1});
  h.state(0).agent_load = kAgentUnavailable;
  h.state(1).admin_state = AdminState::kDraining;
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
