#include "core/policies/least_connections.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "fakes/ineligible.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using namespace std::chrono_literals;
using policies::kLeastConnectionsScanMax;
using policies::least_connections_check_for_test;
using policies::least_connections_parked_for_test;
using testing::PolicyHarness;

/// Disabled members appended after the ones a test is about. 40 of them push any tier past
/// kLeastConnectionsScanMax, so the same cases run once through the scan and once through the
/// tree; disabled members also exercise parking on every tree case.
constexpr std::size_t kTreeFillers = 40;

class LeastConnections : public ::testing::TestWithParam<std::size_t> {
 protected:
  /// A harness over `weights` plus the parameter's fillers.
  static std::unique_ptr<PolicyHarness> make(std::vector<uint32_t> weights,
                                             PassiveOptions passive = PassiveOptions{
                                                 .attempts = 3, .offline_timeout = {}}) {
    weights.resize(weights.size() + GetParam(), 1);
    auto h = std::make_unique<PolicyHarness>("least_connections", weights, passive);
    for (std::size_t i = weights.size() - GetParam(); i < weights.size(); ++i) {
      h->state(i).admin_state = AdminState::kDisabled;
    }
    return h;
  }

  static void set_load(PolicyHarness& h, std::size_t i, int32_t in_flight) {
    h.state(i).in_flight = in_flight;
    h.policy().on_load_changed(i);
  }
  static void add_load(PolicyHarness& h, std::size_t i, int32_t delta) {
    h.state(i).in_flight += delta;
    h.policy().on_load_changed(i);
  }
  /// One request at a time, as sequential traffic: picked, in flight, finished before the next.
  static std::size_t pick_one_request(PolicyHarness& h, Rng& rng) {
    const std::size_t i = h.pick(rng);
    if (i != kNoPick) {
      add_load(h, i, 1);
      add_load(h, i, -1);
    }
    return i;
  }
};

TEST_P(LeastConnections, PicksTheLeastLoaded) {
  auto owner = make({1, 1, 1, 1});
  PolicyHarness& h = *owner;
  const std::vector<int32_t> loads{3, 1, 2, 5};
  for (std::size_t i = 0; i < loads.size(); ++i) set_load(h, i, loads[i]);
  FastRng rng(1);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(h.pick(rng), 1u);
  set_load(h, 1, 4);
  EXPECT_EQ(h.pick(rng), 2u);
  set_load(h, 3, 0);
  EXPECT_EQ(h.pick(rng), 3u);
}

TEST_P(LeastConnections, LoadIsInFlightPerWeightWithoutPlusOne) {
  auto owner = make({3, 1});
  PolicyHarness& h = *owner;
  FastRng rng(1);
  // Open connections (TCP mode's count) are not what is balanced: in-flight requests are.
  h.state(1).active_connections = 1000;
  set_load(h, 0, 2);  // 2 / 3 > 0 / 1.
  EXPECT_EQ(h.pick(rng), 1u);
  set_load(h, 1, 1);  // 2 / 3 < 1 / 1.
  EXPECT_EQ(h.pick(rng), 0u);
  set_load(h, 0, 4);  // 4 / 3 > 1 / 1.
  EXPECT_EQ(h.pick(rng), 1u);
  // 3 / 3 == 1 / 1: equal loads take turns by weight, 3 picks to 1 in every 4.
  set_load(h, 0, 3);
  // (Within one pick: the rotation is mid-way from the picks above.)
  std::vector<int> counts(2, 0);
  for (int k = 0; k < 400; ++k) counts[h.pick(rng)]++;
  EXPECT_NEAR(counts[0], 300, 1);
  EXPECT_NEAR(counts[1], 100, 1);
}

TEST_P(LeastConnections, WeightedRampUpFollowsWeights) {
  auto owner = make({3, 1});
  PolicyHarness& h = *owner;
  FastRng rng(1);
  std::vector<std::size_t> picks;
  for (int k = 0; k < 12; ++k) {
    const std::size_t i = h.pick(rng);
    picks.push_back(i);
    add_load(h, i, 1);
  }
  // Loads a / 3 and b / 1. Idle, member 0's first deadline (a third of a stride of weight 1)
  // comes first; the equal loads at (3, 1), (6, 2), (9, 3) go to member 0 too, whose deadline
  // runs three times slower and is still behind member 1's.
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}));
}

TEST_P(LeastConnections, SequentialTrafficInterleavesByWeight) {
  auto owner = make({1, 2, 1});
  PolicyHarness& h = *owner;
  FastRng rng(1);
  // Every server idle at every pick, so only the tie-break decides: smooth, b a b c, and the
  // weight-2 server gets exactly half, not all, of the traffic.
  for (int round = 0; round < 250; ++round) {
    std::vector<std::size_t> picks;
    for (int k = 0; k < 4; ++k) picks.push_back(pick_one_request(h, rng));
    ASSERT_EQ(picks, (std::vector<std::size_t>{1, 0, 1, 2})) << "round " << round;
  }
}

