#pragma once

// Real servers on 127.0.0.1 for the client library's tests, and helpers to drive an io_context
// until a condition holds (bounded in time: no fixed sleeps).

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fulcrum::client::testing {

/// A TCP port on 127.0.0.1 that refuses connections (bound, not listening: nobody else can take
/// the port) until listen(), after which it accepts and counts connections, keeping them open.
class LoopbackServer {
 public:
  explicit LoopbackServer(asio::io_context& io, bool listening = true) : acceptor_(io) {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
    port_ = acceptor_.local_endpoint().port();
    if (listening) listen();
  }

  void listen() {
    acceptor_.listen();
    accept_next();
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(std::memory_order_acquire); }

 private:
  void accept_next() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      connections_.push_back(std::move(socket));
      accepted_.fetch_add(1, std::memory_order_release);
      accept_next();
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<asio::ip::tcp::socket> connections_;
  std::atomic<int> accepted_{0};
};

inline constexpr std::chrono::seconds kDeadline{20};

/// Runs `io` until `done()` holds or kDeadline passes; returns done().
inline bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return done();
}

/// Waits, without running any io_context, until `done()` holds (another thread makes it true)
/// or kDeadline passes; returns done().
inline bool wait_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

/// Runs a coroutine on `io` to completion and returns its value (rethrowing its exception).
template <typename T>
T run_coroutine(asio::io_context& io, asio::awaitable<T> coroutine) {
  std::optional<T> result;
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) result.emplace(std::move(value));
    finished = true;
  });
  if (!run_until(io, [&] { return finished; })) {
    ADD_FAILURE() << "coroutine did not finish within " << kDeadline.count() << " s";
    throw std::runtime_error("coroutine timed out");
  }
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace fulcrum::client::testing
