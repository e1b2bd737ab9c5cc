// Outlier ejection under concurrent reports (run under TSan, label "concurrency"): four threads
// report gateway errors for every server while a sweeper moves time and returns ejections. The
// cap on ejected servers is never exceeded, every slot is accounted for, and two servers ejected
// at once never leave the cluster without an eligible server.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/cluster_health.h"
#include "core/outlier.h"

namespace fulcrum::core {
namespace {

using std::chrono::seconds;

constexpr int kThreads = 4;

std::unique_ptr<Cluster> make(std::size_t n, uint32_t max_percent) {
  HealthOptions health;
  health.outlier.enabled = true;
  health.outlier.consecutive_5xx = 3;
  health.outlier.consecutive_gateway_errors = 2;
  health.outlier.base_ejection_time = seconds(1);
  health.outlier.max_ejection_time = seconds(3);
  health.outlier.max_ejection_percent = max_percent;
  std::vector<ServerSpec> specs;
  for (std::size_t i = 0; i < n; ++i) specs.push_back({"s" + std::to_string(i) + ":80"});
  return std::make_unique<Cluster>(
      ClusterOptions{.name = "c", .policy = "random", .passive = {}, .health = health}, specs);
}

/// Rounds of: kThreads threads each reporting `reports` errors over all servers at once, then,
/// with every thread stopped, `check`; then time moves on by `step` and a sweep runs.
/// `max_ejected` is checked on the shared count after every report.
template <typename Check>
void hammer(Cluster& cluster, ManualClock& clock, int rounds, int reports, Nanos step,
            uint32_t max_ejected, Check check) {
  const SnapshotPtr snapshot = cluster.snapshot();
  const std::size_t n = snapshot->size();
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int k = 0; k < reports; ++k) {
          const Member& m = snapshot->tiers[0].members[(k + t) % n];
          on_response(*m.state, k % 3 == 0 ? 500 : 503, *snapshot, clock.now());
          EXPECT_LE(cluster.health_state().ejected.load(), max_ejected);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    check(*snapshot, clock.now());
    clock.advance(step);
    sweep(*snapshot, clock.now());
  }
}

TEST(OutlierConcurrency, CapIsNeverExceeded) {
  auto cluster = make(20, 10);  // 10% of 20: at most 2 ejected at once.
  ManualClock clock;
  hammer(*cluster, clock, 60, 400, std::chrono::milliseconds(700), 2,
         [&](const ClusterSnapshot& s, Nanos now) {
           uint32_t holding = 0;
           uint32_t ejected_now = 0;
           for (const Member& m : s.tiers[0].members) {
             const int64_t until = m.state->ejected_until_ns.load();
             holding += until > 0;
             ejected_now += until > now.count();
           }
           EXPECT_LE(ejected_now, 2u);
           EXPECT_EQ(holding, cluster->health_state().ejected.load());  // No slot leaked or lost.
         });
  EXPECT_GT(cluster->health_state().ejections_total.load(), 10u);  // The cap was really tested.
  EXPECT_GT(cluster->health_state().returns_total.load(), 10u);
}

TEST(OutlierConcurrency, NeverEjectsTheLastEligibleServer) {
  auto cluster = make(2, 100);  // Only the last-eligible rule holds ejections back.
  ManualClock clock;
  std::atomic<int> both_candidates{0};
  // Many short rounds: each is one chance for the two servers' ejections to race.
  constexpr int kRounds = 400;
  hammer(*cluster, clock, kRounds, 24, seconds(4), 2, [&](const ClusterSnapshot& s, Nanos now) {
    int eligible = 0;
    for (const Member& m : s.tiers[0].members) {
      eligible += pickable(evaluate(m.spec, *m.state, s.passive, now));
    }
    EXPECT_GE(eligible, 1);
    both_candidates += eligible == 1;
  });
  EXPECT_GT(both_candidates.load(), kRounds / 2);  // Ejections did happen.
}

}  // namespace
}  // namespace fulcrum::core
