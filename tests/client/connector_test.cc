// The retrying connector against real servers on 127.0.0.1: max_retries attempts at the current
// server, then max_retries_alternative at alternative ones, on_reconnect before each reconnect (and
// its redirections), on_connection_lost or the connection-lost error, and what the attempts feed
// back.
#include "client/connector.h"

#include <gtest/gtest.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "loopback.h"

namespace fulcrum::client {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;

struct Seen {
  bool alternative;
  int retries_left;
  std::string address;
  std::error_code error;
};

struct Fixture {
  explicit Fixture(ServerManagerOptions options = {.passive = {.attempts = 3,
                                                               .offline_timeout = 60s}})
      : manager(std::make_shared<ServerManager>(std::move(options))) {}

  Connector connector(ConnectorOptions options) {
    if (!options.on_reconnect) {
      options.on_reconnect = [this](ReconnectEvent& e) {
        seen.push_back({e.alternative, e.retries_left, e.address, e.error});
      };
    }
    return Connector(io.get_executor(), manager, std::move(options));
  }
  void add(const LoopbackServer& server) { manager->add_server({.address = server.address()}); }
  uint64_t failures(const LoopbackServer& server) {
    return manager->cluster().state_of(server.address())->failures_total.load();
  }

  struct Outcome {
    std::error_code ec;
    std::optional<Connection> connection;
  };
  Outcome connect_with_callback(const Connector& connector) {
    std::optional<Outcome> outcome;
    connector.async_connect([&](std::error_code ec, Connection connection) {
      outcome = {ec, std::move(connection)};
    });
    EXPECT_TRUE(testing::run_until(io, [&] { return outcome.has_value(); }));
    return std::move(*outcome);
  }
  std::optional<Connection> connect_coroutine(const Connector& connector) {
    auto run = [](const Connector& c) -> asio::awaitable<std::optional<Connection>> {
      co_return co_await c.connect();
    };
    return testing::run_coroutine(io, run(connector));
  }

  asio::io_context io;
  std::shared_ptr<ServerManager> manager;
  std::vector<Seen> seen;
};

TEST(Connector, FiveAttemptsThreeAtTheCurrentServerThenTwoAtAlternatives) {
  Fixture f;
  LoopbackServer a(f.io, false), b(f.io, false), c(f.io, false);
  for (auto* s : {&a, &b, &c}) f.add(*s);
  auto connector = f.connector({.max_retries = 3, .max_retries_alternative = 2});

  auto outcome = f.connect_with_callback(connector);

  EXPECT_EQ(outcome.ec, errc::connection_lost);
  EXPECT_FALSE(outcome.connection->connected());
  EXPECT_EQ(outcome.connection->attempts, 5);
  ASSERT_EQ(f.seen.size(), 4u);  // Before each reconnect, not before the first connect.
  const bool alternative[] = {false, false, true, true};
  const int retries_left[] = {4, 3, 2, 1};
  const std::string address[] = {a.address(), a.address(), b.address(), c.address()};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(f.seen[i].alternative, alternative[i]) << i;
    EXPECT_EQ(f.seen[i].retries_left, retries_left[i]) << i;
    EXPECT_EQ(f.seen[i].address, address[i]) << i;
    EXPECT_EQ(f.seen[i].error, asio::error::connection_refused) << i;
  }
  // Exactly five connection attempts reached the network: three to a, one each to b and c.
  EXPECT_EQ(f.failures(a), 3u);
  EXPECT_EQ(f.failures(b), 1u);
  EXPECT_EQ(f.failures(c), 1u);
  // Passive tracking: three consecutive failures put a offline, so it is skipped.
  auto next = f.manager->find_server();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->address(), b.address());
}

TEST(Connector, AlternativeAttemptsRetryTheSameServerWhenThereIsNoOther) {
  Fixture f;
  LoopbackServer a(f.io, false);
  f.add(a);
  auto connector = f.connector({.max_retries = 1, .max_retries_alternative = 2});
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_TRUE(f.seen[0].alternative && f.seen[1].alternative);
  EXPECT_EQ(f.seen[1].address, a.address());
  EXPECT_EQ(f.failures(a), 3u);
}

