#pragma once

// The TLS steps of the sessions, off the request path: a client's handshake, the handshake with
// a server, and close_notify before a TLS connection closes. Plain connections never come here.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "net/deadline.h"
#include "tls/client_context.h"
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

/// The client side of TLS to the server `address` ("host:port", as configured) of `cluster`
/// over the connected `socket`, the handshake within the cluster's connect timeout. nullopt
/// when it failed (logged with its cause, e.g. "certificate verify failed: hostname mismatch");
/// `deadline.expired()` then tells a timeout from a refusal.
asio::awaitable<std::optional<tls::Stream>> connect_tls(asio::ip::tcp::socket socket,
                                                        const tls::ClientTlsContext& context,
                                                        std::string_view address,
                                                        const config::ClusterConfig& cluster,
                                                        net::Deadline& deadline);

}  // namespace fulcrum::proxy
