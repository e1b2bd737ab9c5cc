// The server manager without rebalancing: list order, append, merge, rotation, removal, and the
// core's eligibility and policies behind find_server().
#include "client/server_manager.h"

#include <gtest/gtest.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/tcp_connect.h"
#include "core/passive.h"
#include "loopback.h"

namespace fulcrum::client {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;

std::vector<std::string> addresses(const ServerManager& manager) {
  std::vector<std::string> out;
  for (const auto& server : manager.servers()) out.push_back(server.address);
  return out;
}

std::string found(const ServerManager& manager) {
  auto server = manager.find_server();
  return server ? server->address() : std::string("<none>");
}

// One real connection attempt, as a client of the manager makes to the server it was handed.
// The 5 s deadline only bounds a stuck attempt: loopback refuses or accepts at once.
std::error_code connect_once(asio::io_context& io, const std::string& address) {
  asio::ip::tcp::socket socket(io);
  return testing::run_coroutine(io, connect_with_timeout(socket, address, 5s));
}

TEST(ServerManager, AppendsUnknownServersAndFindsTheFirst) {
  ServerManager manager;
  EXPECT_EQ(manager.num_servers(), 0u);
  EXPECT_FALSE(manager.find_server().has_value());
  manager.add_server({.address = "10.0.0.1:80"});
  manager.add_server({.address = "10.0.0.2:80"});
  manager.add_server({.address = "10.0.0.3:80"});
  EXPECT_EQ(addresses(manager),
            (std::vector<std::string>{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(manager.num_servers(), 3u);
  EXPECT_EQ(found(manager), "10.0.0.1:80");
  EXPECT_EQ(found(manager), "10.0.0.1:80");  // List order: the first, every time.
}

TEST(ServerManager, KnownServerKeepsItsPlaceAndStateAndTakesTheNewDetails) {
  auto clock = std::make_shared<core::ManualClock>();
  ServerManager manager({.passive = {.attempts = 3, .offline_timeout = 10s}, .clock = clock});
  manager.add_server({.address = "a:1"});
  manager.add_server({.address = "b:1", .weight = 1});
  manager.add_server({.address = "c:1"});
  auto state_before = manager.cluster().state_of("b:1");
  manager.notify_failed_server("a:1");  // b moves up to first...
  manager.report_failure("b:1");        // ...so its failure is on record and rotates it.
  ASSERT_EQ(addresses(manager), (std::vector<std::string>{"c:1", "a:1", "b:1"}));

  manager.add_server({.address = "b:1", .weight = 5, .agent_port = 5555});

  EXPECT_EQ(manager.num_servers(), 3u);
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"c:1", "a:1", "b:1"}));
  const auto servers = manager.servers();
  EXPECT_EQ(servers[2].weight, 5u);
  EXPECT_EQ(servers[2].agent_port, 5555);
  EXPECT_EQ(manager.cluster().state_of("b:1"), state_before);  // Same live state...
  EXPECT_EQ(state_before->consecutive_failures.load(), 1u);    // ...failures still counted.
}

TEST(ServerManager, NotifyFailedServerRotatesOnlyTheCurrentFirstToTheEnd) {
  ServerManager manager;
  for (const char* address : {"a:1", "b:1", "c:1"}) manager.add_server({.address = address});
  manager.notify_failed_server("a:1");
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"b:1", "c:1", "a:1"}));
  EXPECT_EQ(found(manager), "b:1");
  manager.notify_failed_server("c:1");  // Not the current first.
  manager.notify_failed_server("a:1");  // Already moved.
  manager.notify_failed_server("z:1");  // Unknown.
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"b:1", "c:1", "a:1"}));
  manager.notify_failed_server("b:1");
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"c:1", "a:1", "b:1"}));
}

TEST(ServerManager, TheCurrentFirstIsTheServerListOrderHandsOut) {
  auto clock = std::make_shared<core::ManualClock>();
  ServerManager manager({.passive = {.attempts = 1, .offline_timeout = 10s}, .clock = clock});
  for (const char* address : {"a:1", "b:1", "c:1"}) manager.add_server({.address = address});
  // a is offline but keeps the head of the list: find_server() skips it, so b is the first.
  core::record_connect_failure(*manager.cluster().state_of("a:1"), manager.options().passive,
                               clock->now());
  ASSERT_EQ(found(manager), "b:1");
  manager.notify_failed_server("a:1");
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"a:1", "b:1", "c:1"}));
  manager.notify_failed_server("b:1");
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"a:1", "c:1", "b:1"}));
  EXPECT_EQ(found(manager), "c:1");
}

TEST(ServerManager, NewServerTakesRequestsOnceTheOthersFail) {
  ServerManager manager;
  manager.add_server({.address = "a:1"});
  manager.add_server({.address = "b:1"});
  manager.add_server({.address = "new:1"});
  EXPECT_EQ(found(manager), "a:1");
  manager.notify_failed_server("a:1");
  manager.notify_failed_server("b:1");
  EXPECT_EQ(found(manager), "new:1");
}

