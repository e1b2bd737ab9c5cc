#include "client/pinger.h"

#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>

#include "client/tcp_connect.h"

namespace fulcrum::client {

asio::awaitable<bool> TcpPinger::ping(const core::ServerSpec& server) {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  const std::error_code ec = co_await connect_with_timeout(socket, server.address, timeout_);
  std::error_code ignored;
  socket.close(ignored);
  co_return !ec;
}

}  // namespace fulcrum::client
