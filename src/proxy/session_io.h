#pragma once

// Small pieces shared by the HTTP and TCP sessions: non-throwing awaitables, deadlines that
// cancel a socket, and failure classification.

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

#include "core/clock.h"
#include "core/try_list.h"

namespace fulcrum::proxy {

/// Completion token that returns (error_code, result...) instead of throwing: expected errors
/// (EOF, reset, timeout) are data on the request path, not exceptions.
inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Cancels a socket's pending operations when a deadline passes. State shared with the timer
/// handler carries a generation: a handler that fired for an earlier arm (queued in the same
/// reactor turn as the operation it guarded) finds a newer generation and does nothing.
class Deadline {
 public:
  explicit Deadline(const asio::any_io_executor& executor)
      : timer_(executor), state_(std::make_shared<State>()) {}
  ~Deadline() { cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void arm(asio::ip::tcp::socket& socket, core::Nanos timeout) {
    const uint64_t generation = ++state_->generation;
    state_->expired = false;
    state_->socket = &socket;
    timer_.expires_after(timeout);
    timer_.async_wait([state = state_, generation](std::error_code ec) {
      if (ec || state->generation != generation || state->socket == nullptr) return;
      state->expired = true;
      std::error_code ignored;
      state->socket->cancel(ignored);
    });
  }
  void cancel() {
    ++state_->generation;
    state_->socket = nullptr;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    uint64_t generation = 0;
    bool expired = false;
    asio::ip::tcp::socket* socket = nullptr;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

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
