#pragma once

// The network side of health checking: one attempt of each kind against one endpoint, on the
// caller's executor, bounded by a timeout. Each uses a fresh connection that is closed with a
// reset (SO_LINGER 0), as HAProxy's checks do, so that thousands of checks a second leave no
// TIME_WAIT sockets behind on the proxy.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"

namespace fulcrum::tls {
class ClientTlsContext;
}  // namespace fulcrum::tls

namespace fulcrum::health {

struct CheckResult {
  bool ok = false;
  std::string reason;  ///< Why it failed, for logs: "connection refused", "status 500", ...
};

/// Success when a TCP connection can be established within `timeout`.
asio::awaitable<CheckResult> tcp_check(asio::ip::tcp::endpoint endpoint, core::Nanos timeout);

/// What an http check sends and accepts; built once per server.
struct HttpCheck {
  std::string request;  ///< The whole request head, "Connection: close".
  std::string method;
  std::vector<config::StatusRange> expect_status;
  std::string expect_body;  ///< Searched in the first kMaxBodyBytes of the body; empty: no.
  /// TLS as the cluster's requests use it (verified, same SNI); null: plain TCP.
  std::shared_ptr<const tls::ClientTlsContext> tls;
  std::string tls_host;  ///< The server's host, named and verified through `tls`.
  static constexpr std::size_t kMaxBodyBytes = 16 * 1024;

  /// `host_header`: the configured `host`, or the server's address.
  static HttpCheck make(const config::HealthCheckConfig& config, std::string_view host_header);
};

/// Success when the response head arrives within `timeout` with an expected status and, if
/// asked, the body contains the expected text.
asio::awaitable<CheckResult> http_check(asio::ip::tcp::endpoint endpoint, const HttpCheck& check,
                                        core::Nanos timeout);

struct AgentReply {
  bool answered = false;  ///< Some bytes arrived; `text` holds them.
  std::string text;       ///< Up to the first line end (at most kMaxAnswerBytes).
  std::string failure;    ///< When nothing arrived: why ("connection refused", "timeout ...").
  static constexpr std::size_t kMaxAnswerBytes = 512;
};

/// Connects to an agent, sends `send` (if any) and reads its answer until a line end, the end
/// of the stream or `timeout` (bytes received before the timeout are the answer).
asio::awaitable<AgentReply> query_agent(asio::ip::tcp::endpoint endpoint, std::string_view send,
                                        core::Nanos timeout);

/// "1s", "1500ms": durations as the configuration writes them, for messages.
std::string format_duration(core::Nanos d);

}  // namespace fulcrum::health
