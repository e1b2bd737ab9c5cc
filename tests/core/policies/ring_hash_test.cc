#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fakes/ineligible.h"
#include "fakes/policy_drivers.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using testing::map_keys;
using testing::PolicyHarness;
using testing::random_keys;

constexpr char kPolicy[] = "ring_hash";

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

}  // namespace
}  // namespace fulcrum::core
