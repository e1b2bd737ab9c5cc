#pragma once

// One TCP connection attempt with a deadline, shared by the Connector and TcpPinger.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "core/clock.h"

namespace fulcrum::client {

struct HostPort {
  std::string host;  ///< Without brackets for IPv6.
  std::string port;
};

/// Splits "host:port" or "[v6]:port". Empty when there is no port or the brackets do not match.
std::optional<HostPort> split_host_port(std::string_view address);

/// Closes `socket`, then connects it (on the awaiting coroutine's executor) to `address`, resolving
/// it first when the host is not a literal IP address. Fails with asio::error::timed_out when the
/// whole attempt takes longer than `timeout`, with asio::error::invalid_argument for a malformed
/// address. Never throws for network failures.
asio::awaitable<std::error_code> connect_with_timeout(asio::ip::tcp::socket& socket,
                                                      std::string_view address,
                                                      core::Nanos timeout);

}  // namespace fulcrum::client
