#pragma once

// Connecting to a host named in text ("etcd-1", "10.0.0.5"): the client library's connector and
// the etcd client. Plain TCP only, so that the client library links no TLS.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <string_view>
#include <system_error>

#include "net/deadline.h"

namespace fulcrum::net {

/// Connects `socket` to `host` at `port`: a literal address directly, a name through the resolver
/// (each of its addresses in turn). No timeout of its own: the caller bounds it with a Deadline on
/// `socket` (given here too, as a lookup cannot be cancelled through the socket: an expired one
/// ends the attempt before connecting) or a timer. asio::error::invalid_argument for a bad port.
asio::awaitable<std::error_code> connect_by_name(asio::ip::tcp::socket& socket,
                                                 std::string_view host, std::string_view port,
                                                 const Deadline* deadline = nullptr);

}  // namespace fulcrum::net
