// Behaviour every consistent-hash policy shares: stable key mapping, exclusion of tried and
// unusable members without moving other keys, and empty or exhausted member sets.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fakes/ineligible.h"
#include "fakes/policy_drivers.h"
#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using testing::map_keys;
using testing::PolicyHarness;
using testing::random_keys;
using testing::ScriptedRng;

class ConsistentHash : public ::testing::TestWithParam<const char*> {};

TEST_P(ConsistentHash, SameKeySameMember) {
  PolicyHarness h(GetParam(), std::vector<uint32_t>(10, 1));
  FastRng rng(1);
  for (uint64_t key : random_keys(1000, 3)) {
    const std::size_t first = h.pick(rng, key);
    ASSERT_NE(first, kNoPick);
    for (int k = 0; k < 5; ++k) EXPECT_EQ(h.pick(rng, key), first);
  }
}

TEST_P(ConsistentHash, AbsentKeyDrawsOneFromTheRng) {
  PolicyHarness h(GetParam(), std::vector<uint32_t>(10, 1));
  FastRng unused(1);
  for (uint64_t key : random_keys(200, 5)) {
    ScriptedRng rng({key});
    EXPECT_EQ(h.pick(rng), h.pick(unused, key));
  }
}

TEST_P(ConsistentHash, FallbackScanDependsOnMembershipNotOrder) {
  // With 97 of 100 members unusable most keys reach the scan over members.
  std::vector<uint32_t> weights;
  for (uint32_t i = 0; i < 100; ++i) weights.push_back(1 + i % 4);
  PolicyHarness h(GetParam(), weights);
  for (std::size_t i = 0; i < 100; ++i) {
    if (i != 10 && i != 50 && i != 90) h.state(i).admin_state = AdminState::kDisabled;
  }
  const auto keys = random_keys(5'000, 37);
  const auto original = map_keys(h, keys);
  EXPECT_EQ(std::set<std::string>(original.begin(), original.end()).size(), 3u);

  std::mt19937_64 shuffle_rng(43);
  std::shuffle(h.members().begin(), h.members().end(), shuffle_rng);
  h.rebuild();
  EXPECT_EQ(map_keys(h, keys), original);
}

TEST_P(ConsistentHash, ZeroWeightMembersGetNoKeys) {
  PolicyHarness h(GetParam(), {1, 0, 1});
  FastRng rng(3);
  const auto counts = h.histogram(rng, 10'000);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_EQ(counts[0] + counts[2], 10'000u);
}

TEST_P(ConsistentHash, NeverReturnsTriedMembers) {
  PolicyHarness h(GetParam(), std::vector<uint32_t>(5, 1));
  FastRng unused(1);
  for (uint64_t key : random_keys(500, 23)) {
    TriedSet tried;
    std::set<std::size_t> seen;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const std::size_t i = h.pick(unused, key, &tried);
      ASSERT_NE(i, kNoPick);
      ASSERT_TRUE(seen.insert(i).second) << "member " << i << " returned twice";
      EXPECT_EQ(h.pick(unused, key, &tried), i);  // Deterministic for the same state.
      tried.insert(&h.state(i));
    }
    EXPECT_EQ(h.pick(unused, key, &tried), kNoPick);
  }
}

TEST_P(ConsistentHash, TriedMemberDoesNotMoveOtherKeys) {
  PolicyHarness h(GetParam(), std::vector<uint32_t>(10, 1));
  const auto keys = random_keys(20'000, 29);
  const auto before = map_keys(h, keys);
  TriedSet tried;
  tried.insert(&h.state(3));
  const std::string tried_address = h.members()[3].spec.address;
  const auto after = map_keys(h, keys, &tried);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    ASSERT_NE(after[k], tried_address);
    if (before[k] != tried_address) {
      EXPECT_EQ(after[k], before[k]);
    }
  }
}

TEST_P(ConsistentHash, NothingUsableSaysSo) {
  PolicyHarness h(GetParam(), {1, 1, 1});
  h.state(0).admin_state = AdminState::kDisabled;
  h.state(1).check_health = CheckHealth::kDown;
  h.state(2).agent_load = kAgentUnavailable;
  FastRng rng(1);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(h.pick(rng), kNoPick);

  PolicyHarness many(GetParam(), std::vector<uint32_t>(50, 1));
  for (std::size_t i = 0; i < 50; ++i) many.state(i).admin_state = AdminState::kDraining;
  for (int k = 0; k < 100; ++k) EXPECT_EQ(many.pick(rng), kNoPick);
}

TEST_P(ConsistentHash, EmptyOrAllZeroWeightHasNoPick) {
  FastRng rng(1);
  PolicyHarness empty(GetParam(), {});
  EXPECT_EQ(empty.pick(rng, 42), kNoPick);
  PolicyHarness zero(GetParam(), {0, 0});
  EXPECT_EQ(zero.pick(rng, 42), kNoPick);
}

INSTANTIATE_TEST_SUITE_P(Policies, ConsistentHash, ::testing::Values("ring_hash", "maglev"));

}  // namespace
}  // namespace fulcrum::core
