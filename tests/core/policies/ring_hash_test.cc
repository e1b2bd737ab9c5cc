#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fakes/ineligible.h"
#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using testing::PolicyHarness;
using testing::ScriptedRng;

constexpr char kPolicy[] = "ring_hash";

std::vector<uint64_t> random_keys(std::size_t n, uint64_t seed) {
  FastRng rng(seed);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng.next();
  return keys;
}

// The address each key lands on ("" for kNoPick): comparable across member orders and rebuilds.
std::vector<std::string> map_keys(PolicyHarness& h, const std::vector<uint64_t>& keys,
                                  const TriedSet* tried = nullptr) {
  FastRng unused(1);
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (uint64_t key : keys) {
    const std::size_t i = h.pick(unused, key, tried);
    out.push_back(i == kNoPick ? "" : h.members()[i].spec.address);
  }
  return out;
}

TEST(RingHash, SameKeySameMember) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(10, 1));
  FastRng rng(1);
  for (uint64_t key : random_keys(1000, 3)) {
    const std::size_t first = h.pick(rng, key);
    ASSERT_NE(first, kNoPick);
    for (int k = 0; k < 5; ++k) EXPECT_EQ(h.pick(rng, key), first);
  }
}

TEST(RingHash, AbsentKeyDrawsOneFromTheRng) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(10, 1));
  FastRng unused(1);
  for (uint64_t key : random_keys(200, 5)) {
    ScriptedRng rng({key});
    EXPECT_EQ(h.pick(rng), h.pick(unused, key));
  }
}

TEST(RingHash, TablesDependOnMembershipNotOrder) {
  PolicyHarness h(kPolicy, {5, 1, 2, 3, 1, 1, 4, 2, 1, 7});
  h.state(4).admin_state = AdminState::kDisabled;  // Exercises the walk too.
  const auto keys = random_keys(20'000, 11);
  const auto original = map_keys(h, keys);

  std::reverse(h.members().begin(), h.members().end());
  h.rebuild();
  EXPECT_EQ(map_keys(h, keys), original);

  std::mt19937_64 shuffle_rng(42);
  std::shuffle(h.members().begin(), h.members().end(), shuffle_rng);
  h.rebuild();
  EXPECT_EQ(map_keys(h, keys), original);
}

TEST(RingHash, FallbackScanDependsOnMembershipNotOrder) {
  // With 97 of 100 members unusable most keys reach the scan over members.
  std::vector<uint32_t> weights;
  for (uint32_t i = 0; i < 100; ++i) weights.push_back(1 + i % 4);
  PolicyHarness h(kPolicy, weights);
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

TEST(RingHash, SharesFollowWeights) {
  PolicyHarness h(kPolicy, {3, 1, 1, 1});
  FastRng rng(7);
  const std::size_t picks = 100'000;
  const auto counts = h.histogram(rng, picks);  // No key: random keys from the rng.
  const double expected[] = {0.5, 1.0 / 6, 1.0 / 6, 1.0 / 6};
  for (std::size_t i = 0; i < 4; ++i) {
    const double share = static_cast<double>(counts[i]) / picks;
    EXPECT_NEAR(share, expected[i], 0.05 * expected[i]) << i;
  }
  EXPECT_EQ(counts[4], 0u);  // Never kNoPick.
}

TEST(RingHash, EvenOverManyMembersWhenTheRingIsCapped) {
  // 1000 members need more than the point cap, so each gets about 520 points instead of 4096.
  PolicyHarness h(kPolicy, std::vector<uint32_t>(1000, 1));
  FastRng rng(9);
  const std::size_t picks = 1'000'000;
  const auto counts = h.histogram(rng, picks);
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end() - 1);
  EXPECT_GT(*lo, 700u);  // Mean 1000.
  EXPECT_LT(*hi, 1300u);
}

TEST(RingHash, ZeroWeightMembersGetNoKeys) {
  PolicyHarness h(kPolicy, {1, 0, 1});
  FastRng rng(3);
  const auto counts = h.histogram(rng, 10'000);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_EQ(counts[0] + counts[2], 10'000u);
}

// Removes one member, rebuilds, and checks that few keys move and that those that move are the
// removed member's.
void expect_minimal_disruption(std::size_t n) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(n, 1));
  const auto keys = random_keys(100'000, 13);
  const auto before = map_keys(h, keys);
  const std::size_t victim = n / 2;
  const std::string removed = h.members()[victim].spec.address;
  h.members().erase(h.members().begin() + static_cast<std::ptrdiff_t>(victim));
  h.rebuild();
  const auto after = map_keys(h, keys);

  std::size_t moved = 0, moved_from_removed = 0;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    ASSERT_NE(after[k], removed);
    ASSERT_NE(after[k], "");
    if (before[k] != after[k]) {
      ++moved;
      if (before[k] == removed) ++moved_from_removed;
    }
  }
  const double moved_share = static_cast<double>(moved) / keys.size();
  EXPECT_LE(moved_share, 1.0 / n + 0.05) << "n=" << n;
  EXPECT_GT(moved, 0u);
  // Below the point cap, with equal weights, survivors keep their points: only the removed
  // member's keys move.
  EXPECT_EQ(moved_from_removed, moved) << "n=" << n;
}

