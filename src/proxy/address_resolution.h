#pragma once

#include <asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/server.h"

namespace fulcrum::proxy {

/// Resolves "host:port" (blocking getaddrinfo through Asio): only ever called off the request
/// path — at start, by the re-resolution thread, and by control operations. The first address
/// returned wins, as HAProxy's server lines do. Empty with `error` set when it does not resolve.
std::optional<core::NetAddress> resolve_server_address(std::string_view address,
                                                       std::string* error);

/// True when the host part is an IP literal: nothing to re-resolve.
bool is_ip_literal(std::string_view address);

asio::ip::tcp::endpoint to_endpoint(const core::NetAddress& address);
core::NetAddress to_net_address(const asio::ip::tcp::endpoint& endpoint);

}  // namespace fulcrum::proxy
