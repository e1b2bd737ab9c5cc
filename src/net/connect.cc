#include "net/connect.h"

#include <spdlog/spdlog.h>

#include "net/connect_failure.h"
#include "net/endpoint.h"
#include "net/no_throw.h"

namespace fulcrum::net {

namespace {

/// A TLS failure is a reset unless the deadline passed.
core::FailureCause failure_of_tls(const Deadline& deadline) {
  return deadline.expired() ? core::FailureCause::kTimeout : core::FailureCause::kReset;
}

/// The client side of TLS over the connected `socket`, the handshake within the target's
/// timeout. A failure is logged with its cause (e.g. "certificate verify failed: hostname
/// mismatch"): nothing of the request was sent, so it moves on like a refused connection.
asio::awaitable<Connected> connect_tls(asio::ip::tcp::socket socket, const ConnectTarget& target,
                                       Deadline& deadline) {
  Connected connected;
  try {
    connected.stream.emplace(
        tls::Stream::connect(std::move(socket), *target.tls, tls::host_of(target.server)));
  } catch (const tls::TlsError& e) {
    spdlog::warn("cluster {}: TLS to server {} failed: {}", target.cluster, target.server,
                 e.what());
    connected.failure = failure_of_tls(deadline);
    co_return connected;
  }
  tls::Stream& stream = *connected.stream;
  deadline.arm(stream.socket(), target.timeout);
  auto [ec] = co_await stream.async_handshake(kNoThrow);
  deadline.cancel();
  if (!ec) co_return connected;
  spdlog::warn("cluster {}: TLS handshake with server {} failed: {}", target.cluster, target.server,
               deadline.expired() ? std::string("timed out within the connect timeout")
                                  : tls::describe_handshake_error(stream.ssl(), ec));
  std::error_code ignored;
  stream.socket().close(ignored);
  connected.stream.reset();
  connected.failure = failure_of_tls(deadline);
  co_return connected;
}

}  // namespace

asio::awaitable<Connected> connect(asio::any_io_executor executor, ConnectTarget target,
                                   Deadline& deadline) {
  asio::ip::tcp::socket socket(executor);
  deadline.arm(socket, target.timeout);
  auto [ec] = co_await socket.async_connect(to_endpoint(*target.address), kNoThrow);
  deadline.cancel();
  if (ec) co_return Connected{std::nullopt, classify_connect_error(ec, deadline.expired())};
  std::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (target.tls == nullptr) co_return Connected{tls::Stream(std::move(socket))};
  co_return co_await connect_tls(std::move(socket), target, deadline);
}

}  // namespace fulcrum::net
