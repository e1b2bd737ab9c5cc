// First available (ordered failover): always the first usable member in configuration order.
#include <gtest/gtest.h>

#include "fakes/ineligible.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using testing::PolicyHarness;

TEST(FirstAvailable, AllTrafficToTheFirstWhateverTheWeights) {
  PolicyHarness h("first_available", {1, 5, 10});
  FastRng rng(1);
  auto counts = h.histogram(rng, 100'000);
  EXPECT_EQ(counts, (std::vector<std::size_t>{100'000, 0, 0, 0}));
}

TEST(FirstAvailable, FailsOverInOrderAsEachBecomesIneligible) {
  PolicyHarness h("first_available", {1, 1, 1, 1, 1, 1}, testing::passive_on());
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), 0u);
  testing::make_ineligible_each_way(h, 0);  // 0..4, each for a different reason.
  EXPECT_EQ(h.pick(rng), 5u);
  // Recovery in reverse order moves traffic back up the list one step at a time.
  h.state(4).consecutive_failures = 0;
  EXPECT_EQ(h.pick(rng), 4u);
  h.state(3).agent_load = 40;
  EXPECT_EQ(h.pick(rng), 3u);
  h.state(2).check_health = CheckHealth::kUp;
  EXPECT_EQ(h.pick(rng), 2u);
  h.state(1).admin_state = AdminState::kEnabled;
  EXPECT_EQ(h.pick(rng), 1u);
  h.state(0).admin_state = AdminState::kEnabled;
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST(FirstAvailable, EachIneligibilityReasonIsDistinct) {
  PolicyHarness h("first_available", {1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  const Eligibility expected[] = {Eligibility::kDisabled, Eligibility::kDraining,
                                  Eligibility::kDownByChecks, Eligibility::kAgentUnavailable,
                                  Eligibility::kOffline};
  for (std::size_t i = 0; i < testing::kIneligibleWays; ++i) {
    EXPECT_EQ(evaluate(h.members()[i].spec, h.state(i), testing::passive_on(), h.clock().now()),
              expected[i]);
  }
}

TEST(FirstAvailable, ZeroWeightIsSkipped) {
  PolicyHarness h("first_available", {0, 0, 3});
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), 2u);
}

TEST(FirstAvailable, NeverReturnsTriedMembers) {
  PolicyHarness h("first_available", {1, 1, 1});
  FastRng rng(1);
  TriedSet tried;
  tried.insert(&h.state(0));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
  tried.insert(&h.state(1));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 2u);
  tried.insert(&h.state(2));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), kNoPick);
}

TEST(FirstAvailable, NothingUsableSaysSo) {
  PolicyHarness h("first_available", {1, 1, 1, 1, 1}, testing::passive_on());
  testing::make_ineligible_each_way(h, 0);
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), kNoPick);
  PolicyHarness empty("first_available", {});
  EXPECT_EQ(empty.pick(rng), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
