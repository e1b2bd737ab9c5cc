#include "net/connect_by_name.h"

#include <asio/connect.hpp>
#include <charconv>
#include <string>
#include <tuple>

#include "net/no_throw.h"

namespace fulcrum::net {

asio::awaitable<std::error_code> connect_by_name(asio::ip::tcp::socket& socket,
                                                 std::string_view host, std::string_view port,
                                                 const Deadline* deadline) {
  uint16_t port_number = 0;
  const auto [end, parse_error] =
      std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (port.empty() || parse_error != std::errc() || end != port.data() + port.size()) {
    co_return asio::error::invalid_argument;
  }
  std::error_code ec;
  const auto ip = asio::ip::make_address(std::string(host), ec);
  if (!ec) {
    std::tie(ec) =
        co_await socket.async_connect(asio::ip::tcp::endpoint(ip, port_number), kNoThrow);
    co_return ec;
  }
  asio::ip::tcp::resolver resolver(socket.get_executor());
  auto [resolve_error, addresses] = co_await resolver.async_resolve(host, port, kNoThrow);
  if (resolve_error) co_return resolve_error;
  if (deadline != nullptr && deadline->expired()) co_return asio::error::timed_out;
  std::tie(ec, std::ignore) = co_await asio::async_connect(socket, addresses, kNoThrow);
  co_return ec;
}

}  // namespace fulcrum::net
