#pragma once

// Endpoints: server addresses resolved off the request path, conversions between the core's
// NetAddress and Asio's endpoints, and addresses formatted without allocating.

#include <arpa/inet.h>

#include <asio/ip/tcp.hpp>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/server.h"

namespace fulcrum::net {

/// Resolves "host:port" (blocking getaddrinfo through Asio): only ever called off the request
/// path — at start, by the re-resolution thread, and by control operations. The first address
/// returned wins, as HAProxy's server lines do. Empty with `error` set when it does not resolve.
std::optional<core::NetAddress> resolve_server_address(std::string_view address,
                                                       std::string* error);

/// True when the host part is an IP literal: nothing to re-resolve.
bool is_ip_literal(std::string_view address);

asio::ip::tcp::endpoint to_endpoint(const core::NetAddress& address);
core::NetAddress to_net_address(const asio::ip::tcp::endpoint& endpoint);

/// A peer address as text (dotted IPv4, IPv6 without brackets), written into `out` without
/// allocating as asio's to_string() does; returns its length, 0 if it does not fit.
inline std::size_t format_ip(const asio::ip::address& address, std::span<char> out) {
  const char* written = nullptr;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    written = ::inet_ntop(AF_INET, bytes.data(), out.data(), static_cast<socklen_t>(out.size()));
  } else {
    const auto bytes = address.to_v6().to_bytes();
    written = ::inet_ntop(AF_INET6, bytes.data(), out.data(), static_cast<socklen_t>(out.size()));
  }
  return written == nullptr ? 0 : std::strlen(out.data());
}

}  // namespace fulcrum::net
