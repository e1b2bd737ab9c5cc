#pragma once

// The network side of health checking: one attempt of each kind against one endpoint, on the
// caller's executor, bounded by a timeout. Connections are closed with a reset (SO_LINGER 0), as
// HAProxy's checks do, so that thousands of checks a second leave no TIME_WAIT sockets behind on
// the proxy. tcp checks and agent queries use a fresh connection each; an http check may keep
// its connection open for the server's next check (reuse_connection, as Envoy does).

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"

namespace fulcrum::tls {
class ClientTlsContext;
class Stream;
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
  std::string request;  ///< The whole request head; "Connection: close" unless reused.
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

/// The keep-alive connection of one server's http checks, open between checks (null `stream`:
/// none; the next check connects). Owned by the server's check loop on the health thread, so it
/// is closed with the loop and never outlives the io_context.
struct KeptConnection {
  KeptConnection();
  ~KeptConnection();  ///< Closes with a reset.
  KeptConnection(const KeptConnection&) = delete;
  KeptConnection& operator=(const KeptConnection&) = delete;

  void close();

  std::unique_ptr<tls::Stream> stream;
  asio::ip::tcp::endpoint endpoint;  ///< Where `stream` leads; a changed address reconnects.
  uint64_t connections_opened = 0;   ///< For tests: every fresh connection counts.
  std::string buffer;                ///< Responses are read here: no allocation per check.
};

/// Success when the response head arrives within `timeout` with an expected status and, if
/// asked, the body contains the expected text. Without `kept`, the check uses a fresh connection
/// and closes it. With `kept`, it sends the request on the kept connection when one is open and
/// leaves the connection there when the response allows (complete, keep-alive, no surplus); when
/// a kept connection fails before any response byte (the server closed it while idle), the check
/// is retried once on a fresh connection within the same timeout, so that is never a failure.
asio::awaitable<CheckResult> http_check(asio::ip::tcp::endpoint endpoint, const HttpCheck& check,
                                        core::Nanos timeout, KeptConnection* kept = nullptr);

struct AgentReply {
  bool answered = false;  ///< Some bytes arrived; `text` holds them.
  std::string text;       ///< Up to the first line end (at most kMaxAnswerBytes).
  std::string failure;    ///< When nothing arrived: why ("connection refused", "timeout ...").
  static constexpr std::size_t kMaxAnswerBytes = 512;
};

/// Connects to an agent, sends `send` (if any) and reads its answer until a line end, the end
/// of the stream or `timeout` (bytes received before the timeout are the answer). With `tls`,
/// over TLS verified for `tls_host`.
asio::awaitable<AgentReply> query_agent(asio::ip::tcp::endpoint endpoint, std::string_view send,
                                        core::Nanos timeout,
                                        const tls::ClientTlsContext* tls = nullptr,
                                        const std::string& tls_host = {});

/// "1s", "1500ms": durations as the configuration writes them, for messages.
std::string format_duration(core::Nanos d);

}  // namespace fulcrum::health
