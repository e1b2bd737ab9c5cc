// The alias table behind the weighted random policies: exact integer probabilities.
#include "core/policies/weighted_draw.h"

#include <gtest/gtest.h>

#include "fakes/policy_harness.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core::policies {
namespace {

using testing::PolicyHarness;

std::vector<Member> members_with(const std::vector<uint32_t>& weights) {
  std::vector<Member> out;
  for (uint32_t w : weights) out.push_back({ServerSpec{"x:1", w, false}, nullptr});
  return out;
}

void expect_exact(const std::vector<uint32_t>& weights) {
  const auto members = members_with(weights);
  AliasTable table(members);
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  EXPECT_EQ(table.total(), total);
  for (std::size_t i = 0; i < weights.size(); ++i) {
    EXPECT_EQ(table.mass(i), uint64_t{weights[i]} * weights.size()) << "member " << i;
  }
}

TEST(AliasTable, EveryMemberGetsExactlyItsWeight) {
  expect_exact({1});
  expect_exact({3, 1, 1, 1});
  expect_exact({5, 5, 5});
  expect_exact({0, 7, 0, 1, 2});
  expect_exact({1, 1'000'000, 3, 4'294'967'295u});
  std::vector<uint32_t> many;
  FastRng rng(9);
  for (int i = 0; i < 10'000; ++i) many.push_back(static_cast<uint32_t>(rng.below(257)));
  expect_exact(many);
}

TEST(AliasTable, AllZeroWeightsHasNoTotal) {
  const auto members = members_with({0, 0});
  AliasTable table(members);
  EXPECT_EQ(table.total(), 0u);
}

TEST(AliasTable, DrawOfEachColumnWithCoinZeroIsThatMember) {
  // Every member with weight keeps part of its own column, which scripted tests rely on.
  const auto members = members_with({3, 1, 7, 2, 1});
  AliasTable table(members);
  for (std::size_t i = 0; i < members.size(); ++i) {
    testing::ScriptedRng rng({testing::ScriptedRng::draw_for(i, members.size()), 0});
    EXPECT_EQ(table.draw(rng), i);
  }
}

TEST(DrawTwo, GivesTwoDistinctUsableMembers) {
  PolicyHarness h("random", {1, 1, 1, 1});
  h.state(2).admin_state = AdminState::kDisabled;
  AliasTable table(h.members());
  const PassiveOptions passive{.attempts = 3, .offline_timeout = {}};
  Candidates c(h.members(), passive, Nanos{0}, nullptr);
  FastRng rng(3);
  for (int k = 0; k < 1'000; ++k) {
    const TwoChoices d = draw_two(table, c, rng);
    ASSERT_NE(d.first, kNoPick);
    ASSERT_NE(d.second, kNoPick);
    EXPECT_NE(d.first, d.second);
    EXPECT_NE(d.first, 2u);
    EXPECT_NE(d.second, 2u);
  }
}

TEST(DrawTwo, SingleUsableMemberComesBackAlone) {
  PolicyHarness h("random", {1, 1, 1});
  h.state(0).admin_state = AdminState::kDisabled;
  h.state(2).admin_state = AdminState::kDisabled;
  AliasTable table(h.members());
  const PassiveOptions passive{.attempts = 3, .offline_timeout = {}};
  Candidates c(h.members(), passive, Nanos{0}, nullptr);
  FastRng rng(3);
  const TwoChoices d = draw_two(table, c, rng);
  EXPECT_EQ(d.first, 1u);
  EXPECT_EQ(d.second, kNoPick);
}

/// Raw draws that make the alias table draw `members` in order (column, then coin 0).
testing::ScriptedRng script(std::size_t n, std::initializer_list<std::size_t> members) {
  std::vector<uint64_t> values;
  for (std::size_t i : members) {
    values.push_back(testing::ScriptedRng::draw_for(i, n));
    values.push_back(0);
  }
  return testing::ScriptedRng(values);
}

TEST(DrawTwo, UsesDrawsInOrderLikeOneAtATime) {
  PolicyHarness h("random", {1, 1, 1, 1});
  h.state(1).admin_state = AdminState::kDisabled;
  AliasTable table(h.members());
  const PassiveOptions passive{.attempts = 3, .offline_timeout = {}};
  Candidates c(h.members(), passive, Nanos{0}, nullptr);
  {
    auto rng = script(4, {1, 2, 3});  // 1 unusable: 2 is the first, 3 the second.
    const TwoChoices d = draw_two(table, c, rng);
    EXPECT_EQ(d.first, 2u);
    EXPECT_EQ(d.second, 3u);
  }
  {
    auto rng = script(4, {0, 0, 1, 3});  // Repeat and unusable draws are skipped for the second.
    const TwoChoices d = draw_two(table, c, rng);
    EXPECT_EQ(d.first, 0u);
    EXPECT_EQ(d.second, 3u);
  }
  {
    auto rng = script(4, {1, 1, 1, 0, 2});
    const TwoChoices d = draw_two(table, c, rng);
    EXPECT_EQ(d.first, 0u);
    EXPECT_EQ(d.second, 2u);
  }
}

/// Counts raw draws, to check that work is bounded.
class CountingRng final : public Rng {
 public:
  uint64_t next() override {
    ++draws;
    return inner_.next();
  }
  std::size_t draws = 0;

 private:
  FastRng inner_{5};
};

TEST(DrawTwo, NothingUsableAfterBoundedDraws) {
  PolicyHarness h("random", std::vector<uint32_t>(1'000, 1));
  for (std::size_t i = 0; i < 1'000; ++i) h.state(i).admin_state = AdminState::kDraining;
  AliasTable table(h.members());
  const PassiveOptions passive{.attempts = 3, .offline_timeout = {}};
  Candidates c(h.members(), passive, Nanos{0}, nullptr);
  CountingRng rng;
  const TwoChoices d = draw_two(table, c, rng);
  EXPECT_EQ(d.first, kNoPick);
  EXPECT_EQ(d.second, kNoPick);
  EXPECT_LE(rng.draws, 2u * kMaxDraws + 1);  // kMaxDraws weighted draws, one scan start.
}

}  // namespace
}  // namespace fulcrum::core::policies
