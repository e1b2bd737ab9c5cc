#include "proxy/tunnel.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <chrono>

#include "net/no_throw.h"

namespace fulcrum::proxy {

namespace {

using std::chrono::steady_clock;

struct Activity {
  steady_clock::time_point last = steady_clock::now();
};

asio::awaitable<void> copy(tls::Stream& from, tls::Stream& to, std::span<char> buffer,
                           uint64_t& total, Activity& activity) {
  for (;;) {
    auto [read_error, n] =
        co_await from.async_read_some(asio::buffer(buffer.data(), buffer.size()), net::kNoThrow);
    if (n > 0) {
      activity.last = steady_clock::now();
      auto [write_error, written] =
          co_await asio::async_write(to, asio::buffer(buffer.data(), n), net::kNoThrow);
      total += written;
      if (write_error) read_error = write_error;
    }
    // A TLS peer that closes without close_notify ends its direction all the same.
    if (read_error == asio::error::eof || read_error == asio::ssl::error::stream_truncated) {
      co_await to.async_shutdown_send(net::kNoThrow);
      co_return;
    }
    if (read_error) {
      std::error_code ignored;
      from.socket().close(ignored);
      to.socket().close(ignored);
      co_return;
    }
  }
}

asio::awaitable<void> watch_idle(Activity& activity, core::Nanos idle_timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto idle = std::chrono::duration_cast<steady_clock::duration>(idle_timeout);
  for (;;) {
    timer.expires_at(activity.last + idle);
    auto [ec] = co_await timer.async_wait(net::kNoThrow);
    if (ec) co_return;  // Cancelled: the copies finished first.
    if (steady_clock::now() - activity.last >= idle) co_return;
  }
}

}  // namespace

asio::awaitable<TunnelStats> tunnel(tls::Stream& client, tls::Stream& server,
                                    std::span<char> client_buffer, std::span<char> server_buffer,
                                    core::Nanos idle_timeout) {
  using namespace asio::experimental::awaitable_operators;
  TunnelStats stats;
  Activity activity;
  co_await ((copy(client, server, client_buffer, stats.client_to_server, activity) &&
             copy(server, client, server_buffer, stats.server_to_client, activity)) ||
            watch_idle(activity, idle_timeout));
  std::error_code ignored;
  client.socket().close(ignored);
  server.socket().close(ignored);
  co_return stats;
}

}  // namespace fulcrum::proxy
