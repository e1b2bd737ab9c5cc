#include "proxy/tls_session.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "generation/generation.h"
#include "net/deadline.h"
#include "net/no_throw.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::proxy {

namespace {
constexpr core::Nanos kCloseNotifyTimeout = std::chrono::seconds(1);
}  // namespace

std::optional<tls::Stream> open_client_stream(asio::ip::tcp::socket socket,
                                              const generation::ListenerRuntime& listener) {
  if (!listener.tls) return tls::Stream(std::move(socket));
  try {
    return tls::Stream::accept(std::move(socket), *listener.tls);
  } catch (const tls::TlsError& e) {
    // The socket went into accept()'s parameter, which closed it on the way out.
    spdlog::warn("listener {}: cannot start TLS: {}", listener.config.name, e.what());
    return std::nullopt;
  }
}

asio::awaitable<bool> handshake_client(tls::Stream& client, net::Deadline& deadline,
                                       core::Nanos timeout, std::string_view listener) {
  deadline.arm(client.socket(), timeout);
  auto [ec] = co_await client.async_handshake(net::kNoThrow);
  deadline.cancel();
  if (!ec) co_return true;
  if (spdlog::should_log(spdlog::level::debug)) {
    std::error_code ignored;
    const auto peer = client.socket().remote_endpoint(ignored);
    spdlog::debug("listener {}: TLS handshake with {} failed: {}", listener,
                  peer.address().to_string(),
                  deadline.expired() ? std::string("timed out")
                                     : tls::describe_handshake_error(client.ssl(), ec));
  }
  co_return false;
}

asio::awaitable<void> send_close_notify(tls::Stream& stream, net::Deadline& deadline) {
  deadline.arm(stream.socket(), kCloseNotifyTimeout);
  co_await stream.async_shutdown_send(net::kNoThrow);
  deadline.cancel();
}

}  // namespace fulcrum::proxy
