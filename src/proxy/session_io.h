#pragma once

// Small pieces shared by the HTTP and TCP sessions: non-throwing awaitables, deadlines that
// cancel a socket, and failure classification.

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <span>

#include "core/clock.h"
#include "core/try_list.h"

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

/// Writes every byte of `buffers` (at most 4 of them). With `more`, the kernel is told more data
/// follows at once (MSG_MORE), so a streamed body goes out in full segments instead of one small
/// packet per read; the last write of a message must pass `more = false` or it lingers corked.
inline asio::awaitable<std::error_code> send_all(asio::ip::tcp::socket& socket,
                                                 std::span<const asio::const_buffer> buffers,
                                                 bool more) {
  std::size_t total = 0;
  for (const auto& b : buffers) total += b.size();
  if (!more) {
    auto [ec, n] = co_await asio::async_write(socket, buffers, kNoThrow);
    co_return ec;
  }
  auto [ec, sent] = co_await socket.async_send(buffers, MSG_MORE, kNoThrow);
  if (ec || sent == total) co_return ec;
  std::array<asio::const_buffer, 4> rest;
  std::size_t count = 0;
  for (const auto& b : buffers) {
    if (sent >= b.size()) {
      sent -= b.size();
      continue;
    }
    rest[count++] = asio::buffer(b + sent);
    sent = 0;
  }
  auto [rest_error, n] =
      co_await asio::async_write(socket, std::span(rest.data(), count), kNoThrow);
  co_return rest_error;
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
