#pragma once

// The connection of a health check or agent query: one per probe (an http check may keep it for
// the next), connected by net::connect, plain or TLS as the cluster's requests go (verified
// against its CA, the given host name checked and sent as SNI), closed with a reset, and bounded
// as a whole by the probe's timeout.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "core/clock.h"
#include "net/deadline.h"
#include "tls/stream.h"

namespace fulcrum::tls {
class ClientTlsContext;
}  // namespace fulcrum::tls

namespace fulcrum::health::detail {

/// Where a probe connects and within what.
struct ProbeTarget {
  asio::ip::tcp::endpoint endpoint;
  const tls::ClientTlsContext* tls = nullptr;        ///< nullptr: plain TCP.
  std::string_view tls_host;                         ///< Verified and sent as SNI.
  core::Nanos timeout{0};                            ///< The probe's, for the reason text.
  std::chrono::steady_clock::time_point give_up_at;  ///< The whole probe ends by then.
};

/// Connects a probe's own connection. Null, with the reason in `failure`, when it cannot; else
/// `deadline` is armed on it until the probe's give-up time.
asio::awaitable<std::unique_ptr<tls::Stream>> connect_probe(const ProbeTarget& target,
                                                            net::Deadline& deadline,
                                                            std::string& failure);

/// The reason a probe failed: "timeout after 1s" when the deadline cancelled it, otherwise the
/// error's own message, starting lower-case ("connection refused").
std::string failure_reason(const std::error_code& ec, const net::Deadline& deadline,
                           core::Nanos timeout);

/// Closes a probe's connection when the probe ends, however it ends, unless it was handed over
/// (kept for the next check). Closing explicitly keeps SO_LINGER 0 in force: asio's socket
/// destructor turns lingering off first, which would leave a TIME_WAIT socket behind per check.
class ResetUnlessKept {
 public:
  explicit ResetUnlessKept(std::unique_ptr<tls::Stream>& stream) : stream_(stream) {}
  ~ResetUnlessKept() {
    if (!stream_) return;
    std::error_code ignored;
    stream_->socket().close(ignored);
  }
  ResetUnlessKept(const ResetUnlessKept&) = delete;
  ResetUnlessKept& operator=(const ResetUnlessKept&) = delete;

 private:
  std::unique_ptr<tls::Stream>& stream_;
};

}  // namespace fulcrum::health::detail