TEST_P(LeastConnections, SequentialTrafficRotatesEqualWeights) {
  auto owner = make({5, 5, 5});
  PolicyHarness& h = *owner;
  FastRng rng(1);
  for (int k = 0; k < 300; ++k) ASSERT_EQ(pick_one_request(h, rng), std::size_t(k % 3)) << k;
}

TEST_P(LeastConnections, AgentLoadScalesTheShare) {
  auto owner = make({1, 1});
  PolicyHarness& h = *owner;
  h.state(0).agent_load = 0;   // Effective weight 1 x 101.
  h.state(1).agent_load = 50;  // Effective weight 1 x 51.
  h.rebuild();                 // First deadlines from these weights, as a new snapshot would.
  FastRng rng(1);
  std::size_t first = 0;
  // Every prefix of the sequence stays within one pick of the 101 : 51 share.
  for (std::size_t t = 1; t <= 152 * 20; ++t) {
    first += pick_one_request(h, rng) == 0;
    const double due = static_cast<double>(t) * 101 / 152;
    ASSERT_LE(std::abs(static_cast<double>(first) - due), 1.0) << "after " << t << " picks";
  }
  EXPECT_EQ(first, 101u * 20);
}

TEST_P(LeastConnections, ConcurrentRequestsFollowWeights) {
  const std::vector<uint32_t> weights{1, 2, 1, 3};
  auto owner = make(weights);
  PolicyHarness& h = *owner;
  FastRng rng(5);
  // Equally fast servers: a request holds its server for 1..20 ticks whichever it is; 100 are in
  // flight at any time.
  constexpr std::size_t kConcurrency = 100;
  constexpr int kRequests = 70'000;
  std::vector<std::pair<int, std::size_t>> open;  // (tick it finishes, server)
  std::vector<std::size_t> counts(weights.size(), 0);
  for (int tick = 0, started = 0; started < kRequests; ++tick) {
    for (std::size_t k = 0; k < open.size();) {
      if (open[k].first > tick) {
        ++k;
        continue;
      }
      add_load(h, open[k].second, -1);
      open[k] = open.back();
      open.pop_back();
    }
    while (open.size() < kConcurrency) {
      const std::size_t i = h.pick(rng);
      ASSERT_LT(i, weights.size());
      add_load(h, i, 1);
      open.emplace_back(tick + 1 + static_cast<int>(rng.below(20)), i);
      counts[i]++;
      ++started;
    }
  }
  // Shares of requests, weights 1 : 2 : 1 : 3 of 7. Equal service times make each server's share
  // its share of the requests in flight. Least connections keeps those within whole requests of
  // weight x 100 / 7 (a server whose count is a request or two off still gets back each request
  // that finishes there, since that makes it the least loaded), hence a tolerance of 2 / 100.
  const double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), 0u));
  for (std::size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(counts[i]) / total, weights[i] / 7.0, 2.0 / kConcurrency) << i;
  }
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

TEST_P(LeastConnections, TiesRotateEvenly) {
  auto owner = make({1, 1, 1, 1});
  PolicyHarness& h = *owner;
  FastRng rng(1);
  // Picks alone (no load notified) still advance the rotation.
  const auto counts = h.histogram(rng, 100'000);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(counts[i], 25'000u) << i;
}

