#include "client/tcp_connect.h"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "net/connect_by_name.h"
#include "net/no_throw.h"

namespace fulcrum::client {

namespace {

asio::awaitable<void> wait_for(core::Nanos timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  co_await timer.async_wait(net::kNoThrow);
}

}  // namespace

std::optional<HostPort> split_host_port(std::string_view address) {
  std::string_view host;
  std::string_view rest;
  if (address.starts_with('[')) {
    const auto close = address.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = address.substr(1, close - 1);
    rest = address.substr(close + 1);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = address.substr(0, colon);
    rest = address.substr(colon);
  }
  if (host.empty() || rest.size() < 2 || rest[0] != ':') return std::nullopt;
  return HostPort{std::string(host), std::string(rest.substr(1))};
}

asio::awaitable<std::error_code> connect_with_timeout(asio::ip::tcp::socket& socket,
                                                      std::string_view address,
                                                      core::Nanos timeout) {
  std::error_code ignored;
  socket.close(ignored);  // A failed attempt leaves it open, possibly for the other family.
  auto target = split_host_port(address);
  if (!target) co_return asio::error::invalid_argument;
  using namespace asio::experimental::awaitable_operators;
  // Whichever finishes first cancels the other; a lost race leaves the socket closed.
  auto outcome =
      co_await (net::connect_by_name(socket, target->host, target->port) || wait_for(timeout));
  if (outcome.index() == 1) {
    socket.close(ignored);
    co_return asio::error::timed_out;
  }
  co_return std::get<0>(outcome);
}

}  // namespace fulcrum::client
