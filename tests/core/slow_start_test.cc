// Slow start and agent weight percentages, applied by admission in TryList::next for every
// policy: the ramp's values, scripted admissions, and shares measured through real try-lists.
#include "core/slow_start.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/cluster_health.h"
#include "core/try_list.h"
#include "fakes/policy_drivers.h"
#include "fakes/scripted_rng.h"

namespace fulcrum::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

HealthOptions slow_start_of(Nanos window) {
  HealthOptions options;
  options.slow_start = window;
  return options;
}

double as_fraction(uint32_t factor) { return static_cast<double>(factor) / kFullAdmission; }

TEST(SlowStart, RampsLinearlyFromTenPercent) {
  const HealthOptions options = slow_start_of(seconds(10));
  ServerState s("a:1");
  const Nanos t0{50'000'000'000};
  EXPECT_EQ(slow_start_factor(s, t0, options), kFullAdmission);  // Not warming.
  begin_warm_up(s, t0, options);
  EXPECT_EQ(s.warming_since_ns.load(), t0.count());
  for (int tenth = 0; tenth <= 10; ++tenth) {
    const double expected = tenth == 10 ? 1.0 : 0.1 + 0.9 * tenth / 10.0;
    EXPECT_NEAR(as_fraction(slow_start_factor(s, t0 + seconds(tenth), options)), expected, 1e-4)
        << tenth;
  }
  EXPECT_EQ(slow_start_factor(s, t0 + seconds(11), options), kFullAdmission);
  // Before the warm-up start (an ejection not yet over): the ramp's bottom.
  EXPECT_EQ(slow_start_factor(s, t0 - seconds(1), options), kRampStart);
}

TEST(SlowStart, OffWhenTheWindowIsZero) {
  ServerState s("a:1");
  begin_warm_up(s, Nanos{5}, HealthOptions{});
  EXPECT_EQ(s.warming_since_ns.load(), 0);
  s.warming_since_ns = 5;
  EXPECT_EQ(slow_start_factor(s, Nanos{6}, HealthOptions{}), kFullAdmission);
}

TEST(SlowStart, AgentPercentMultipliesTheRampAndIsCappedAtFull) {
  const HealthOptions options = slow_start_of(seconds(10));
  ServerState s("a:1");
  const Nanos t0{50'000'000'000};
  s.agent_weight_percent = 25;
  EXPECT_NEAR(as_fraction(admission_factor(s, t0, options)), 0.25, 1e-4);
  begin_warm_up(s, t0, options);
  EXPECT_NEAR(as_fraction(admission_factor(s, t0 + seconds(5), options)), 0.55 * 0.25, 1e-4);
  s.agent_weight_percent = 300;
  EXPECT_NEAR(as_fraction(admission_factor(s, t0 + seconds(5), options)), 0.55, 1e-4);
  EXPECT_NEAR(effective_weight({"a:1", 4}, s, t0 + seconds(5), options), 4 * 0.55, 1e-3);
  EXPECT_DOUBLE_EQ(effective_weight({"a:1", 4}, s, t0 + seconds(10), options), 4.0);
}

TEST(SlowStart, SweepEndsFinishedWarmUps) {
  Cluster cluster({.name = "c", .health = slow_start_of(seconds(10))}, {{"a:1"}});
  auto a = cluster.state_of("a:1");
  const Nanos t0{50'000'000'000};
  begin_warm_up(*a, t0, cluster.options().health);
  sweep(*cluster.snapshot(), t0 + seconds(10) - Nanos(1));
  EXPECT_EQ(a->warming_since_ns.load(), t0.count());
  sweep(*cluster.snapshot(), t0 + seconds(10));
  EXPECT_EQ(a->warming_since_ns.load(), 0);
}

class Admission : public ::testing::Test {
 protected:
  Cluster make(std::string policy, std::size_t n, HealthOptions health = {}) {
    std::vector<ServerSpec> servers;
    for (std::size_t i = 0; i < n; ++i) servers.push_back({"s" + std::to_string(i) + ":80"});
    return Cluster({.name = "c", .policy = std::move(policy), .passive = {}, .health = health},
                   servers);
  }

  /// Share of `picks` first picks (one TryList each) that went to server `address`.
  double share(const Cluster& cluster, const std::string& address, Rng& rng, std::size_t picks,
               bool keyed = false) {
    std::size_t hits = 0;
    FastRng keys(99);
    for (std::size_t k = 0; k < picks; ++k) {
      std::optional<uint64_t> key;
      if (keyed) key = keys.next();
      TryList tries(cluster.snapshot(), clock_, rng, 1, key);
      const Pick p = tries.next();
      EXPECT_TRUE(p);
      if (p && p.member->spec.address == address) ++hits;
    }
    return static_cast<double>(hits) / static_cast<double>(picks);
  }

  ManualClock clock_{Nanos{100'000'000'000}};
};

TEST_F(Admission, RejectedChoiceIsNeitherAnAttemptNorAFailure) {
  auto cluster = make("first_available", 2);
  auto s0 = cluster.state_of("s0:80");
  s0->agent_weight_percent = 50;
  testing::ScriptedRng reject({std::numeric_limits<uint64_t>::max()});
  TryList tries(cluster.snapshot(), clock_, reject, 3);
  const Pick p = tries.next();
  ASSERT_TRUE(p);
  EXPECT_EQ(p.member->spec.address, "s1:80");
  EXPECT_EQ(tries.attempts(), 1u);
  EXPECT_EQ(s0->picks_total.load(), 0u);
  EXPECT_EQ(s0->failures_total.load(), 0u);
  // Left out for that pick only: the next attempt of the same request may take it.
  const Pick second = tries.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second.member->spec.address, "s0:80");  // Only member left: the fallback.

  testing::ScriptedRng admit({0});
  TryList other(cluster.snapshot(), clock_, admit, 3);
  EXPECT_EQ(other.next().member->spec.address, "s0:80");
}

TEST_F(Admission, NeverFailsARequestWhenEveryoneWarmsUp) {
  auto cluster = make("round_robin", 3, slow_start_of(seconds(10)));
  for (const char* a : {"s0:80", "s1:80", "s2:80"}) {
    begin_warm_up(*cluster.state_of(a), clock_.now(), cluster.options().health);
  }
  cluster.state_of("s2:80")->agent_weight_percent = 50;  // Smallest factor of the three.
  testing::ScriptedRng reject({std::numeric_limits<uint64_t>::max()});
  TryList tries(cluster.snapshot(), clock_, reject, 1);
  const Pick p = tries.next();
  ASSERT_TRUE(p);
  EXPECT_NE(p.member->spec.address, "s2:80");  // The best rejected one, not the worst.
  // Equal factors: the ramp keeps the policy's shares.
  cluster.state_of("s2:80")->agent_weight_percent = 100;
  FastRng rng(5);
  for (const char* a : {"s0:80", "s1:80", "s2:80"}) {
    EXPECT_NEAR(share(cluster, a, rng, 30'000), 1.0 / 3, 0.01) << a;
  }
}

// Round robin: a rejected choice moves the shared cursor on, so a member with factor f gets
// the share f / (N - 1 + f): the share of weight f among weights 1.
TEST_F(Admission, RoundRobinShareIsWeightTimesFactor) {
  auto cluster = make("round_robin", 4);
  cluster.state_of("s0:80")->agent_weight_percent = 25;
  FastRng rng(1);
  EXPECT_NEAR(share(cluster, "s0:80", rng, 200'000), 0.25 / 3.25, 0.005);
  EXPECT_NEAR(share(cluster, "s1:80", rng, 200'000), 1 / 3.25, 0.005);
}

// Stateless draws: f times the normal share.
TEST_F(Admission, RandomShareIsFactorTimesNormalShare) {
  auto cluster = make("random", 4);
  cluster.state_of("s0:80")->agent_weight_percent = 40;
  FastRng rng(2);
  EXPECT_NEAR(share(cluster, "s0:80", rng, 200'000), 0.40 * 0.25, 0.005);
  EXPECT_NEAR(share(cluster, "s1:80", rng, 200'000), (1 - 0.10) / 3, 0.005);
}

TEST_F(Admission, MaglevShareIsFactorTimesNormalShare) {
  auto cluster = make("maglev", 4);
  FastRng rng(3);
  for (const bool keyed : {false, true}) {
    cluster.state_of("s0:80")->agent_weight_percent = 100;
    const double normal = share(cluster, "s0:80", rng, 200'000, keyed);
    EXPECT_NEAR(normal, 0.25, 0.02) << keyed;
    cluster.state_of("s0:80")->agent_weight_percent = 30;
    EXPECT_NEAR(share(cluster, "s0:80", rng, 200'000, keyed), 0.30 * normal, 0.005) << keyed;
  }
}

// The measured share follows the ramp at several points of the window.
TEST_F(Admission, RampIsLinearOverTheWindow) {
  for (const std::string policy : {"random", "round_robin", "maglev"}) {
    auto cluster = make(policy, 4, slow_start_of(seconds(20)));
    auto s0 = cluster.state_of("s0:80");
    const Nanos start = clock_.now();
    begin_warm_up(*s0, start, cluster.options().health);
    FastRng rng(4);
    const double normal = 0.25;
    for (int quarter = 0; quarter <= 4; ++quarter) {
      clock_.set(start + seconds(5) * quarter);
      const double f = 0.1 + 0.9 * quarter / 4.0;
      // Per the TryList comment: round robin gives weight x f, the others f x normal share.
      const double expected = policy == "round_robin" ? f / (3 + f) : f * normal;
      EXPECT_NEAR(share(cluster, "s0:80", rng, 100'000, policy == "maglev"), expected, 0.012)
          << policy << " at " << quarter * 5 << "s";
    }
    clock_.set(start);
  }
}

}  // namespace
}  // namespace fulcrum::core