TEST(ServerManager, RemovesServers) {
  ServerManager manager;
  for (const char* address : {"a:1", "b:1", "c:1"}) manager.add_server({.address = address});
  EXPECT_TRUE(manager.remove_server("a:1"));
  EXPECT_FALSE(manager.remove_server("a:1"));
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{"b:1", "c:1"}));
  EXPECT_EQ(found(manager), "b:1");
  EXPECT_EQ(manager.cluster().state_of("a:1"), nullptr);
}

TEST(ServerManager, RejectsAnEmptyAddressAndAnUnknownPolicy) {
  ServerManager manager;
  EXPECT_THROW(manager.add_server({}), std::invalid_argument);
  EXPECT_THROW(ServerManager({.policy = "no_such_policy"}), std::invalid_argument);
}

TEST(ServerManager, FindServerSkipsWhatTheCoreRulesOut) {
  auto clock = std::make_shared<core::ManualClock>();
  ServerManager manager({.passive = {.attempts = 2, .offline_timeout = 10s}, .clock = clock});
  for (const char* address : {"a:1", "b:1", "c:1", "d:1"}) manager.add_server({.address = address});

  // Passive tracking: two failures make a offline for 10 s (no rotation here: only the core).
  auto a = manager.cluster().state_of("a:1");
  core::record_connect_failure(*a, manager.options().passive, clock->now());
  EXPECT_EQ(found(manager), "a:1");
  core::record_connect_failure(*a, manager.options().passive, clock->now());
  EXPECT_EQ(found(manager), "b:1");
  // The agent answered -1 for b; an operator disabled c.
  manager.cluster().state_of("b:1")->agent_load.store(core::kAgentUnavailable);
  manager.cluster().state_of("c:1")->admin_state.store(core::AdminState::kDisabled);
  EXPECT_EQ(found(manager), "d:1");
  manager.cluster().state_of("d:1")->admin_state.store(core::AdminState::kDisabled);
  // Nothing is eligible: list order still hands out the first server that only passive
  // tracking rules out, never one the operator or the agent took out.
  auto offline = manager.find_server();
  ASSERT_TRUE(offline.has_value());
  EXPECT_EQ(offline->address(), "a:1");
  EXPECT_TRUE(offline->is_offline());
  EXPECT_TRUE(manager.is_offline());
  // After the offline timeout a may be tried again.
  clock->advance(10s);
  auto trial = manager.find_server();
  ASSERT_TRUE(trial.has_value());
  EXPECT_EQ(trial->address(), "a:1");
  EXPECT_FALSE(trial->is_offline());
  EXPECT_FALSE(manager.is_offline());
  manager.report_success("a:1", 1ms);
  EXPECT_EQ(a->consecutive_failures.load(), 0u);
  // With the operator taking out a too, there is nothing to hand out.
  a->admin_state.store(core::AdminState::kDisabled);
  EXPECT_FALSE(manager.find_server().has_value());
  EXPECT_TRUE(manager.is_offline());
}

TEST(ServerManager, BackupServersServeOnlyWhenNoPrimaryIsEligible) {
  ServerManager manager;
  manager.add_server({.address = "backup:1", .backup = true});
  manager.add_server({.address = "primary:1"});
  EXPECT_EQ(found(manager), "primary:1");
  manager.cluster().state_of("primary:1")->admin_state.store(core::AdminState::kDisabled);
  EXPECT_EQ(found(manager), "backup:1");
}

TEST(ServerManager, AnyCorePolicyCanReplaceListOrder) {
  ServerManager manager({.policy = "round_robin"});
  for (const char* address : {"a:1", "b:1", "c:1"}) manager.add_server({.address = address});
  std::vector<std::string> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(found(manager));
  EXPECT_EQ(picks, (std::vector<std::string>{"a:1", "b:1", "c:1", "a:1", "b:1", "c:1"}));
}

TEST(ServerManager, HandleStaysValidAfterTheServerIsRemoved) {
  ServerManager manager;
  manager.add_server({.address = "a:1", .weight = 7});
  auto handle = manager.find_server();
  ASSERT_TRUE(handle.has_value());
  manager.remove_server("a:1");
  EXPECT_EQ(handle->address(), "a:1");
  EXPECT_EQ(handle->spec().weight, 7u);
}

// Rotation with real servers: a client connects to find_server() and reports failures until it
// reaches a server that answers; the refusing one ends up last.
TEST(ServerManager, RotationAgainstRealServers) {
  asio::io_context io;
  LoopbackServer refusing(io, false);
  LoopbackServer first_up(io);
  LoopbackServer second_up(io);
  ServerManager manager;
  for (auto* server : {&refusing, &first_up, &second_up}) {
    manager.add_server({.address = server->address()});
  }

  auto attempt = [&]() -> asio::awaitable<std::string> {
    for (int i = 0; i < 3; ++i) {
      auto server = manager.find_server();
      if (!server) co_return "<none>";
      asio::ip::tcp::socket socket(io);
      const uint16_t port = static_cast<uint16_t>(
          std::stoi(server->address().substr(server->address().rfind(':') + 1)));
      auto [ec] = co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                                asio::experimental::as_tuple(asio::use_awaitable));
      if (!ec) co_return server->address();
      manager.report_failure(server->address());
    }
    co_return "<failed>";
  };
  EXPECT_EQ(testing::run_coroutine(io, attempt()), first_up.address());
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{first_up.address(), second_up.address(),
                                                          refusing.address()}));
  EXPECT_TRUE(testing::run_until(io, [&] { return first_up.accepted() == 1; }));
  EXPECT_EQ(second_up.accepted(), 0);
  EXPECT_EQ(manager.cluster().state_of(refusing.address())->consecutive_failures.load(), 1u);
}

