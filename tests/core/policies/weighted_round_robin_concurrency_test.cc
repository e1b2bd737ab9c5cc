// Smooth weighted round robin under concurrent picks: the lock makes every pick one atomic step
// of the nginx sequence, so totals over whole cycles stay exact whatever the interleaving.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

TEST(WeightedRoundRobinConcurrency, TotalsStayExact) {
  testing::PolicyHarness h("weighted_round_robin", {5, 1, 1});
  constexpr int kThreads = 4;
  constexpr int kPicksEach = 7 * 5'000;
  std::vector<std::vector<std::size_t>> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, &counts, t] {
      FastRng rng(t + 1);
      counts[t] = h.histogram(rng, kPicksEach);
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::size_t> total(4, 0);
  for (const auto& c : counts) {
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += c[i];
  }
  constexpr std::size_t kCycles = kThreads * kPicksEach / 7;
  EXPECT_EQ(total, (std::vector<std::size_t>{5 * kCycles, kCycles, kCycles, 0}));
}

}  // namespace
}  // namespace fulcrum::core
