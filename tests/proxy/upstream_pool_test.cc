// The worker's keep-alive pool over real loopback sockets: sweep() closes idle connections the
// server has closed or that sat idle past the cluster's idle timeout, and forgets a server that
// left every cluster, closing its connections.
#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <chrono>
#include <thread>

#include "net/endpoint.h"

namespace fulcrum::proxy {
namespace {

using asio::ip::tcp;

constexpr core::Nanos kIdle = std::chrono::seconds(60);

struct Connection {
  tcp::socket client;
  tcp::socket server;
};

Connection connect_pair(asio::io_context& io, tcp::acceptor& acceptor) {
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(client), std::move(server)};
}

// True once the peer of `server` has closed: a read returns EOF (bounded wait).
bool peer_closed(tcp::socket& server) {
  server.non_blocking(true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char byte;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    server.read_some(asio::buffer(&byte, 1), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec != asio::error::would_block) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

bool still_open(tcp::socket& server) {
  server.non_blocking(true);
  char byte;
  std::error_code ec;
  server.read_some(asio::buffer(&byte, 1), ec);
  return ec == asio::error::would_block;
}

TEST(UpstreamPool, SweepClosesWhatTheServerClosedAndForgetsRemovedServers) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const core::NetAddress address = net::to_net_address(acceptor.local_endpoint());
  UpstreamPool pool;
  auto kept_server = std::make_shared<core::ServerState>("127.0.0.1:1");
  auto removed_server = std::make_shared<core::ServerState>("127.0.0.1:1");

  Connection closed_by_server = connect_pair(io, acceptor);
  Connection healthy = connect_pair(io, acceptor);
  Connection of_removed = connect_pair(io, acceptor);
  const core::Nanos now{0};
  pool.give_back(pool.slot(kept_server, address), tls::Stream(std::move(closed_by_server.client)),
                 now, 8, kIdle);
  pool.give_back(pool.slot(kept_server, address), tls::Stream(std::move(healthy.client)), now, 8,
                 kIdle);
  pool.give_back(pool.slot(removed_server, address), tls::Stream(std::move(of_removed.client)), now,
                 8, kIdle);

  closed_by_server.server.close();
  removed_server.reset();  // The cluster dropped it: only the pool refers to it now.
  // The FIN must have reached the pooled socket before the sweep looks at it.
  tcp::socket& pooled = pool.slot(kept_server, address).idle.front().stream.socket();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (looks_open(pooled) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(looks_open(pooled));
  pool.sweep(now);

  EXPECT_TRUE(peer_closed(of_removed.server)) << "a removed server's connection is closed";
  EXPECT_TRUE(still_open(healthy.server)) << "a live server's open connection stays";
  // The server-closed one is gone: the slot now offers the healthy one only, then nothing.
  auto& slot = pool.slot(kept_server, address);
  EXPECT_EQ(slot.idle.size(), 1u);
  EXPECT_TRUE(pool.take(slot, now, std::chrono::seconds(60)).has_value());
  EXPECT_FALSE(pool.take(slot, now, std::chrono::seconds(60)).has_value());
}

TEST(UpstreamPool, SweepClosesConnectionsIdleLongerThanTheIdleTimeout) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const core::NetAddress address = net::to_net_address(acceptor.local_endpoint());
  UpstreamPool pool;
  auto server = std::make_shared<core::ServerState>("127.0.0.1:1");
  Connection old_one = connect_pair(io, acceptor);
  Connection recent = connect_pair(io, acceptor);
  pool.give_back(pool.slot(server, address), tls::Stream(std::move(old_one.client)), core::Nanos{0},
                 8, kIdle);
  pool.give_back(pool.slot(server, address), tls::Stream(std::move(recent.client)), kIdle / 2, 8,
                 kIdle);

  pool.sweep(kIdle);  // The first has been idle exactly the timeout, the second half of it.

  EXPECT_TRUE(peer_closed(old_one.server));
  EXPECT_TRUE(still_open(recent.server));
  EXPECT_EQ(pool.slot(server, address).idle.size(), 1u);
}

}  // namespace
}  // namespace fulcrum::proxy
