#pragma once

// The connection of an http check or agent query: plain TCP, or TLS as the cluster's requests go
// (verified against its CA, the given host name checked and sent as SNI).

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "core/clock.h"
#include "net/deadline.h"
#include "tls/stream.h"

namespace fulcrum::tls {
class ClientTlsContext;
}  // namespace fulcrum::tls

namespace fulcrum::health::detail {

/// A stream ready to connect: plain when `tls` is null. Null, with the reason in `failure`, when
/// TLS cannot start.
std::unique_ptr<tls::Stream> open_probe_stream(const asio::any_io_executor& executor,
                                               const tls::ClientTlsContext* tls,
                                               const std::string& tls_host, std::string& failure);

/// Connects `stream` to `endpoint` (closing later with a reset, see connect_probe) and, for TLS,
/// completes the handshake. Empty, or the reason.
asio::awaitable<std::string> connect_stream(tls::Stream& stream,
                                            const asio::ip::tcp::endpoint& endpoint,
                                            const net::Deadline& deadline, core::Nanos timeout);

}  // namespace fulcrum::health::detail
