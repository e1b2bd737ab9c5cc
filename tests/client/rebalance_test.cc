// The server manager's rebalance: shuffle, ping the new first server, commit only once a server
// answered, keep the order and report offline when none does; and the periodic rebalance. Pings are
// real TCP connections to servers on 127.0.0.1.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client/server_manager.h"
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

/// TcpPinger that records every address it pinged and what the server said, and may run a hook
/// before pinging (to change the manager while a rebalance is under way).
class RecordingPinger final : public Pinger {
 public:
  asio::awaitable<bool> ping(const core::ServerSpec& server) override {
    if (before_ping) before_ping(server);
    const bool answered = co_await tcp_.ping(server);
    std::lock_guard lock(mutex_);
    pinged_.push_back(server.address);
    co_return answered;
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(pinged_, {});
  }
  std::function<void(const core::ServerSpec&)> before_ping;

 private:
  TcpPinger tcp_{2s};
  std::mutex mutex_;
  std::vector<std::string> pinged_;
};

struct Fixture {
  explicit Fixture(int refusing, int listening) {
    for (int i = 0; i < refusing; ++i)
      servers.push_back(std::make_unique<LoopbackServer>(io, false));
    for (int i = 0; i < listening; ++i) servers.push_back(std::make_unique<LoopbackServer>(io));
    for (auto& server : servers) manager.add_server({.address = server->address()});
  }
  RebalanceResult rebalance() { return testing::run_coroutine(io, manager.rebalance()); }

  asio::io_context io;
  std::shared_ptr<RecordingPinger> pinger = std::make_shared<RecordingPinger>();
  ServerManager manager{{.pinger = pinger, .seed = 42}};
  std::vector<std::unique_ptr<LoopbackServer>> servers;
};

TEST(Rebalance, CommitsOnlyOnceTheNewFirstServerAnswered) {
  Fixture f(3, 1);  // Three refusing servers, then one that answers.
  const std::string up = f.servers[3]->address();
  std::set<std::vector<std::string>> orders;
  for (int round = 0; round < 12; ++round) {
    ASSERT_EQ(f.rebalance(), RebalanceResult::kCommitted);
    EXPECT_FALSE(f.manager.is_offline());
    const auto order = addresses(f.manager);
    const auto pinged = f.pinger->take();
    // The answering server is first; the ones that did not answer were each pinged once, in
    // the shuffled order, and were cycled to the end in that order.
    ASSERT_FALSE(pinged.empty());
    EXPECT_EQ(pinged.back(), up);
    EXPECT_EQ(order.front(), up);
    EXPECT_EQ(std::set<std::string>(pinged.begin(), pinged.end()).size(), pinged.size());
    const std::vector<std::string> tail(order.end() - static_cast<long>(pinged.size() - 1),
                                        order.end());
    EXPECT_EQ(tail, std::vector<std::string>(pinged.begin(), pinged.end() - 1));
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 1u);  // It does shuffle.
}

TEST(Rebalance, ANewServerTakesRequestsAfterARebalance) {
  Fixture f(0, 2);
  LoopbackServer added(f.io);
  f.manager.add_server({.address = added.address()});
  EXPECT_EQ(f.manager.find_server()->address(), f.servers[0]->address());  // Appended.
  bool leads = false;
  for (int round = 0; round < 30 && !leads; ++round) {
    ASSERT_EQ(f.rebalance(), RebalanceResult::kCommitted);
    leads = f.manager.find_server()->address() == added.address();
  }
  EXPECT_TRUE(leads);
}