TEST(Connector, ConnectsToTheCurrentServerAtOnce) {
  Fixture f;
  LoopbackServer up(f.io), other(f.io);
  f.add(up);
  f.add(other);
  auto connection = f.connect_coroutine(f.connector({}));
  ASSERT_TRUE(connection && connection->connected());
  EXPECT_EQ(connection->address, up.address());
  EXPECT_EQ(connection->attempts, 1);
  EXPECT_EQ(connection->socket.remote_endpoint().port(), up.port());
  EXPECT_TRUE(f.seen.empty());
  EXPECT_TRUE(testing::run_until(f.io, [&] { return up.accepted() == 1; }));
  EXPECT_EQ(other.accepted(), 0);
  EXPECT_GT(f.manager->cluster().state_of(up.address())->latency_ewma_ns.load(), 0);
}

TEST(Connector, FailsOverToAnAlternativeServerAndRotatesTheFailedOne) {
  Fixture f;
  LoopbackServer down(f.io, false), up(f.io);
  f.add(down);
  f.add(up);
  auto outcome = f.connect_with_callback(f.connector({.max_retries = 1}));
  ASSERT_FALSE(outcome.ec);
  EXPECT_EQ(outcome.connection->address, up.address());
  EXPECT_EQ(outcome.connection->attempts, 2);
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_TRUE(f.seen[0].alternative);
  EXPECT_EQ(f.seen[0].address, up.address());
  EXPECT_EQ(f.manager->servers().front().address, up.address());
  EXPECT_EQ(f.manager->cluster().state_of(down.address())->consecutive_failures.load(), 1u);
  EXPECT_TRUE(testing::run_until(f.io, [&] { return up.accepted() == 1; }));
}

TEST(Connector, AddressChangedInOnReconnectIsUsedByTheNextAttempt) {
  Fixture f;
  LoopbackServer down(f.io, false);
  LoopbackServer elsewhere(f.io);  // Not known to the manager.
  f.add(down);
  int calls = 0;
  auto connector = f.connector({.on_reconnect = [&](ReconnectEvent& e) {
    ++calls;
    EXPECT_EQ(e.address, down.address());
    e.address = elsewhere.address();
  }});
  auto connection = f.connect_coroutine(connector);
  ASSERT_TRUE(connection && connection->connected());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(connection->attempts, 2);
  EXPECT_EQ(connection->address, elsewhere.address());
  EXPECT_EQ(connection->socket.remote_endpoint().port(), elsewhere.port());
  EXPECT_TRUE(testing::run_until(f.io, [&] { return elsewhere.accepted() == 1; }));
}

TEST(Connector, LaterRetriesKeepTheTargetOnReconnectSet) {
  Fixture f;
  LoopbackServer down(f.io, false), other_down(f.io, false);
  f.add(down);
  std::vector<std::string> targets;
  auto connector = f.connector(
      {.max_retries = 3, .max_retries_alternative = 0, .on_reconnect = [&](ReconnectEvent& e) {
         targets.push_back(e.address);
         if (targets.size() == 1) e.address = other_down.address();
       }});
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  EXPECT_EQ(targets, (std::vector<std::string>{down.address(), other_down.address()}));
  EXPECT_EQ(f.failures(down), 1u);
}

