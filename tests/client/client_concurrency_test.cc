// Also: failure reports racing each other, late ones included, only ever rotate the current
// first server.
//
// One ServerManager shared by four threads, each with its own io_context: three connect through
// Connectors (callback and coroutine forms) and query the manager, the fourth adds, removes,
// fails, rebalances and runs the periodic rebalance. Run under TSan (label "concurrency"): any
// unsynchronised access in the manager, its snapshots or the connector fails it.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/connector.h"
#include "client/tcp_connect.h"
#include "loopback.h"

namespace fulcrum::client {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;

// TcpPinger that counts the pings answered: each one is a connection a server accepted too.
class CountingPinger final : public Pinger {
 public:
  asio::awaitable<bool> ping(const core::ServerSpec& server) override {
    const bool answered = co_await tcp_.ping(server);
    if (answered) answered_.fetch_add(1);
    co_return answered;
  }
  int answered() const { return answered_.load(); }

 private:
  TcpPinger tcp_{std::chrono::seconds(2)};
  std::atomic<int> answered_{0};
};

TEST(ClientConcurrency, FourThreadsShareOneManager) {
  // Servers live on their own thread, so accepting never waits for a client thread.
  asio::io_context servers_io;
  auto servers_work = asio::make_work_guard(servers_io);
  std::vector<std::unique_ptr<LoopbackServer>> up;
  std::vector<std::unique_ptr<LoopbackServer>> down;
  for (int i = 0; i < 2; ++i) up.push_back(std::make_unique<LoopbackServer>(servers_io));
  for (int i = 0; i < 3; ++i) down.push_back(std::make_unique<LoopbackServer>(servers_io, false));
  std::thread servers_thread([&] { servers_io.run(); });

  auto pinger = std::make_shared<CountingPinger>();
  auto manager = std::make_shared<ServerManager>(
      ServerManagerOptions{.passive = {.attempts = 2, .offline_timeout = 20ms},
                           .rebalance = {.min_interval = 2ms},
                           .pinger = pinger});
  std::set<std::string> up_addresses;
  for (auto& s : up) up_addresses.insert(s->address());
  for (auto& s : down) manager->add_server({.address = s->address()});
  for (auto& s : up) manager->add_server({.address = s->address()});

  constexpr int kConnectsPerThread = 150;
  std::atomic<int> connected{0};
  std::atomic<int> wrong{0};
  std::atomic<bool> clients_done{false};

  auto client = [&](int id) {
    asio::io_context io;
    // Enough attempts to reach every server: the two that answer are never removed.
    Connector connector(io.get_executor(), manager,
                        {.max_retries = 1,
                         .max_retries_alternative = 6,
                         .on_reconnect = [](ReconnectEvent& e) { EXPECT_GT(e.retries_left, 0); }});
    for (int i = 0; i < kConnectsPerThread; ++i) {
      bool finished = false;
      auto done = [&](std::error_code ec, Connection connection) {
        finished = true;
        if (!ec && up_addresses.contains(connection.address)) {
          connected.fetch_add(1);
        } else {
          wrong.fetch_add(1);
        }
      };
      if ((i + id) % 2 == 0) {
        connector.async_connect(done);
      } else {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
              Connection c = co_await connector.connect();
              done({}, std::move(c));
            },
            [&](std::exception_ptr e) {
              if (e) done(errc::connection_lost, Connection{asio::ip::tcp::socket(io), "", 0});
            });
      }
      ASSERT_TRUE(testing::run_until(io, [&] { return finished; }));
      if (auto server = manager->find_server()) {
        EXPECT_FALSE(server->address().empty());
      }
      EXPECT_GE(manager->num_servers(), 2u);
    }
  };

  auto mutator = [&] {
    asio::io_context io;
    manager->start(io.get_executor());
    int round = 0;
    while (!clients_done.load()) {
      const auto& victim = down[round % down.size()];
      manager->remove_server(victim->address());
      manager->add_server({.address = victim->address(), .weight = 1u + round % 3});
      manager->notify_failed_server(up[round % up.size()]->address());
      manager->report_failure(down[(round + 1) % down.size()]->address());
      (void)testing::run_coroutine(io, manager->rebalance());
      (void)manager->servers();
      io.poll();  // Lets the periodic rebalance run too.
      ++round;
    }
    manager->stop();
    io.run_for(testing::kDeadline);  // Ends once the periodic loop is gone.
    EXPECT_TRUE(io.stopped());
  };

  std::thread mutator_thread(mutator);
  std::vector<std::thread> clients;
  for (int id = 0; id < 3; ++id) clients.emplace_back(client, id);
  for (auto& t : clients) t.join();
  clients_done.store(true);
  mutator_thread.join();

  EXPECT_EQ(connected.load(), 3 * kConnectsPerThread);
  EXPECT_EQ(wrong.load(), 0);
  // The listening servers accepted exactly the successful connects and the answered pings.
  const int expected = 3 * kConnectsPerThread + pinger->answered();
  EXPECT_GT(pinger->answered(), 0);
  EXPECT_TRUE(testing::wait_until([&] {
    return up[0]->accepted() + up[1]->accepted() == expected;
  })) << up[0]->accepted() + up[1]->accepted()
      << " accepted, " << expected << " expected";
  servers_work.reset();
  servers_io.stop();
  servers_thread.join();
}

