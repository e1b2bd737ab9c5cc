// The health service end to end against real loopback servers: its thread checks a real
// core::Cluster's servers and publishes through their ServerState, as the proxy's workers see it.

#include "health/health_service.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "loopback.h"

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
using testing::BlackHole;
using testing::LoopbackServers;
using testing::ReadFirst;
using testing::wait_for;

constexpr auto kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
constexpr auto kError = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

core::ServerSpec spec(std::string address, const core::NetAddress& resolved) {
  core::ServerSpec s;
  s.address = std::move(address);
  s.resolved = resolved;
  return s;
}

config::HealthCheckConfig fast_checks(config::HealthCheckType type) {
  config::HealthCheckConfig c;
  c.type = type;
  c.path = "/health";
  c.interval = milliseconds(100);
  c.fast_interval = milliseconds(50);
  c.down_interval = milliseconds(100);
  c.timeout = milliseconds(300);
  c.rise = 2;
  c.fall = 2;
  return c;
}

config::AgentConfig fast_agent(uint16_t port) {
  config::AgentConfig a;
  a.port = port;
  a.interval = milliseconds(50);
  a.timeout = milliseconds(300);
  return a;
}

struct Fixture {
  std::unique_ptr<core::Cluster> cluster;
  std::unique_ptr<HealthService> service;

  Fixture(std::vector<core::ServerSpec> servers, ClusterHealthConfig config) {
    cluster = std::make_unique<core::Cluster>(
        core::ClusterOptions{.name = "app", .health = config.options}, std::move(servers));
    config.name = "app";
    service = std::make_unique<HealthService>(
        std::vector<WatchedCluster>{{cluster.get(), std::move(config)}});
  }
  core::ServerState& state(std::string_view address) { return *cluster->state_of(address); }
};

TEST(HealthService, HttpChecksTakeAFailingServerOutAfterFallAndBackAfterRise) {
  LoopbackServers servers;
  const auto a = servers.add(kOk, ReadFirst::kHeadEnd);
  const auto b = servers.add(kOk, ReadFirst::kHeadEnd);
  servers.start();
  ClusterHealthConfig config{.check = fast_checks(config::HealthCheckType::kHttp)};
  config.options.slow_start = std::chrono::seconds(10);
  Fixture f({spec("a:1", servers.address(a)), spec("b:1", servers.address(b))}, config);
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return servers.connections(a) >= 3 && servers.connections(b) >= 3; }));
  EXPECT_EQ(f.state("a:1").check_health.load(), core::CheckHealth::kUp);
  EXPECT_EQ(f.state("a:1").warming_since_ns.load(), 0) << "no slow start without a comeback";

  servers.set_reply(a, kError);
  const std::size_t before = f.service->counters().check_failures.load();
  ASSERT_TRUE(wait_for([&] { return f.state("a:1").check_health == core::CheckHealth::kDown; }));
  EXPECT_GE(f.service->counters().check_failures.load(), before + 2) << "fall is 2";
  EXPECT_EQ(f.state("b:1").check_health.load(), core::CheckHealth::kUp);

  servers.set_reply(a, kOk);
  ASSERT_TRUE(wait_for([&] { return f.state("a:1").check_health == core::CheckHealth::kUp; }));
  EXPECT_GT(f.state("a:1").warming_since_ns.load(), 0) << "back from down: slow start";
  EXPECT_EQ(f.service->counters().check_transitions.load(), 2u);
}

TEST(HealthService, InitialStateDownHoldsUntilRiseChecksPass) {
  LoopbackServers servers;
  const auto a = servers.add(std::string());
  servers.start();
  ClusterHealthConfig config{.check = fast_checks(config::HealthCheckType::kTcp)};
  config.check.initially_up = false;
  config.check.rise = 3;
  Fixture f({spec("a:1", servers.address(a))}, config);
  // Applied by the constructor, before any thread runs: the first request already sees it.
  EXPECT_EQ(f.state("a:1").check_health.load(), core::CheckHealth::kDown);
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return f.state("a:1").check_health == core::CheckHealth::kUp; }));
  EXPECT_GE(f.service->counters().checks.load(), 3u);
}

TEST(HealthService, BlackHoledServerIsTakenOutByTimeouts) {
  BlackHole hole;
  ClusterHealthConfig config{.check = fast_checks(config::HealthCheckType::kTcp)};
  config.check.timeout = milliseconds(100);
  Fixture f({spec("hole:1", hole.address())}, config);
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return f.state("hole:1").check_health == core::CheckHealth::kDown; }));
  EXPECT_GE(f.service->counters().check_failures.load(), 2u);
}

TEST(HealthService, AgentAnswersReachTheServerState) {
  LoopbackServers servers;
  const auto agent = servers.add("-1\n", ReadFirst::kLine);
  servers.start();
  ClusterHealthConfig config{.agent = fast_agent(servers.port(agent))};
  config.agent.send = "load\n";
  config.options.slow_start = std::chrono::seconds(5);
  // The server itself is never contacted: only its agent, at the server's host.
  Fixture f({spec("s:1", servers.address(agent))}, config);
  core::ServerState& s = f.state("s:1");
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return s.agent_load == core::kAgentUnavailable; }));
  EXPECT_EQ(servers.last_request(agent), "load\n");

  servers.set_reply(agent, "35\n");
  ASSERT_TRUE(wait_for([&] { return s.agent_load == 35; }));
  EXPECT_GT(s.warming_since_ns.load(), 0) << "back from -1: slow start";

  servers.set_reply(agent, "drain 25% maxconn:12 # maintenance at 10:00\n");
  ASSERT_TRUE(wait_for([&] { return s.agent_admin == core::AgentAdmin::kDrain; }));
  EXPECT_EQ(s.agent_weight_percent.load(), 25);
  EXPECT_EQ(s.agent_maxconn.load(), 12u);
}

