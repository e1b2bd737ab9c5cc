#pragma once

// Connecting to a server, written once for the proxy's sessions: TCP within a timeout,
// TCP_NODELAY, the TLS client handshake when the cluster speaks TLS to its servers, and a failure
// classified for passive tracking and the retry rule.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/passive.h"
#include "core/server.h"
#include "net/deadline.h"
#include "tls/client_context.h"
#include "tls/stream.h"

namespace fulcrum::net {

/// The server a connection goes to.
struct ConnectTarget {
  const core::NetAddress* address = nullptr;  ///< Resolved.
  std::string_view server;   ///< As configured ("host:port"): the TLS server name, logs.
  std::string_view cluster;  ///< Logs.
  const tls::ClientTlsContext* tls = nullptr;  ///< nullptr: plain TCP.
  core::Nanos timeout{0};  ///< For the TCP connect, then again for the TLS handshake.
};

/// A connected stream, or why there is none.
struct Connected {
  std::optional<tls::Stream> stream;
  /// What passive tracking records when there is no stream: the connect error's cause (timeout,
  /// refused, unreachable, reset); a failed TLS handshake is a reset, a slow one a timeout.
  core::FailureCause failure = core::FailureCause::kReset;

  explicit operator bool() const { return stream.has_value(); }
};

/// Connects to `target` with `deadline` (the caller's, so no timer is created per connection).
/// Nothing of a request was sent when this fails, so the retry rule may always move on.
asio::awaitable<Connected> connect(asio::any_io_executor executor, ConnectTarget target,
                                   Deadline& deadline);

}  // namespace fulcrum::net