// Whether `servers` is `cycle` started at some point: what rotating only the first server to the
// end can produce, and what moving any other server breaks.
bool is_rotation_of(const std::vector<core::ServerSpec>& servers,
                    const std::vector<std::string>& cycle) {
  if (servers.size() != cycle.size()) return false;
  std::size_t start = 0;
  while (start < cycle.size() && cycle[start] != servers.front().address) ++start;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (start == cycle.size() || servers[i].address != cycle[(start + i) % cycle.size()]) {
      return false;
    }
  }
  return true;
}

// The server manager's rotation on failure (notify_failed_server) under contention: four clients
// are handed the current first server, really connect to it (refused) and report the failure.
// Clients handed the same server report it nearly at once, and a slow one reports after other
// failures moved the list on. Only the current first may rotate: any report moving a server from
// the middle breaks the cycle.
TEST(ClientConcurrency, LateFailureReportsNeverReorderTheList) {
  asio::io_context servers_io;  // Refusing servers (bound, not listening): nothing to run.
  std::vector<std::unique_ptr<LoopbackServer>> down;
  for (int i = 0; i < 5; ++i) down.push_back(std::make_unique<LoopbackServer>(servers_io, false));
  // Passive tracking off: every server stays eligible, so the current first is the list's head.
  auto manager = std::make_shared<ServerManager>(
      ServerManagerOptions{.passive = {.offline_timeout = core::Nanos(0)}});
  std::vector<std::string> cycle;
  for (auto& server : down) {
    manager->add_server({.address = server->address()});
    cycle.push_back(server->address());
  }

  constexpr int kClients = 4;
  constexpr int kReportsPerClient = 200;
  std::atomic<int> broken{0};
  auto client = [&] {
    asio::io_context io;
    for (int i = 0; i < kReportsPerClient; ++i) {
      auto server = manager->find_server();
      ASSERT_TRUE(server.has_value());
      asio::ip::tcp::socket socket(io);
      // The 5 s deadline only bounds a stuck attempt: loopback refuses at once.
      const std::error_code error =
          testing::run_coroutine(io, connect_with_timeout(socket, server->address(), 5s));
      EXPECT_EQ(error, asio::error::connection_refused);
      manager->report_failure(server->address());
      if (!is_rotation_of(manager->servers(), cycle)) broken.fetch_add(1);
    }
  };
  std::vector<std::thread> clients;
  for (int id = 0; id < kClients; ++id) clients.emplace_back(client);
  for (auto& t : clients) t.join();

  EXPECT_EQ(broken.load(), 0);
  EXPECT_TRUE(is_rotation_of(manager->servers(), cycle));
  // Every failure, late or not, still reached passive tracking's counters.
  uint64_t failures = 0;
  for (auto& server : down) {
    failures += manager->cluster().state_of(server->address())->failures_total.load();
  }
  EXPECT_EQ(failures, uint64_t{kClients * kReportsPerClient});
}

}  // namespace
}  // namespace fulcrum::client
