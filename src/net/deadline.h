#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "core/clock.h"

namespace fulcrum::net {

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

  using Clock = std::chrono::steady_clock;

  void arm(asio::ip::tcp::socket& socket, core::Nanos timeout) {
    arm_until(socket, Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
  }
  void arm_until(asio::ip::tcp::socket& socket, Clock::time_point deadline) {
    state_->deadline = deadline;
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

}  // namespace fulcrum::net