TEST_P(LeastConnections, PickedMemberAlwaysHadTheLeastKey) {
  const std::vector<uint32_t> weights{1, 2, 3, 4, 1, 2};
  auto owner = make(weights);
  PolicyHarness& h = *owner;
  FastRng rng(7);
  std::vector<std::size_t> open;  // One entry per connection still open.
  for (int step = 0; step < 20'000; ++step) {
    // At most 200 open: loads then stay where the key's 10-bit mantissa orders them exactly
    // (in_flight x weight <= 1024).
    if (open.empty() || (open.size() < 200 && rng.below(2) == 0)) {
      const std::size_t i = h.pick(rng);
      ASSERT_LT(i, weights.size());
      const int64_t a_i = h.state(i).in_flight;
      for (std::size_t j = 0; j < weights.size(); ++j) {
        // a_i / w_i <= a_j / w_j, cross-multiplied.
        const int64_t a_j = h.state(j).in_flight;
        ASSERT_LE(a_i * weights[j], a_j * weights[i]) << "step " << step << " picked " << i;
      }
      add_load(h, i, 1);
      open.push_back(i);
    } else {
      const std::size_t k = rng.below(open.size());
      add_load(h, open[k], -1);
      open[k] = open.back();
      open.pop_back();
    }
  }
  for (std::size_t i : open) add_load(h, i, -1);
  for (std::size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(h.state(i).in_flight, 0);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

TEST_P(LeastConnections, RequestFlowKeepsEqualServersWithinOne) {
  constexpr std::size_t kServers = 8;
  auto owner = make(std::vector<uint32_t>(kServers, 1));
  PolicyHarness& h = *owner;
  FastRng rng(3);
  std::deque<std::size_t> open;
  auto spread = [&] {
    int32_t lo = h.state(0).in_flight, hi = lo;
    for (std::size_t i = 1; i < kServers; ++i) {
      lo = std::min(lo, h.state(i).in_flight.load());
      hi = std::max(hi, h.state(i).in_flight.load());
    }
    return hi - lo;
  };
  // Connections finish oldest first, as under uniform service times: load never drifts apart.
  for (int step = 0; step < 10'000; ++step) {
    const std::size_t i = h.pick(rng);
    ASSERT_LT(i, kServers);
    add_load(h, i, 1);
    open.push_back(i);
    if (open.size() > 37) {
      add_load(h, open.front(), -1);
      open.pop_front();
    }
    ASSERT_LE(spread(), 1) << "step " << step;
  }
}

TEST_P(LeastConnections, SkipsEveryKindOfIneligibleMember) {
  auto owner = make({1, 1, 1, 1, 1, 1, 1}, testing::passive_on());
  PolicyHarness& h = *owner;
  testing::make_ineligible_each_way(h, 0);  // Members 0-4, all idle, so least loaded.
  set_load(h, 5, 3);
  set_load(h, 6, 4);
  FastRng rng(1);
  for (int k = 0; k < 50; ++k) {
    const std::size_t i = h.pick(rng);
    ASSERT_TRUE(i == 5 || i == 6) << i;
    add_load(h, i, 1);
  }
  // The tree parks what it found ineligible (the fillers too), so picks stop meeting them.
  EXPECT_EQ(least_connections_parked_for_test(h.policy()), GetParam() == 0 ? 0 : GetParam() + 5);
  EXPECT_EQ(h.state(5).in_flight + h.state(6).in_flight, 57);
  EXPECT_LE(std::abs(h.state(5).in_flight - h.state(6).in_flight), 1);
}

TEST_P(LeastConnections, ZeroWeightIsNeverPicked) {
  auto owner = make({0, 1});
  PolicyHarness& h = *owner;
  set_load(h, 1, 1000);
  FastRng rng(1);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(h.pick(rng), 1u);
}

TEST_P(LeastConnections, NeverReturnsTriedMembersButDoesNotForgetThem) {
  auto owner = make({1, 1, 1});
  PolicyHarness& h = *owner;
  set_load(h, 1, 1);
  set_load(h, 2, 2);
  FastRng rng(1);
  TriedSet tried;
  tried.insert(&h.state(0));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 1u);
  tried.insert(&h.state(1));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 2u);
  tried.insert(&h.state(2));
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), kNoPick);
  // Tried by one request says nothing about the next: nothing new is parked, and member 0 is
  // still the least loaded.
  EXPECT_EQ(least_connections_parked_for_test(h.policy()), GetParam());
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST_P(LeastConnections, AnIneligibleMemberReturnsWithinTheSweepInterval) {
  auto owner = make({1, 1, 1});
  PolicyHarness& h = *owner;
  set_load(h, 1, 5);
  set_load(h, 2, 5);
  h.state(0).check_health = CheckHealth::kDown;
  FastRng rng(1);
  for (int k = 0; k < 10; ++k) EXPECT_NE(h.pick(rng), 0u);
  h.state(0).check_health = CheckHealth::kUp;
  h.clock().advance(100ms);
  EXPECT_EQ(h.pick(rng), 0u);
  EXPECT_EQ(least_connections_parked_for_test(h.policy()), GetParam());  // Only the fillers.
}

TEST_P(LeastConnections, AnOfflineMemberIsTriedAgainAfterTheOfflineTimeout) {
  auto owner = make({1, 1}, testing::passive_on());
  PolicyHarness& h = *owner;
  set_load(h, 1, 5);
  h.state(0).consecutive_failures = 3;
  h.state(0).last_failure_ns = h.clock().now().count();
  FastRng rng(1);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(h.pick(rng), 1u);
  h.clock().advance(10s);
  EXPECT_EQ(h.pick(rng), 0u);
}

TEST_P(LeastConnections, NothingUsableSaysSo) {
  auto owner = make({1, 1});
  PolicyHarness& h = *owner;
  h.state(0).agent_load = kAgentUnavailable;
  h.state(1).admin_state = AdminState::kDraining;
  FastRng rng(1);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(h.pick(rng), kNoPick);
  h.state(1).admin_state = AdminState::kEnabled;
  h.clock().advance(100ms);
  EXPECT_EQ(h.pick(rng), 1u);
}

