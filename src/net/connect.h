#pragma once

// Connecting to a server, written once for the proxy's sessions and the health checks: TCP within
// a timeout, TCP_NODELAY, the TLS client handshake when the cluster speaks TLS to its servers, and
// a failure classified for passive tracking and the retry rule.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/passive.h"
#include "net/deadline.h"
#include "tls/client_context.h"
#include "tls/stream.h"

namespace fulcrum::net {

/// The server a connection goes to.
struct ConnectTarget {
  asio::ip::tcp::endpoint endpoint;
  std::string_view server;    ///< As configured ("host:port"): logs, and the TLS name by default.
  std::string_view tls_name;  ///< Sent as SNI and verified; empty: the host of `server`.
  /// Names the cluster in the log line of a TLS failure. Empty: nothing is logged, the caller
  /// reports `Connected::reason` itself (health checks).
  std::string_view cluster;
  const tls::ClientTlsContext* tls = nullptr;  ///< nullptr: plain TCP.
  core::Nanos timeout{0};  ///< For the TCP connect, then again for the TLS handshake.
  /// Neither step runs past this: a health check bounds its whole exchange with one timeout.
  std::chrono::steady_clock::time_point give_up_at = std::chrono::steady_clock::time_point::max();
  /// SO_LINGER 0, so that closing sends a reset and leaves no TIME_WAIT behind: health checks
  /// open a connection per check.
  bool close_with_reset = false;
};

/// A connected stream, or why there is none.
struct Connected {
  std::optional<tls::Stream> stream;
  /// What passive tracking records when there is no stream: the connect error's cause (timeout,
  /// refused, unreachable, reset); a failed TLS handshake is a reset, a slow one a timeout.
  core::FailureCause failure = core::FailureCause::kReset;
  /// Without a stream, why, as health reports it: "connection refused", "timed out",
  /// "TLS handshake failed: certificate verify failed: ...".
  std::string reason;

  explicit operator bool() const { return stream.has_value(); }
};

/// Connects to `target` with `deadline` (the caller's, so no timer is created per connection).
/// Nothing of a request was sent when this fails, so the retry rule may always move on.
asio::awaitable<Connected> connect(asio::any_io_executor executor, ConnectTarget target,
                                   Deadline& deadline);

/// The TLS step alone, over a `socket` the caller connected itself (the etcd client connects by
/// name): the client handshake with `target.tls`, within `target.timeout` and `give_up_at`.
/// Only target.server, tls_name, cluster, tls, timeout and give_up_at are used.
asio::awaitable<Connected> connect_tls(asio::ip::tcp::socket socket, const ConnectTarget& target,
                                       Deadline& deadline);

}  // namespace fulcrum::net
