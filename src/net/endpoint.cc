#include "net/endpoint.h"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <cstring>

#include "config/values.h"

namespace fulcrum::net {

std::optional<core::NetAddress> resolve_server_address(std::string_view address,
                                                       std::string* error) {
  std::string reason;
  const auto host_port = config::parse_host_port(address, 1, &reason);
  if (!host_port) {
    if (error) *error = reason;
    return std::nullopt;
  }
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(host_port->host, std::to_string(host_port->port), ec);
  if (ec || results.empty()) {
    if (error) *error = ec ? ec.message() : "no addresses";
    return std::nullopt;
  }
  return to_net_address(results.begin()->endpoint());
}

bool is_ip_literal(std::string_view address) {
  std::string reason;
  const auto host_port = config::parse_host_port(address, 1, &reason);
  if (!host_port) return false;
  std::error_code ec;
  (void)asio::ip::make_address(host_port->host, ec);
  return !ec;
}

asio::ip::tcp::endpoint to_endpoint(const core::NetAddress& address) {
  if (address.family == 6) {
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), address.bytes.data(), bytes.size());
    return {asio::ip::address_v6(bytes), address.port};
  }
  asio::ip::address_v4::bytes_type bytes;
  std::memcpy(bytes.data(), address.bytes.data(), bytes.size());
  return {asio::ip::address_v4(bytes), address.port};
}

core::NetAddress to_net_address(const asio::ip::tcp::endpoint& endpoint) {
  core::NetAddress out;
  out.port = endpoint.port();
  if (endpoint.address().is_v6()) {
    out.family = 6;
    const auto bytes = endpoint.address().to_v6().to_bytes();
    std::memcpy(out.bytes.data(), bytes.data(), bytes.size());
  } else {
    out.family = 4;
    const auto bytes = endpoint.address().to_v4().to_bytes();
    std::memcpy(out.bytes.data(), bytes.data(), bytes.size());
  }
  return out;
}

}  // namespace fulcrum::net