TEST(Rebalance, KeepsTheOrderAndReportsOfflineWhenNoServerAnswers) {
  Fixture f(3, 0);
  f.manager.notify_failed_server(f.servers[0]->address());
  const auto before = addresses(f.manager);
  EXPECT_EQ(f.rebalance(), RebalanceResult::kOffline);
  EXPECT_TRUE(f.manager.is_offline());
  EXPECT_EQ(addresses(f.manager), before);
  EXPECT_EQ(f.pinger->take().size(), 3u);  // Every server was given its chance once.

  f.servers[1]->listen();  // One comes up: the next rebalance commits with it first.
  EXPECT_EQ(f.rebalance(), RebalanceResult::kCommitted);
  EXPECT_FALSE(f.manager.is_offline());
  EXPECT_EQ(addresses(f.manager).front(), f.servers[1]->address());
}

TEST(Rebalance, NeverPingsOrPromotesServersTheCoreRulesOut) {
  Fixture f(0, 3);
  const std::string disabled = f.servers[0]->address();
  f.manager.cluster().state_of(disabled)->admin_state.store(core::AdminState::kDisabled);
  for (int round = 0; round < 8; ++round) {
    ASSERT_EQ(f.rebalance(), RebalanceResult::kCommitted);
    EXPECT_NE(addresses(f.manager).front(), disabled);
    for (const auto& address : f.pinger->take()) EXPECT_NE(address, disabled);
  }
}

TEST(Rebalance, ReconcilesServersAddedAndRemovedDuringThePings) {
  Fixture f(0, 3);
  LoopbackServer late(f.io);
  const std::string gone = f.servers[2]->address();
  bool changed = false;
  f.pinger->before_ping = [&](const core::ServerSpec& pinged) {
    if (changed) return;
    changed = true;
    f.manager.add_server({.address = late.address()});
    // Remove a server other than the one being pinged (which answers and leads).
    f.manager.remove_server(pinged.address == gone ? f.servers[1]->address() : gone);
  };
  ASSERT_EQ(f.rebalance(), RebalanceResult::kCommitted);
  const auto order = addresses(f.manager);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order.back(), late.address());  // Added meanwhile: appended.
  EXPECT_EQ(order.front(), f.pinger->take().front());
}

TEST(Rebalance, DoesNotCommitWhenTheAnsweringServerLeftMeanwhile) {
  Fixture f(0, 2);
  f.pinger->before_ping = [&](const core::ServerSpec& pinged) {
    f.manager.remove_server(pinged.address);
  };
  EXPECT_EQ(f.rebalance(), RebalanceResult::kUnchanged);
  EXPECT_EQ(addresses(f.manager).size(), 1u);
}

TEST(Rebalance, FewerThanTwoServersIsNothingToShuffle) {
  Fixture f(0, 1);
  EXPECT_EQ(f.rebalance(), RebalanceResult::kUnchanged);
  EXPECT_TRUE(f.pinger->take().empty());
}

TEST(Rebalance, RunsPeriodicallyUntilStopped) {
  asio::io_context io;
  // The kernel completes connections to a listening socket without accept(), so the servers'
  // context need not run, and `io` holds nothing but the manager's work.
  asio::io_context servers_io;
  LoopbackServer a(servers_io);
  LoopbackServer b(servers_io);
  auto pinger = std::make_shared<RecordingPinger>();
  ServerManager manager({.rebalance = {.min_interval = 5ms, .jitter_divisor = 2},
                         .clients = [] { return std::size_t{1}; },
                         .pinger = pinger});
  manager.add_server({.address = a.address()});
  manager.add_server({.address = b.address()});
  manager.start(io.get_executor());
  manager.start(io.get_executor());  // Already running: no second loop.
  std::size_t pings = 0;
  ASSERT_TRUE(testing::run_until(io, [&] {
    pings += pinger->take().size();
    return pings >= 5;
  }));
  manager.stop();
  // Once stopped, the loop ends and leaves the io_context without work: run() returns.
  io.restart();
  const auto started = std::chrono::steady_clock::now();
  io.run_for(testing::kDeadline);
  EXPECT_TRUE(io.stopped());
  EXPECT_LT(std::chrono::steady_clock::now() - started, testing::kDeadline);
}

}  // namespace
}  // namespace fulcrum::client
