#pragma once

// Small pieces shared by the HTTP and TCP sessions: non-throwing awaitables, deadlines that
// cancel a socket, and failure classification.

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <asio/compose.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>

#include "core/clock.h"
#include "core/try_list.h"
#include "tls/stream.h"

namespace fulcrum::proxy {

/// Completion token that returns (error_code, result...) instead of throwing: expected errors
/// (EOF, reset, timeout) are data on the request path, not exceptions.
inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Cancels a socket's pending operations when a deadline passes.
///
/// Arming and cancelling only store a time: the timer itself is started when none is pending and
/// re-armed when it fires early, so a keep-alive connection serving thousands of requests costs a
/// timer operation per timeout period, not several per request. State shared with the timer
/// handler outlives the owner, so a late handler touches nothing freed.
class Deadline {
 public:
  explicit Deadline(const asio::any_io_executor& executor)
      : timer_(executor), state_(std::make_shared<State>()) {}
  ~Deadline() {
    state_->socket = nullptr;
    timer_.cancel();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void arm(asio::ip::tcp::socket& socket, core::Nanos timeout) {
    state_->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    state_->expired = false;
    state_->socket = &socket;
    if (!state_->waiting || timer_.expiry() > state_->deadline) wait(state_->deadline);
  }
  void cancel() {
    state_->deadline = Clock::time_point::max();
    state_->socket = nullptr;
  }
  bool expired() const { return state_->expired; }

 private:
  using Clock = std::chrono::steady_clock;
  struct State {
    Clock::time_point deadline = Clock::time_point::max();
    asio::ip::tcp::socket* socket = nullptr;
    uint64_t generation = 0;
    bool waiting = false;
    bool expired = false;
  };

  void wait(Clock::time_point until) {
    const uint64_t generation = ++state_->generation;
    state_->waiting = true;
    timer_.expires_at(until);
    timer_.async_wait([this, state = state_, generation](std::error_code ec) {
      if (state->generation != generation) return;  // Superseded by a later wait().
      state->waiting = false;
      if (ec || state->socket == nullptr) return;  // Owner gone or nothing armed.
      if (Clock::now() >= state->deadline) {
        state->expired = true;
        std::error_code ignored;
        state->socket->cancel(ignored);
      } else {
        wait(state->deadline);  // Re-armed later since this wait began.
      }
    });
  }

  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

namespace detail {

/// The state of async_send_all: what is left to send, advanced in place after each send. The
/// array goes to the stream by value (unused entries empty), because the state itself moves
/// with each operation: a view into it would dangle.
struct SendAllOp {
  tls::Stream& stream;
  std::array<asio::const_buffer, 4> buffers;
  asio::socket_base::message_flags flags;
  bool started = false;

  template <typename Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t sent = 0) {
    if (started) {
      if (ec) return self.complete(ec);
      bool rest = false;
      for (auto& buffer : buffers) {
        const std::size_t n = std::min(sent, buffer.size());
        buffer += n;
        sent -= n;
        rest = rest || buffer.size() > 0;
      }
      if (!rest) return self.complete(ec);
    }
    started = true;
    // Plain TCP gathers every buffer into one system call, with MSG_MORE; TLS writes a record
    // per call from the first non-empty buffer and this loop goes on with the rest.
    if (stream.is_tls()) {
      stream.async_write_some(buffers, std::move(self));
    } else {
      stream.socket().async_send(buffers, flags, std::move(self));
    }
  }
};

}  // namespace detail

/// Sends every byte of `buffers` (at most 4 of them, gathered into one system call on plain TCP)
/// and completes with an error_code. With `more`, the kernel is told more data follows at once
/// (MSG_MORE, plain TCP only), so a streamed body goes out in full segments instead of one small
/// packet per read; the last write of a message must pass `more = false` or it lingers corked.
/// A composed operation, not a coroutine: its state travels with the socket operation, so
/// sending costs no frame allocation.
template <typename Token>
auto async_send_all(tls::Stream& stream, std::span<const asio::const_buffer> buffers, bool more,
                    Token&& token) {
  detail::SendAllOp op{stream, {}, more ? MSG_MORE : 0};
  std::copy_n(buffers.begin(), std::min(buffers.size(), op.buffers.size()), op.buffers.begin());
  return asio::async_compose<Token, void(std::error_code)>(std::move(op), token);
}

/// A peer address as text (dotted IPv4, IPv6 without brackets), written into `out` without
/// allocating as asio's to_string() does; returns its length, 0 if it does not fit.
inline std::size_t format_ip(const asio::ip::address& address, std::span<char> out) {
  const char* written = nullptr;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    written = ::inet_ntop(AF_INET, bytes.data(), out.data(), static_cast<socklen_t>(out.size()));
  } else {
    const auto bytes = address.to_v6().to_bytes();
    written = ::inet_ntop(AF_INET6, bytes.data(), out.data(), static_cast<socklen_t>(out.size()));
  }
  return written == nullptr ? 0 : std::strlen(out.data());
}

/// Maps a connect error to the cause passive tracking records.
inline core::FailureCause classify_connect_error(const std::error_code& ec, bool timed_out) {
  if (timed_out) return core::FailureCause::kTimeout;
  if (ec == asio::error::connection_refused) return core::FailureCause::kRefused;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return core::FailureCause::kUnreachable;
  }
  return core::FailureCause::kReset;
}

}  // namespace fulcrum::proxy
