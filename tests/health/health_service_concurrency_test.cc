// The health thread publishes while other threads pick and an operator reweights: under TSan,
// no data race between the service's writes, the readers' eligibility checks and membership
// changes; and the readers do see what the service publishes.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>

#include "core/eligibility.h"
#include "health/health_service.h"
#include "loopback.h"

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
using testing::LoopbackServers;
using testing::ReadFirst;
using testing::wait_for;

constexpr auto kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr auto kError = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";

TEST(HealthServiceConcurrency, PublishesWhileWorkersReadAndMembershipChanges) {
  LoopbackServers servers;
  std::vector<core::ServerSpec> specs;
  for (int i = 0; i < 3; ++i) {
    const auto index = servers.add(kOk, ReadFirst::kHeadEnd);
    core::ServerSpec spec;
    spec.address = servers.host_port(index);
    spec.resolved = servers.address(index);
    specs.push_back(spec);
  }
  const auto agent = servers.add("20\n");
  servers.start();

  ClusterHealthConfig config{.name = "app"};
  config.check.type = config::HealthCheckType::kHttp;
  config.check.interval = config.check.fast_interval = config.check.down_interval =
      milliseconds(10);
  config.check.rise = config.check.fall = 1;
  config.agent.port = servers.port(agent);
  config.agent.interval = milliseconds(10);
  config.options.slow_start = std::chrono::seconds(1);
  core::Cluster cluster(core::ClusterOptions{.name = "app", .health = config.options}, specs);
  HealthService service({{&cluster, config}});
  service.start();

  // Readers: what a worker does on every pick, through its own snapshot reader.
  std::atomic<bool> stop{false};
  std::array<std::atomic<uint64_t>, 16> seen{};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      core::SnapshotReader reader(cluster);
      const core::SteadyClock clock;
      while (!stop.load(std::memory_order_relaxed)) {
        const core::SnapshotPtr& snapshot = reader.current();
        for (const auto& tier : snapshot->tiers) {
          for (const auto& m : tier.members) {
            const auto e = core::evaluate(m.spec, *m.state, snapshot->passive, clock.now());
            seen[static_cast<std::size_t>(e)].fetch_add(1, std::memory_order_relaxed);
            (void)m.state->warming_since_ns.load(std::memory_order_relaxed);
            (void)m.state->agent_weight_percent.load(std::memory_order_relaxed);
          }
        }
      }
    });
  }
  // An operator reweights meanwhile: new snapshots the service must follow.
  std::thread operator_thread([&] {
    for (uint32_t w = 1; !stop.load(std::memory_order_relaxed); w = w % 5 + 1) {
      cluster.set_weight(specs[0].address, w);
      std::this_thread::sleep_for(milliseconds(3));
    }
  });

  auto seen_count = [&](core::Eligibility e) {
    return seen[static_cast<std::size_t>(e)].load(std::memory_order_relaxed);
  };
  // Flip what the servers and the agent say until the readers have seen each outcome.
  // "ready" lifts both the -1 and a drain (a bare percentage lifts neither), so "drain" comes
  // after it: while the -1 stands, the server shows as unavailable, not draining.
  const std::array<std::string, 3> answers = {"-1\n", "ready 30%\n", "drain 50%\n"};
  std::size_t turn = 0;
  const bool all_seen = wait_for(
      [&] {
        servers.set_reply(turn % 3, turn % 2 ? kOk : kError);
        servers.set_reply(agent, answers[turn % answers.size()]);
        ++turn;
        std::this_thread::sleep_for(milliseconds(20));
        return seen_count(core::Eligibility::kDownByChecks) > 0 &&
               seen_count(core::Eligibility::kAgentUnavailable) > 0 &&
               seen_count(core::Eligibility::kAgentDrain) > 0 &&
               seen_count(core::Eligibility::kEligible) > 0 &&
               service.counters().check_transitions.load() > 2;
      },
      std::chrono::seconds(30));
  service.stop();  // While the readers still read.
  stop = true;
  for (auto& t : readers) t.join();
  operator_thread.join();
  EXPECT_TRUE(all_seen);
  EXPECT_GT(service.counters().check_transitions.load(), 2u);
}

}  // namespace
}  // namespace fulcrum::health
