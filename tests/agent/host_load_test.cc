// The load arithmetic of fulcrum-agent: load average over cores, CPU busy share from /proc/stat.
#include "agent/host_load.h"

#include <gtest/gtest.h>

namespace fulcrum::agent {
namespace {

TEST(LoadPercentTest, LoadAverageOverCoresScaledAndClamped) {
  EXPECT_EQ(load_percent(0.0, 4), 0);
  EXPECT_EQ(load_percent(1.0, 4), 25);
  EXPECT_EQ(load_percent(2.0, 4), 50);
  EXPECT_EQ(load_percent(0.333, 1), 33);
  EXPECT_EQ(load_percent(0.335, 1), 34) << "rounded";
  EXPECT_EQ(load_percent(4.0, 4), 100);
  EXPECT_EQ(load_percent(12.0, 4), 100) << "clamped";
  EXPECT_EQ(load_percent(1.0, 0), 100) << "no cores reported: taken as one";
  EXPECT_EQ(load_percent(-1.0, 2), 0);
}

TEST(LoadPercentTest, HostLoadAverageIsReadable) {
  const auto load = read_load_average_percent();
  ASSERT_TRUE(load.has_value());
  EXPECT_GE(*load, 0);
  EXPECT_LE(*load, 100);
}

TEST(ProcStatTest, ParsesTheAggregateLine) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const auto times = parse_proc_stat("cpu  100 5 50 800 20 3 2 0 7 0\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->total, 980U);
  EXPECT_EQ(times->busy, 160U);
}

TEST(ProcStatTest, OldKernelsWithFourFields) {
  const auto times = parse_proc_stat("cpu 10 0 10 80");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->total, 100U);
  EXPECT_EQ(times->busy, 20U);
}

TEST(ProcStatTest, RejectsWhatIsNotTheAggregateLine) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("cpu0 1 2 3 4"));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 x 4"));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 -3 4"));
}

TEST(ProcStatTest, HostProcStatIsReadable) {
  const auto times = read_proc_stat();
  ASSERT_TRUE(times);
  EXPECT_GT(times->total, 0U);
  EXPECT_LE(times->busy, times->total);
}

TEST(BusyPercentTest, ShareOfBusyTicksBetweenSamples) {
  EXPECT_EQ(busy_percent({.busy = 100, .total = 1000}, {.busy = 150, .total = 1100}), 50);
  EXPECT_EQ(busy_percent({.busy = 100, .total = 1000}, {.busy = 100, .total = 1400}), 0);
  EXPECT_EQ(busy_percent({.busy = 0, .total = 0}, {.busy = 30, .total = 30}), 100);
  EXPECT_EQ(busy_percent({.busy = 0, .total = 0}, {.busy = 1, .total = 3}), 33);
}

TEST(BusyPercentTest, NoAnswerWithoutElapsedTicks) {
  EXPECT_FALSE(busy_percent({.busy = 5, .total = 10}, {.busy = 5, .total = 10}));
  EXPECT_FALSE(busy_percent({.busy = 5, .total = 10}, {.busy = 1, .total = 9}));
}

}  // namespace
}  // namespace fulcrum::agent