TEST(RingHash, RemovingOneOfTenMovesOnlyItsKeys) { expect_minimal_disruption(10); }
TEST(RingHash, RemovingOneOfAHundredMovesOnlyItsKeys) { expect_minimal_disruption(100); }

TEST(RingHash, SkipsIneligibleMembersAndKeepsEveryOtherKeyInPlace) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(10, 1), testing::passive_on());
  const auto keys = random_keys(20'000, 17);
  const auto before = map_keys(h, keys);
  testing::make_ineligible_each_way(h, 3);
  std::set<std::string> out;
  for (std::size_t i = 3; i < 3 + testing::kIneligibleWays; ++i) {
    out.insert(h.members()[i].spec.address);
  }
  const auto after = map_keys(h, keys);

  std::set<std::string> heirs;  // Members that took over keys of the unusable ones.
  for (std::size_t k = 0; k < keys.size(); ++k) {
    ASSERT_NE(after[k], "");
    ASSERT_EQ(out.count(after[k]), 0u) << after[k];
    if (out.count(before[k]) == 0) {
      EXPECT_EQ(after[k], before[k]);
    } else {
      heirs.insert(after[k]);
    }
  }
  // The keys of lost members are spread over the ring rather than piled onto one neighbour.
  EXPECT_EQ(heirs.size(), 10 - testing::kIneligibleWays);
}

TEST(RingHash, UnusableMemberLosesKeysExactlyAsIfRemoved) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(10, 1));
  const auto keys = random_keys(20'000, 19);
  h.state(4).check_health = CheckHealth::kDown;
  const auto while_down = map_keys(h, keys);
  h.members().erase(h.members().begin() + 4);
  h.rebuild();
  EXPECT_EQ(map_keys(h, keys), while_down);
}

TEST(RingHash, NeverReturnsTriedMembers) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(5, 1));
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

TEST(RingHash, TriedMemberDoesNotMoveOtherKeys) {
  PolicyHarness h(kPolicy, std::vector<uint32_t>(10, 1));
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

TEST(RingHash, FindsTheLastUsableMemberAmongMany) {
  // Long runs of unusable points exhaust the walk; the member scan must still find member 37.
  PolicyHarness h(kPolicy, std::vector<uint32_t>(100, 1));
  for (std::size_t i = 0; i < 100; ++i) {
    if (i != 37) h.state(i).admin_state = AdminState::kDisabled;
  }
  FastRng rng(31);
  const auto counts = h.histogram(rng, 5'000);
  EXPECT_EQ(counts[37], 5'000u);
}

TEST(RingHash, NothingUsableSaysSo) {
  PolicyHarness h(kPolicy, {1, 1, 1});
  h.state(0).admin_state = AdminState::kDisabled;
  h.state(1).check_health = CheckHealth::kDown;
  h.state(2).agent_load = kAgentUnavailable;
  FastRng rng(1);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(h.pick(rng), kNoPick);

  PolicyHarness many(kPolicy, std::vector<uint32_t>(50, 1));
  for (std::size_t i = 0; i < 50; ++i) many.state(i).admin_state = AdminState::kDraining;
  for (int k = 0; k < 100; ++k) EXPECT_EQ(many.pick(rng), kNoPick);
}

TEST(RingHash, EmptyOrAllZeroWeightHasNoPick) {
  FastRng rng(1);
  PolicyHarness empty(kPolicy, {});
  EXPECT_EQ(empty.pick(rng, 42), kNoPick);
  PolicyHarness zero(kPolicy, {0, 0});
  EXPECT_EQ(zero.pick(rng, 42), kNoPick);
}

}  // namespace
}  // namespace fulcrum::core
