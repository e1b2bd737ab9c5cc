#include "net/connect.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "net/connect_failure.h"
#include "net/no_throw.h"

namespace fulcrum::net {

namespace {

using Clock = std::chrono::steady_clock;

/// Arms `deadline` for one step: the target's timeout, but never past its give-up time.
void arm_step(Deadline& deadline, asio::ip::tcp::socket& socket, const ConnectTarget& target) {
  const auto step_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(target.timeout);
  deadline.arm_until(socket, std::min(step_end, target.give_up_at));
}

/// No stream: the cause and reason; the log line when the caller names a cluster.
Connected tls_failure(const ConnectTarget& target, const Deadline& deadline, std::string detail) {
  if (!target.cluster.empty()) {
    spdlog::warn("cluster {}: TLS handshake with server {} failed: {}", target.cluster,
                 target.server, detail);
  }
  return Connected{std::nullopt,
                   deadline.expired() ? core::FailureCause::kTimeout : core::FailureCause::kReset,
                   "TLS handshake failed: " + detail};
}

}  // namespace

/// The client side of TLS over the connected `socket`, the handshake within the target's
/// timeout. Nothing of the request was sent when it fails, so the request moves on like after a
/// refused connection.
asio::awaitable<Connected> connect_tls(asio::ip::tcp::socket socket, const ConnectTarget& target,
                                       Deadline& deadline) {
  const std::string_view name =
      target.tls_name.empty() ? tls::host_of(target.server) : target.tls_name;
  Connected connected;
  try {
    connected.stream.emplace(tls::Stream::connect(std::move(socket), *target.tls, name));
  } catch (const tls::TlsError& e) {
    co_return tls_failure(target, deadline, e.what());
  }
  tls::Stream& stream = *connected.stream;
  arm_step(deadline, stream.socket(), target);
  auto [ec] = co_await stream.async_handshake(kNoThrow);
  deadline.cancel();
  if (!ec) co_return connected;
  std::string detail = deadline.expired() ? std::string("timed out within the connect timeout")
                                          : tls::describe_handshake_error(stream.ssl(), ec);
  std::error_code ignored;
  stream.socket().close(ignored);
  co_return tls_failure(target, deadline, std::move(detail));
}

asio::awaitable<Connected> connect(asio::any_io_executor executor, ConnectTarget target,
                                   Deadline& deadline) {
  asio::ip::tcp::socket socket(executor);
  std::error_code ec;
  if (target.close_with_reset) {
    socket.open(target.endpoint.protocol(), ec);
    if (!ec) socket.set_option(asio::socket_base::linger(true, 0), ec);
  }
  if (!ec) {
    arm_step(deadline, socket, target);
    std::tie(ec) = co_await socket.async_connect(target.endpoint, kNoThrow);
    deadline.cancel();
  }
  if (ec) {
    const core::FailureCause cause = classify_connect_error(ec, deadline.expired());
    co_return Connected{std::nullopt, cause,
                        deadline.expired() ? std::string("timed out") : describe_error(ec)};
  }
  std::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (target.tls == nullptr) co_return Connected{tls::Stream(std::move(socket))};
  co_return co_await connect_tls(std::move(socket), target, deadline);
}

}  // namespace fulcrum::net
