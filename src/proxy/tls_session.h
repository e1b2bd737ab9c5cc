#pragma once

// The TLS steps of the sessions, off the request path: a client's handshake and close_notify
// before a TLS connection closes (the handshake with a server is part of net::connect). Plain
// connections never come here.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>
#include <string_view>

#include "net/deadline.h"
#include "tls/stream.h"

namespace fulcrum::generation {
struct ListenerRuntime;
}  // namespace fulcrum::generation

namespace fulcrum::proxy {

/// The stream a session serves a connection accepted on `listener` through: plain TCP, or TLS
/// with the handshake still to do. nullopt (logged, socket closed) when TLS cannot start.
std::optional<tls::Stream> open_client_stream(asio::ip::tcp::socket socket,
                                              const generation::ListenerRuntime& listener);

/// The server side of the handshake with a client accepted on a TLS listener, within `timeout`
/// (the listener's client_header: a slow handshake is a slowloris too). False when it failed or
/// timed out; logged at debug level only, since scanners and plain-text clients are common.
asio::awaitable<bool> handshake_client(tls::Stream& client, net::Deadline& deadline,
                                       core::Nanos timeout, std::string_view listener);

/// Sends close_notify (without waiting for the peer's) within a short deadline, so that the
/// peer may resume its session later; errors are ignored, the connection is closing anyway.
asio::awaitable<void> send_close_notify(tls::Stream& stream, net::Deadline& deadline);

}  // namespace fulcrum::proxy
