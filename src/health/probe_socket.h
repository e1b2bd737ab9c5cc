#pragma once

// Pieces every probe shares: a connection opened for a single exchange and closed with a reset,
// under one deadline for the whole exchange.

#include <asio/ip/tcp.hpp>
#include <string>
#include <system_error>

#include "core/clock.h"
#include "health/probes.h"
#include "net/deadline.h"
#include "net/no_throw.h"

namespace fulcrum::health::detail {

/// The reason a probe failed: "timeout after 1s" when the deadline cancelled it, otherwise the
/// error's own message, starting lower-case ("connection refused").
inline std::string failure_reason(const std::error_code& ec, const net::Deadline& deadline,
                                  core::Nanos timeout) {
  if (deadline.expired()) return "timeout after " + format_duration(timeout);
  std::string message = ec.message();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') message[0] += 'a' - 'A';
  return message;
}

/// Closes a probe's socket when the probe ends, however it ends. Closing explicitly keeps
/// SO_LINGER 0 in force: asio's socket destructor turns lingering off first, which would leave a
/// TIME_WAIT socket behind for every check.
class CloseWithReset {
 public:
  explicit CloseWithReset(asio::ip::tcp::socket& socket) : socket_(socket) {}
  ~CloseWithReset() {
    std::error_code ignored;
    socket_.close(ignored);
  }
  CloseWithReset(const CloseWithReset&) = delete;
  CloseWithReset& operator=(const CloseWithReset&) = delete;

 private:
  asio::ip::tcp::socket& socket_;
};

/// Opens `socket` with SO_LINGER 0 (closing it sends a reset: no TIME_WAIT on our side) and
/// connects. Empty on success, else the reason.
inline asio::awaitable<std::string> connect_probe(asio::ip::tcp::socket& socket,
                                                  const asio::ip::tcp::endpoint& endpoint,
                                                  const net::Deadline& deadline,
                                                  core::Nanos timeout) {
  std::error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (!ec) socket.set_option(asio::socket_base::linger(true, 0), ec);
  if (!ec) std::tie(ec) = co_await socket.async_connect(endpoint, net::kNoThrow);
  if (ec) co_return failure_reason(ec, deadline, timeout);
  co_return std::string();
}

}  // namespace fulcrum::health::detail
