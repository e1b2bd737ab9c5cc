// One connection attempt: address forms, name resolution, refusal and the deadline.
#include "client/tcp_connect.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "loopback.h"

namespace fulcrum::client {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;

TEST(SplitHostPort, AcceptsHostPortAndBracketedIpv6) {
  auto v4 = split_host_port("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, "8080");
  auto v6 = split_host_port("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "443");
  auto name = split_host_port("db.internal:5432");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "db.internal");
}

TEST(SplitHostPort, RejectsAddressesWithoutHostOrPort) {
  for (const char* bad : {"", "host", "host:", ":80", "[::1]", "[::1]80", "[::1:80", "[]:80"}) {
    EXPECT_FALSE(split_host_port(bad)) << bad;
  }
}

std::error_code attempt(asio::io_context& io, const std::string& address, core::Nanos timeout) {
  auto run = [&]() -> asio::awaitable<std::error_code> {
    asio::ip::tcp::socket socket(io);
    co_return co_await connect_with_timeout(socket, address, timeout);
  };
  return testing::run_coroutine(io, run());
}

TEST(ConnectWithTimeout, ConnectsRefusesAndRejects) {
  asio::io_context io;
  LoopbackServer up(io), down(io, false);
  EXPECT_FALSE(attempt(io, up.address(), 5s));
  EXPECT_TRUE(testing::run_until(io, [&] { return up.accepted() == 1; }));
  EXPECT_EQ(attempt(io, down.address(), 5s), asio::error::connection_refused);
  EXPECT_EQ(attempt(io, "127.0.0.1", 5s), asio::error::invalid_argument);
  EXPECT_EQ(attempt(io, "127.0.0.1:99999", 5s), asio::error::invalid_argument);
}

TEST(ConnectWithTimeout, ResolvesNames) {
  asio::io_context io;
  LoopbackServer up(io);
  // localhost may resolve to ::1 first; the attempt goes on to 127.0.0.1.
  EXPECT_FALSE(attempt(io, "localhost:" + std::to_string(up.port()), 5s));
  EXPECT_TRUE(testing::run_until(io, [&] { return up.accepted() == 1; }));
}

TEST(ConnectWithTimeout, GivesUpAtTheDeadline) {
  // A listener whose accept queue is full and never drained: Linux drops further SYNs, so a
  // connection attempt hangs until the deadline cuts it.
  asio::io_context io;
  asio::ip::tcp::acceptor full(io);
  full.open(asio::ip::tcp::v4());
  full.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
  full.listen(0);
  const auto target = asio::ip::tcp::endpoint(full.local_endpoint());
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  std::error_code result;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 8 && result != asio::error::timed_out; ++i) {
    started = std::chrono::steady_clock::now();
    auto socket = std::make_unique<asio::ip::tcp::socket>(io);
    auto run = [&]() -> asio::awaitable<std::error_code> {
      co_return co_await connect_with_timeout(*socket, "127.0.0.1:" + std::to_string(target.port()),
                                              300ms);
    };
    result = testing::run_coroutine(io, run());
    fillers.push_back(std::move(socket));
  }
  EXPECT_EQ(result, asio::error::timed_out);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
}

}  // namespace
}  // namespace fulcrum::client