// Like a transport's host property: the address set before a retry stays for the remaining
// retries; the alternative attempts then start again from the manager.
TEST(Connector, AddressSetBeforeARetryStaysForTheRetriesOnly) {
  Fixture f;
  LoopbackServer a(f.io, false), b(f.io, false), c(f.io, false);
  for (auto* s : {&a, &b, &c}) f.add(*s);
  auto connector = f.connector(
      {.max_retries = 3, .max_retries_alternative = 1, .on_reconnect = [&](ReconnectEvent& e) {
         f.seen.push_back({e.alternative, e.retries_left, e.address, e.error});
         if (f.seen.size() == 1) e.address = c.address();
       }});
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.seen.size(), 3u);
  EXPECT_EQ(f.seen[1].address, c.address());
  EXPECT_FALSE(f.seen[1].alternative);
  EXPECT_EQ(f.seen[2].address, b.address());  // The manager's next untried server.
  EXPECT_TRUE(f.seen[2].alternative);
  EXPECT_EQ(f.failures(a), 1u);
  EXPECT_EQ(f.failures(c), 2u);
  EXPECT_EQ(f.failures(b), 1u);
}

// The address set before an alternative attempt stays for the following alternative attempts
// until on_reconnect sets another, instead of the manager's next server replacing it.
TEST(Connector, AddressSetBeforeAnAlternativeAttemptStaysUntilChangedAgain) {
  Fixture f;
  LoopbackServer a(f.io, false), b(f.io, false), c(f.io, false), d(f.io, false);
  for (auto* s : {&a, &b, &c, &d}) f.add(*s);
  auto connector = f.connector(
      {.max_retries = 1, .max_retries_alternative = 4, .on_reconnect = [&](ReconnectEvent& e) {
         f.seen.push_back({e.alternative, e.retries_left, e.address, e.error});
         if (e.retries_left == 4) e.address = d.address();
         if (e.retries_left == 2) e.address = c.address();
       }});
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  const std::vector<std::string> prefilled = {b.address(), d.address(), d.address(), c.address()};
  ASSERT_EQ(f.seen.size(), prefilled.size());
  for (std::size_t i = 0; i < prefilled.size(); ++i) {
    EXPECT_TRUE(f.seen[i].alternative) << i;
    EXPECT_EQ(f.seen[i].address, prefilled[i]) << i;
  }
  // Attempts: a, then d, d, c, c.
  EXPECT_EQ(f.failures(a), 1u);
  EXPECT_EQ(f.failures(b), 0u);
  EXPECT_EQ(f.failures(d), 2u);
  EXPECT_EQ(f.failures(c), 2u);
}

// With list order, every server offline does not fail a connect at once: it tries the first
// server find_server() hands out, and reaches it as soon as it listens again.
TEST(Connector, KeepsTryingWhenEveryServerIsOffline) {
  Fixture f({.passive = {.attempts = 1, .offline_timeout = 60s}});  // 60 s outlasts the test.
  LoopbackServer a(f.io, false), b(f.io, false);
  f.add(a);
  f.add(b);
  auto connector = f.connector({.max_retries = 1, .max_retries_alternative = 1});
  ASSERT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.manager->servers().front().address, a.address());  // Both failed and rotated.
  ASSERT_TRUE(f.manager->is_offline());

  f.seen.clear();
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].error, asio::error::connection_refused);  // Not no_server_available.
  EXPECT_EQ(f.seen[0].address, b.address());  // The new first, after a rotated again.
  EXPECT_EQ(f.failures(a), 2u);
  EXPECT_EQ(f.failures(b), 2u);

  a.listen();
  auto outcome = f.connect_with_callback(connector);
  ASSERT_FALSE(outcome.ec);
  EXPECT_EQ(outcome.connection->address, a.address());
  EXPECT_EQ(outcome.connection->attempts, 1);
  EXPECT_FALSE(f.manager->is_offline());
  EXPECT_TRUE(testing::run_until(f.io, [&] { return a.accepted() == 1; }));
}

TEST(Connector, OtherPoliciesFailAtOnceWhenEveryServerIsOffline) {
  Fixture f({.policy = "round_robin", .passive = {.attempts = 1, .offline_timeout = 60s}});
  LoopbackServer a(f.io, false);
  f.add(a);
  auto connector = f.connector({.max_retries = 1, .max_retries_alternative = 1});
  ASSERT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.failures(a), 2u);  // Offline after the first; the alternative retried it.

  f.seen.clear();
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0].error, errc::no_server_available);
  EXPECT_EQ(f.failures(a), 2u);  // The network was not touched.
}