TEST_P(LeastConnections, CountersChangedWithoutNoticeAreCorrected) {
  auto owner = make({1, 1, 1});
  PolicyHarness& h = *owner;
  set_load(h, 1, 2);
  set_load(h, 2, 3);
  FastRng rng(1);
  // Busier than the index says (load counted while another policy object was current): the
  // pick's verification sees the real count.
  EXPECT_EQ(h.pick(rng), 0u);  // Also runs the first sweep, which would otherwise do the fixing.
  h.state(0).in_flight = 10;
  EXPECT_EQ(h.pick(rng), 1u);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
  // Idler than the index says: no pick looks at it, the next sweep does.
  h.state(0).in_flight = 0;
  // The scan sees it at once; the tree not before the sweep is due (the documented staleness).
  EXPECT_EQ(h.pick(rng), GetParam() == 0 ? 0u : 1u);
  h.clock().advance(100ms);
  EXPECT_EQ(h.pick(rng), 0u);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

INSTANTIATE_TEST_SUITE_P(Paths, LeastConnections, ::testing::Values(0, kTreeFillers),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return info.param == 0 ? "Scan" : "Tree";
                         });

// The tree at scale.

PolicyHarness large(std::size_t n) {
  return PolicyHarness("least_connections", std::vector<uint32_t>(n, 1));
}

TEST(LeastConnectionsTree, TiesRotateEvenlyOverAThousandMembers) {
  PolicyHarness h = large(1000);
  FastRng rng(1);
  const auto counts = h.histogram(rng, 100'000);
  for (std::size_t i = 0; i < 1000; ++i) EXPECT_NEAR(counts[i], 100.0, 1.0) << i;
  EXPECT_EQ(counts[1000], 0u);
}

TEST(LeastConnectionsTree, RampUpFillsEveryMemberBeforeAnyGetsTwo) {
  PolicyHarness h = large(1000);
  FastRng rng(1);
  std::vector<int> seen(1000, 0);
  for (int k = 0; k < 1000; ++k) {
    const std::size_t i = h.pick(rng);
    ASSERT_LT(i, 1000u);
    ASSERT_EQ(seen[i]++, 0) << i;
    h.state(i).in_flight++;
    h.policy().on_load_changed(i);
  }
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

TEST(LeastConnectionsTree, MostMembersDown) {
  PolicyHarness h = large(1000);
  for (std::size_t i = 0; i < 1000; ++i) {
    if (i % 100 != 7) h.state(i).check_health = CheckHealth::kDown;
  }
  for (std::size_t i = 7; i < 1000; i += 100) {
    h.state(i).in_flight = static_cast<int32_t>(i / 100);
    h.policy().on_load_changed(i);
  }
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng), 7u);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
  // Down members are parked out of the tree as picks and the sweep meet them.
  for (int k = 0; k < 200; ++k) {
    const std::size_t i = h.pick(rng);
    ASSERT_EQ(i % 100, 7u) << i;
    h.state(i).in_flight++;
    h.policy().on_load_changed(i);
  }
  EXPECT_EQ(least_connections_parked_for_test(h.policy()), 990u);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

TEST(LeastConnectionsTree, ManyTriedMembersFallBackToTheScan) {
  PolicyHarness h = large(20);
  for (std::size_t i = 0; i < 20; ++i) {
    h.state(i).in_flight = static_cast<int32_t>(i < 12 ? 0 : 1 + i);
    h.policy().on_load_changed(i);
  }
  TriedSet tried;
  for (std::size_t i = 0; i < 12; ++i) tried.insert(&h.state(i));
  FastRng rng(1);
  EXPECT_EQ(h.pick(rng, std::nullopt, &tried), 12u);
  EXPECT_EQ(least_connections_check_for_test(h.policy()), "");
}

TEST(LeastConnectionsTree, ScanThresholdIsWhereTheTreeStarts) {
  for (std::size_t n : {kLeastConnectionsScanMax, kLeastConnectionsScanMax + 1}) {
    PolicyHarness h = large(n);
    for (std::size_t i = 1; i < n; ++i) {
      h.state(i).in_flight = 1;
      h.policy().on_load_changed(i);
    }
    FastRng rng(1);
    EXPECT_EQ(h.pick(rng), 0u) << n;
    h.state(0).in_flight = 5;  // Without notice: only a tree can hold a stale key.
    const bool tree = n > kLeastConnectionsScanMax;
    EXPECT_EQ(least_connections_check_for_test(h.policy()).empty(), !tree) << n;
    EXPECT_EQ(h.pick(rng), 1u) << n;
    EXPECT_EQ(least_connections_check_for_test(h.policy()), "") << n;
  }
}

}  // namespace
}  // namespace fulcrum::core
