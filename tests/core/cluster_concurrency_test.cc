// Threads pick through try-lists while other threads add, remove and reweight servers. Run under
// TSan (label "concurrency"): any unsynchronised access between publication and picking fails it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/policy_registry.h"
#include "core/try_list.h"

namespace fulcrum::core {
namespace {

std::vector<ServerSpec> initial_servers(int n) {
  std::vector<ServerSpec> servers;
  for (int i = 0; i < n; ++i) {
    servers.push_back(
        {"10.0.0." + std::to_string(i) + ":80", static_cast<uint32_t>(1 + i % 3), i % 7 == 6});
  }
  return servers;
}

class ClusterConcurrency : public ::testing::TestWithParam<std::string> {};

TEST_P(ClusterConcurrency, PicksStayValidWhileMembershipChanges) {
  Cluster cluster({.name = "c", .policy = GetParam(), .passive = {3, std::chrono::seconds(1)}},
                  initial_servers(16));
  SteadyClock clock;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> picks{0};

  auto picker = [&](uint64_t seed) {
    FastRng rng(seed);
    SnapshotReader reader(cluster);
    while (!stop.load(std::memory_order_relaxed)) {
      TryList tries(reader.current(), clock, rng, 3, rng.next());
      for (Pick p = tries.next(); p; p = tries.next()) {
        // The member must belong to the snapshot this try-list holds.
        const auto& members = tries.snapshot()->tier(p.tier).members;
        ASSERT_LT(p.index, members.size());
        ASSERT_EQ(&members[p.index], p.member);
        LoadGuard load(tries.snapshot(), p, LoadKind::kConnection);
        if (rng.below(4) == 0) {
          tries.report_failure(p, FailureCause::kRefused);
        } else {
          tries.report_success(p, std::chrono::microseconds(100 + rng.below(100)));
          break;
        }
      }
      picks.fetch_add(1, std::memory_order_relaxed);
    }
  };

  auto mutator = [&] {
    FastRng rng(99);
    int next_id = 100;
    while (!stop.load(std::memory_order_relaxed)) {
      auto snapshot = cluster.snapshot();
      const auto& servers = snapshot->servers;
      switch (rng.below(4)) {
        case 0:
          cluster.add_server({"10.1.0." + std::to_string(next_id++) + ":80", 2, false});
          break;
        case 1:
          if (servers.size() > 4) cluster.remove_server(servers[rng.below(servers.size())].address);
          break;
        case 2:
          cluster.set_weight(servers[rng.below(servers.size())].address,
                             static_cast<uint32_t>(rng.below(5)));
          break;
        case 3:
          if (auto state = cluster.state_of(servers[rng.below(servers.size())].address)) {
            state->check_health = rng.below(2) ? CheckHealth::kUp : CheckHealth::kDown;
          }
          break;
      }
    }
  };

  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 3; ++t) threads.emplace_back(picker, t + 1);
  threads.emplace_back(mutator);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  while (std::chrono::steady_clock::now() < deadline && picks.load() < 200'000) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(picks.load(), 100u);

  // Every guard was released: no load is left counted on any current server.
  for (const auto& spec : cluster.snapshot()->servers) {
    auto state = cluster.state_of(spec.address);
    EXPECT_EQ(state->in_flight.load(), 0) << spec.address;
    EXPECT_EQ(state->active_connections.load(), 0) << spec.address;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, ClusterConcurrency,
                         ::testing::ValuesIn(PolicyRegistry::builtin().names()));

}  // namespace
}  // namespace fulcrum::core
