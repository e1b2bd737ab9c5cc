// The scenarios in examples/sim/rules/ each show one balancing rule of docs/balancing.md. They
// run here through the real core, so the shares their comments promise cannot silently drift.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sim/cluster_config.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace fulcrum::sim {
namespace {

using namespace std::chrono_literals;

SimulationResult run_rule(const std::string& name, const std::string& policy = "") {
  const std::string base = std::string(FULCRUM_SOURCE_DIR) + "/examples/sim/rules/" + name;
  ClusterConfig cluster = load_cluster_file(base + ".cluster.yaml");
  if (!policy.empty()) cluster.policy = policy;
  const Scenario scenario = load_scenario_file(base + ".scenario.yaml", cluster);
  return simulate(cluster, scenario, SimulationOptions{.window = 1s});
}

double share(const SimulationResult& r, std::size_t server) {
  return static_cast<double>(r.servers[server].served) / static_cast<double>(r.requests);
}

TEST(BundledRules, RoundRobinSpreadsADeadServersTurnsEvenly) {
  const SimulationResult r = run_rule("round-robin-outage");
  ASSERT_EQ(r.failed_outright(), 0u);
  // Every whole second after the failure at 2 s: 333 or 334 each, nothing for the dead one.
  for (std::size_t w = 3; w < 10; ++w) {
    for (std::size_t s = 0; s < 3; ++s) {
      EXPECT_NEAR(static_cast<double>(r.servers[s].served_per_window[w]), 333.3, 1.0) << s;
    }
    EXPECT_EQ(r.servers[3].served_per_window[w], 0u);
  }
}

TEST(BundledRules, IdleTrafficFollowsTheWeightsUnderEveryWeightedPolicy) {
  // Exact for the rotations. The draws: one standard deviation of a share of one half over
  // 4,000 picks is 0.8 %; 0.035 is over 4 of them.
  for (const char* policy : {"least_connections", "weighted_round_robin", "power_of_two", "random",
                             "agent", "least_latency"}) {
    const SimulationResult r = run_rule("idle-weights", policy);
    const double tolerance = std::string(policy).find("round") != std::string::npos ||
                                     std::string(policy) == "least_connections"
                                 ? 0.001
                                 : 0.035;
    EXPECT_NEAR(share(r, 0), 0.25, tolerance) << policy;
    EXPECT_NEAR(share(r, 1), 0.50, tolerance) << policy;
    EXPECT_NEAR(share(r, 2), 0.25, tolerance) << policy;
  }
}

TEST(BundledRules, ASlowerServerGetsClearlyLessButIsNotStarved) {
  const SimulationResult r = run_rule("slow-server");
  EXPECT_GT(share(r, 2), 0.05);
  EXPECT_LT(share(r, 2) * 2, share(r, 0));
  EXPECT_LT(share(r, 2) * 2, share(r, 1));
}

TEST(BundledRules, AgentLoadsSteerWeightedRoundRobin) {
  const SimulationResult r = run_rule("agent-loads");
  // Before the reports: a third each. After: 101 : 1 : 51 of each second's 1,000 requests.
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_NEAR(static_cast<double>(r.servers[s].served_per_window[0]), 333.3, 1.0) << s;
  }
  for (std::size_t w = 2; w < 6; ++w) {
    EXPECT_NEAR(static_cast<double>(r.servers[0].served_per_window[w]), 1000.0 * 101 / 153, 2.0);
    EXPECT_NEAR(static_cast<double>(r.servers[1].served_per_window[w]), 1000.0 * 1 / 153, 2.0);
    EXPECT_NEAR(static_cast<double>(r.servers[2].served_per_window[w]), 1000.0 * 51 / 153, 2.0);
  }
}

}  // namespace
}  // namespace fulcrum::sim
