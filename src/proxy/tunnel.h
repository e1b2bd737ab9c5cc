#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <span>

#include "core/clock.h"
#include "tls/stream.h"

namespace fulcrum::proxy {

struct TunnelStats {
  uint64_t client_to_server = 0;
  uint64_t server_to_client = 0;
};

/// Copies bytes both ways between `client` and `server` until both directions ended. An EOF in
/// one direction half-closes the other side's write end (a FIN, or close_notify on TLS), so
/// protocols that rely on half-close work; an error closes both. Ends both sides after
/// `idle_timeout` without traffic either way. `client_buffer` and `server_buffer` are scratch space
/// for each direction.
asio::awaitable<TunnelStats> tunnel(tls::Stream& client, tls::Stream& server,
                                    std::span<char> client_buffer, std::span<char> server_buffer,
                                    core::Nanos idle_timeout);

}  // namespace fulcrum::proxy