TEST(Connector, ConnectionLostGoesToTheHandlerWhenOneIsSet) {
  Fixture f;
  LoopbackServer down(f.io, false);
  f.add(down);
  std::vector<ConnectionLostInfo> lost;
  auto connector = f.connector(
      {.on_connection_lost = [&](const ConnectionLostInfo& info) { lost.push_back(info); }});
  auto connection = f.connect_coroutine(connector);  // Does not throw.
  ASSERT_TRUE(connection.has_value());
  EXPECT_FALSE(connection->connected());
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].attempts, 5);
  EXPECT_EQ(lost[0].last_address, down.address());
  EXPECT_EQ(lost[0].last_error, asio::error::connection_refused);
  // The error-code form still says what happened.
  EXPECT_EQ(f.connect_with_callback(connector).ec, errc::connection_lost);
  EXPECT_EQ(lost.size(), 2u);
}

TEST(Connector, ConnectionLostIsRaisedWhenUnhandled) {
  Fixture f;
  LoopbackServer down(f.io, false);
  f.add(down);
  auto connector = f.connector({});
  try {
    f.connect_coroutine(connector);
    FAIL() << "connect() returned";
  } catch (const ConnectionLost& e) {
    EXPECT_EQ(e.code(), errc::connection_lost);
    EXPECT_EQ(e.info().attempts, 5);
    EXPECT_EQ(e.info().last_error, asio::error::connection_refused);
    const std::string what = e.what();
    EXPECT_NE(what.find("connection lost: 5 attempts failed"), std::string::npos) << what;
    EXPECT_NE(what.find(down.address()), std::string::npos) << what;
  }
  // The completion-token form with use_awaitable throws std::system_error with the same code.
  auto with_token = [&]() -> asio::awaitable<std::error_code> {
    try {
      co_await connector.async_connect(asio::use_awaitable);
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code();
  };
  EXPECT_EQ(testing::run_coroutine(f.io, with_token()), errc::connection_lost);
  auto as_tuple = [&]() -> asio::awaitable<std::error_code> {
    auto [ec, connection] =
        co_await connector.async_connect(asio::experimental::as_tuple(asio::use_awaitable));
    co_return ec;
  };
  EXPECT_EQ(testing::run_coroutine(f.io, as_tuple()), errc::connection_lost);
}

TEST(Connector, WithoutAnyServerEveryAttemptFailsWithoutTouchingTheNetwork) {
  Fixture f;  // No servers at all.
  auto outcome = f.connect_with_callback(f.connector({.max_retries = 2}));
  EXPECT_EQ(outcome.ec, errc::connection_lost);
  ASSERT_EQ(f.seen.size(), 3u);
  EXPECT_EQ(f.seen.back().error, errc::no_server_available);
  EXPECT_TRUE(f.seen.back().address.empty());

  LoopbackServer up(f.io);  // on_reconnect may still provide a target.
  auto connector =
      f.connector({.on_reconnect = [&](ReconnectEvent& e) { e.address = up.address(); }});
  auto connection = f.connect_coroutine(connector);
  ASSERT_TRUE(connection && connection->connected());
  EXPECT_EQ(connection->address, up.address());
}

TEST(Connector, RejectsInvalidOptions) {
  asio::io_context io;
  auto manager = std::make_shared<ServerManager>();
  EXPECT_THROW(Connector(io.get_executor(), nullptr), std::invalid_argument);
  EXPECT_THROW(Connector(io.get_executor(), manager, {.max_retries = 0}), std::invalid_argument);
  EXPECT_THROW(Connector(io.get_executor(), manager, {.max_retries_alternative = -1}),
               std::invalid_argument);
}

}  // namespace
}  // namespace fulcrum::client
