// Rise/fall counting, the choice of interval, jitter bounds and the spread of first checks.

#include "health/check_schedule.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
using Change = RiseFall::Change;

TEST(RiseFall, UpServerGoesDownAfterFallFailuresInARow) {
  RiseFall s(2, 3, /*up=*/true);
  EXPECT_EQ(s.record(false), Change::kNone);
  EXPECT_EQ(s.record(false), Change::kNone);
  EXPECT_TRUE(s.up());
  EXPECT_EQ(s.streak(), 2u);
  EXPECT_EQ(s.record(false), Change::kWentDown);
  EXPECT_FALSE(s.up());
  EXPECT_FALSE(s.changing());
}

TEST(RiseFall, ASuccessInBetweenRestartsTheCount) {
  RiseFall s(2, 3, true);
  s.record(false);
  s.record(false);
  EXPECT_EQ(s.record(true), Change::kNone);
  EXPECT_EQ(s.streak(), 0u);
  EXPECT_EQ(s.record(false), Change::kNone);
  EXPECT_EQ(s.record(false), Change::kNone);
  EXPECT_EQ(s.record(false), Change::kWentDown);
}

TEST(RiseFall, DownServerComesUpAfterRiseSuccesses) {
  RiseFall s(2, 3, /*up=*/false);
  EXPECT_EQ(s.record(true), Change::kNone);
  EXPECT_TRUE(s.changing());
  EXPECT_EQ(s.record(false), Change::kNone);  // Restart.
  EXPECT_EQ(s.record(true), Change::kNone);
  EXPECT_EQ(s.record(true), Change::kWentUp);
  EXPECT_TRUE(s.up());
  EXPECT_EQ(s.record(true), Change::kNone);
}

TEST(RiseFall, RiseAndFallOfOneFlipAtOnce) {
  RiseFall s(1, 1, true);
  EXPECT_EQ(s.record(false), Change::kWentDown);
  EXPECT_EQ(s.record(true), Change::kWentUp);
  RiseFall zero(0, 0, true);  // Treated as 1, never "never".
  EXPECT_EQ(zero.record(false), Change::kWentDown);
}

TEST(NextInterval, SteadyUpChangingAndDown) {
  const CheckIntervals i{milliseconds(2000), milliseconds(500), milliseconds(5000), 0};
  RiseFall s(2, 3, true);
  EXPECT_EQ(next_interval(i, s, false), milliseconds(2000));
  EXPECT_EQ(next_interval(i, s, /*passive_trouble=*/true), milliseconds(500));
  s.record(false);
  EXPECT_EQ(next_interval(i, s, false), milliseconds(500));  // Going down: confirm fast.
  s.record(false);
  s.record(false);
  EXPECT_FALSE(s.up());
  EXPECT_EQ(next_interval(i, s, false), milliseconds(5000));
  EXPECT_EQ(next_interval(i, s, true), milliseconds(5000));  // No traffic reaches it anyway.
  s.record(true);
  EXPECT_EQ(next_interval(i, s, false), milliseconds(500));  // Coming up: confirm fast.
}

TEST(Jittered, StaysWithinThePercentageAndCoversIt) {
  std::mt19937_64 random(7);
  const milliseconds base(1000);
  core::Nanos lowest = core::Nanos::max();
  core::Nanos highest{0};
  for (int i = 0; i < 10000; ++i) {
    const core::Nanos d = jittered(base, 10, random());
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_GE(lowest, milliseconds(900));
  EXPECT_LE(highest, milliseconds(1100));
  EXPECT_LT(lowest, milliseconds(905));
  EXPECT_GT(highest, milliseconds(1095));
}

TEST(Jittered, ExtremesOfTheRandomRangeAndNoJitter) {
  EXPECT_EQ(jittered(milliseconds(1000), 10, 0), milliseconds(900));
  EXPECT_EQ(jittered(milliseconds(1000), 10, UINT64_MAX), milliseconds(1100));
  EXPECT_EQ(jittered(milliseconds(1000), 0, 12345), milliseconds(1000));
  EXPECT_EQ(jittered(core::Nanos{10}, 0, 0), milliseconds(1));  // Floor: never a busy loop.
}

TEST(FirstCheckOffset, SpreadsServersEvenlyOverTheInterval) {
  const milliseconds interval(1000);
  std::vector<int64_t> offsets;
  for (std::size_t i = 0; i < 8; ++i) {
    offsets.push_back(
        std::chrono::duration_cast<milliseconds>(first_check_offset(interval, i, 8)).count());
  }
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 125, 250, 375, 500, 625, 750, 875}));
  EXPECT_EQ(first_check_offset(interval, 0, 0), core::Nanos{0});
}

}  // namespace
}  // namespace fulcrum::health