TEST(HealthService, UnparseableAnswersAreCountedAndIgnored) {
  LoopbackServers servers;
  const auto agent = servers.add("42\n");
  servers.start();
  Fixture f({spec("s:1", servers.address(agent))},
            ClusterHealthConfig{.agent = fast_agent(servers.port(agent))});
  core::ServerState& s = f.state("s:1");
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return s.agent_load == 42; }));
  servers.set_reply(agent, std::string("\x01\xff garbage \x00 !!\n", 17));
  ASSERT_TRUE(wait_for([&] { return f.service->counters().agent_unparseable >= 3; }));
  EXPECT_EQ(s.agent_load.load(), 42);
  EXPECT_EQ(s.agent_health.load(), core::AgentHealth::kUp);
}

TEST(HealthService, SilentAgentMarksSilentOnlyWhenAResponseIsRequired) {
  const auto closed = [] {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
  }();
  LoopbackServers servers;
  const auto server = servers.add(std::string());
  servers.start();
  ClusterHealthConfig required{.agent = fast_agent(closed)};
  required.agent.require_response = true;
  Fixture strict({spec("s:1", servers.address(server))}, required);
  EXPECT_EQ(strict.state("s:1").agent_health.load(), core::AgentHealth::kSilent)
      << "out from the start until the agent answers";
  Fixture lenient({spec("s:1", servers.address(server))},
                  ClusterHealthConfig{.agent = fast_agent(closed)});
  strict.service->start();
  lenient.service->start();
  ASSERT_TRUE(wait_for([&] {
    return strict.service->counters().agent_silent >= 3 &&
           lenient.service->counters().agent_silent >= 3;
  }));
  EXPECT_EQ(strict.state("s:1").agent_health.load(), core::AgentHealth::kSilent);
  EXPECT_EQ(lenient.state("s:1").agent_health.load(), core::AgentHealth::kUnknown);
  EXPECT_EQ(lenient.state("s:1").agent_load.load(), core::kAgentLoadUnknown);
}

TEST(HealthService, ServerAgentPortOverridesTheClusterPort) {
  LoopbackServers servers;
  const auto agent = servers.add("7\n");
  servers.start();
  core::ServerSpec s = spec("s:1", servers.address(agent));
  s.agent_address = "localhost";  // Resolved once by the health thread.
  s.agent_port = servers.port(agent);
  Fixture f({s}, ClusterHealthConfig{.agent = fast_agent(/*cluster port=*/1)});
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return f.state("s:1").agent_load == 7; }));
}

TEST(HealthService, ServersAddedLaterAreCheckedAndRemovedOnesNoLonger) {
  LoopbackServers servers;
  const auto a = servers.add(std::string());
  const auto b = servers.add(std::string());
  servers.start();
  Fixture f({spec("a:1", servers.address(a))},
            ClusterHealthConfig{.check = fast_checks(config::HealthCheckType::kTcp)});
  f.service->start();
  ASSERT_TRUE(wait_for([&] { return servers.connections(a) >= 2; }));
  ASSERT_TRUE(f.cluster->add_server(spec("b:1", servers.address(b))));
  ASSERT_TRUE(f.cluster->remove_server("a:1"));
  const std::size_t a_at_removal = servers.connections(a);
  ASSERT_TRUE(wait_for([&] { return servers.connections(b) >= 5; }));
  // The service notices membership within a sweep period (250 ms); a's loop then ends at its
  // next wake-up. b was checked 5 times meanwhile; a at most a few times before noticing.
  EXPECT_LE(servers.connections(a), a_at_removal + 4);
  const std::size_t a_later = servers.connections(a);
  ASSERT_TRUE(wait_for([&] { return servers.connections(b) >= 10; }));
  EXPECT_EQ(servers.connections(a), a_later);
}

TEST(HealthService, FirstChecksAreSpreadOverTheInterval) {
  LoopbackServers servers;
  std::vector<core::ServerSpec> specs;
  constexpr std::size_t kServers = 20;
  for (std::size_t i = 0; i < kServers; ++i) {
    const auto index = servers.add(std::string());
    specs.push_back(spec("s" + std::to_string(i) + ":1", servers.address(index)));
  }
  servers.start();
  ClusterHealthConfig config{.check = fast_checks(config::HealthCheckType::kTcp)};
  config.check.interval = milliseconds(1000);
  config.check.jitter_percent = 0;
  Fixture f(specs, config);
  f.service->start();
  std::vector<std::chrono::steady_clock::time_point> firsts;
  ASSERT_TRUE(wait_for([&] {
    for (std::size_t i = 0; i < kServers; ++i) {
      if (servers.connections(i) == 0) return false;
    }
    return true;
  }));
  for (std::size_t i = 0; i < kServers; ++i) firsts.push_back(servers.accept_times(i).front());
  std::sort(firsts.begin(), firsts.end());
  // 20 servers over 1 s: one every 50 ms. No burst: no 100 ms window holds more than a few.
  EXPECT_GT(firsts.back() - firsts.front(), milliseconds(800));
  for (std::size_t i = 0; i + 4 < kServers; ++i) {
    EXPECT_GT(firsts[i + 4] - firsts[i], milliseconds(100)) << "burst at " << i;
  }
}

}  // namespace
}  // namespace fulcrum::health