// The server manager's find_server() keeps answering with the first server when every server has
// failed, so clients keep trying instead of failing at once; is_offline() says that is what
// happened.
TEST(ServerManager, EveryServerOfflineStillHandsOutTheFirstAgainstRealServers) {
  asio::io_context io;
  LoopbackServer a(io, false), b(io, false), c(io, false);
  // One failure takes a server offline; 60 s outlasts the test, even on a loaded machine.
  ServerManager manager({.passive = {.attempts = 1, .offline_timeout = 60s}});
  for (auto* server : {&a, &b, &c}) manager.add_server({.address = server->address()});

  for (auto* expected : {&a, &b, &c}) {
    auto server = manager.find_server();
    ASSERT_TRUE(server.has_value());
    ASSERT_EQ(server->address(), expected->address());
    EXPECT_FALSE(server->is_offline());
    ASSERT_EQ(connect_once(io, server->address()), asio::error::connection_refused);
    manager.report_failure(server->address());
  }
  ASSERT_EQ(addresses(manager), (std::vector<std::string>{a.address(), b.address(), c.address()}));

  auto first = manager.find_server();  // Every server offline: the first, all the same.
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->address(), a.address());
  EXPECT_TRUE(first->is_offline());
  EXPECT_TRUE(manager.is_offline());
  EXPECT_EQ(connect_once(io, first->address()), asio::error::connection_refused);
  manager.report_failure(first->address());  // The current first: it rotates.
  EXPECT_EQ(addresses(manager), (std::vector<std::string>{b.address(), c.address(), a.address()}));

  b.listen();
  auto next = manager.find_server();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->address(), b.address());
  EXPECT_TRUE(next->is_offline());
  EXPECT_FALSE(connect_once(io, next->address()));
  manager.report_success(next->address(), 1ms);
  EXPECT_FALSE(manager.find_server()->is_offline());
  EXPECT_FALSE(manager.is_offline());
  EXPECT_TRUE(testing::run_until(io, [&] { return b.accepted() == 1; }));
}

TEST(ServerManager, OtherPoliciesHandOutNothingWhenEveryServerIsOffline) {
  auto clock = std::make_shared<core::ManualClock>();
  ServerManager manager({.policy = "round_robin",
                         .passive = {.attempts = 1, .offline_timeout = 10s},
                         .clock = clock});
  for (const char* address : {"a:1", "b:1"}) {
    manager.add_server({.address = address});
    core::record_connect_failure(*manager.cluster().state_of(address), manager.options().passive,
                                 clock->now());
  }
  EXPECT_FALSE(manager.find_server().has_value());
  EXPECT_TRUE(manager.is_offline());
}

// Two clients were handed the same first server; the first to fail rotates it, then another
// server fails and rotates. The second client's report about the first server arrives late: that
// server already moved, so the order stays (it would otherwise jump behind the newer failure).
TEST(ServerManager, LateFailureReportAboutAServerThatMovedIsIgnored) {
  asio::io_context io;
  LoopbackServer a(io, false), b(io, false), c(io);
  ServerManager manager;
  for (auto* server : {&a, &b, &c}) manager.add_server({.address = server->address()});

  auto early = manager.find_server();
  auto late = manager.find_server();
  ASSERT_EQ(early->address(), a.address());
  ASSERT_EQ(late->address(), a.address());
  ASSERT_EQ(connect_once(io, early->address()), asio::error::connection_refused);
  manager.report_failure(early->address());
  auto third = manager.find_server();
  ASSERT_EQ(third->address(), b.address());
  ASSERT_EQ(connect_once(io, third->address()), asio::error::connection_refused);
  manager.report_failure(third->address());
  ASSERT_EQ(addresses(manager), (std::vector<std::string>{c.address(), a.address(), b.address()}));

  ASSERT_EQ(connect_once(io, late->address()), asio::error::connection_refused);
  manager.report_failure(late->address());

  EXPECT_EQ(addresses(manager), (std::vector<std::string>{c.address(), a.address(), b.address()}));
  // Passive tracking still counts the late failure.
  EXPECT_EQ(manager.cluster().state_of(a.address())->consecutive_failures.load(), 2u);
  EXPECT_EQ(found(manager), c.address());
  EXPECT_FALSE(connect_once(io, c.address()));
}

}  // namespace
}  // namespace fulcrum::client
