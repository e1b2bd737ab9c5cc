// The proxy's request path allocates nothing in the steady state: the real daemon, in process,
// serves keep-alive requests (small, with a body, chunked, a 64 KiB streamed response,
// pipelined) from clients to an origin, with the access log on, while every operator new on its
// worker threads is counted. Over plain TCP and over TLS.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/daemon.h"
#include "config/config.h"
#include "tests/proxy/allocation_counter.h"
#include "tests/proxy/raw_http.h"
#include "tls/test_certs.h"

namespace fulcrum::proxy::testing {
namespace {

constexpr int kClients = 4;
/// Enough connections that a worker has far more operations pending at once than Asio's
/// per-thread cache of operation memory holds.
constexpr int kManyClients = 64;
constexpr int kRequestsPerRound = 6;
constexpr int kWarmUpRequests = 2000;
constexpr int kMeasuredRequests = 5000;

/// One round on one connection: every kind of request the steady state must handle.
bool one_round(RawClient& client, const TestBodies& bodies) {
  return client.send("GET /small HTTP/1.1\r\nHost: test\r\n\r\n") &&
         client.expect(bodies.small, false) &&
         // A small body (PUT: replayable, so it may use a pooled server connection).
         client.send(
             "PUT /small HTTP/1.1\r\nHost: test\r\nContent-Length: 32\r\n\r\n"
             "0123456789abcdef0123456789abcdef") &&
         client.expect(bodies.small, false) &&
         client.send("GET /chunked HTTP/1.1\r\nHost: test\r\n\r\n") &&
         client.expect(bodies.chunked, true) &&
         client.send("GET /big HTTP/1.1\r\nHost: test\r\n\r\n") &&
         client.expect(bodies.big, false) &&
         // Two pipelined requests in one segment.
         client.send(
             "GET /small HTTP/1.1\r\nHost: test\r\n\r\n"
             "GET /small HTTP/1.1\r\nHost: test\r\n\r\n") &&
         client.expect(bodies.small, false) && client.expect(bodies.small, false);
}

/// Every client runs `rounds` rounds at once, on its own thread; true when every answer was right.
bool run_rounds(std::vector<std::unique_ptr<RawClient>>& clients, const TestBodies& bodies,
                int rounds) {
  std::vector<std::thread> threads;
  std::vector<char> ok(clients.size(), 0);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] {
      bool all = true;
      for (int r = 0; r < rounds && all; ++r) all = one_round(*clients[i], bodies);
      ok[i] = all;
    });
  }
  for (auto& thread : threads) thread.join();
  for (char c : ok) {
    if (!c) return false;
  }
  return true;
}

std::size_t count_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

/// Runs the daemon with the listener settings `listener_extra` (YAML lines), warms it up, then
/// counts worker allocations over the measured requests; clients connect with `client_tls`
/// (null: plain TCP).
void expect_steady_state_allocates_nothing(const std::string& listener_extra, SSL_CTX* client_tls,
                                           int client_count = kClients) {
  const TestBodies bodies;
  RawBackend backend(bodies);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fulcrum-no-allocation-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto access_log = dir / "access.log";
  const std::string yaml =
      "workers: 2\n"
      "drain_timeout: 2s\n"
      "access_log: { enabled: true, format: text, path: " +
      access_log.string() +
      " }\n"
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:0\n"
      "    cluster: origin\n" +
      listener_extra +
      "clusters:\n"
      "  - name: origin\n"
      "    servers:\n"
      "      - address: 127.0.0.1:" +
      std::to_string(backend.port()) + "\n";
  app::Daemon daemon(config::load_config_string(yaml, "no_allocation.yaml"));
  daemon.start();

  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < client_count; ++i) {
    clients.push_back(std::make_unique<RawClient>(daemon.ports().at(0), client_tls));
    ASSERT_TRUE(clients.back()->connected());
  }
  // Every client with a request at the backend at once: each worker opens as many server
  // connections as it can ever need, so none is opened (and allocated) while counting.
  backend.hold_until(client_count);
  std::vector<std::thread> holders;
  std::vector<char> held_ok(clients.size(), 0);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    holders.emplace_back([&, i] {
      held_ok[i] = clients[i]->send("GET /hold HTTP/1.1\r\nHost: test\r\n\r\n") &&
                   clients[i]->expect(bodies.small, false);
    });
  }
  for (auto& holder : holders) holder.join();
  for (char ok : held_ok) ASSERT_TRUE(ok);

  const int warm_up_rounds = kWarmUpRequests / (client_count * kRequestsPerRound) + 1;
  const int measured_rounds = kMeasuredRequests / (client_count * kRequestsPerRound) + 1;
  ASSERT_TRUE(run_rounds(clients, bodies, warm_up_rounds));

  start_counting_allocations();
  const bool answered = run_rounds(clients, bodies, measured_rounds);
  const AllocationCounts counts = stop_counting_allocations();
  ASSERT_TRUE(answered);
  const int measured = measured_rounds * client_count * kRequestsPerRound;
  EXPECT_EQ(counts.worker, 0u) << counts.worker << " allocations on worker threads over "
                               << measured << " requests (" << counts.other << " on other threads)";

  // The access log was on the measured path: one line per request, every one written.
  const std::size_t total = static_cast<std::size_t>(warm_up_rounds + measured_rounds) *
                                client_count * kRequestsPerRound +
                            static_cast<std::size_t>(client_count);  // The /hold requests.
  EXPECT_EQ(backend.requests(), total);
  clients.clear();
  daemon.shutdown();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count_lines(access_log) < total && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(count_lines(access_log), total);
  std::filesystem::remove_all(dir);
}

TEST(NoAllocationTest, SteadyStateRequestsAllocateNothingOnWorkerThreads) {
  expect_steady_state_allocates_nothing("", nullptr);
}

TEST(NoAllocationTest, ManyConnectionsAllocateNothingOnWorkerThreads) {
  expect_steady_state_allocates_nothing("", nullptr, kManyClients);
}

// The same over TLS: records are encrypted and decrypted in buffers kept for the connection.
TEST(NoAllocationTest, SteadyStateTlsRequestsAllocateNothingOnWorkerThreads) {
  tls::testing::TempDir dir;
  const auto ca = tls::testing::make_ca("Test CA");
  tls::testing::CertSpec spec;
  spec.dns = {"test"};
  const auto files = tls::testing::write_pem(dir, "server", tls::testing::make_leaf(ca, spec));
  const tls::SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  ASSERT_TRUE(client);
  SSL_CTX_set_verify(client.get(), SSL_VERIFY_NONE, nullptr);
  expect_steady_state_allocates_nothing(
      "    tls: { certificates: [{ cert: " + files.cert + ", key: " + files.key + " }] }\n",
      client.get());
}

}  // namespace
}  // namespace fulcrum::proxy::testing
