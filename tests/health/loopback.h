#pragma once

// Real loopback servers for the health tests: each listener answers every connection with a
// scripted reply (changeable while running), or holds it silently, or refuses by not existing;
// after the reply it closes, or keeps the connection for more requests (keep-alive).
// One io_context thread serves them all. Plus a black hole: a listener whose backlog is full,
// so that new connections neither complete nor get refused.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/server.h"
#include "net/endpoint.h"
#include "net/no_throw.h"

namespace fulcrum::health::testing {

/// What a listener reads before replying.
enum class ReadFirst { kNothing, kLine, kHeadEnd };

/// What a listener does after a reply. The last two need ReadFirst::kHeadEnd.
enum class AfterReply {
  kClose,            ///< Half-closes, then waits for the client to close.
  kKeepAlive,        ///< Reads the next request on the same connection and replies again.
  kDropNextRequest,  ///< Reads the next request, then closes without a reply: a keep-alive
                     ///< connection that the server gave up on while the client was idle.
};

class LoopbackServers {
 public:
  struct Listener {
    asio::ip::tcp::acceptor acceptor;
    ReadFirst read_first;
    std::optional<std::string> reply;  ///< guarded by mutex; nullopt: hold the connection.
    std::string last_request;          ///< guarded by mutex
    AfterReply after_reply;            ///< guarded by mutex
    std::size_t replies = 0;           ///< guarded by mutex
    std::vector<std::chrono::steady_clock::time_point> accepted;  ///< guarded by mutex
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> held;     ///< io thread only
  };

  LoopbackServers() = default;
  ~LoopbackServers() { stop(); }

  /// Adds a listener on 127.0.0.1 (port 0 picks one); returns its index. Before start() only.
  std::size_t add(std::optional<std::string> reply, ReadFirst read_first = ReadFirst::kNothing,
                  uint16_t port = 0) {
    asio::ip::tcp::acceptor acceptor(io_);
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    listeners_.push_back(std::unique_ptr<Listener>(new Listener{
        std::move(acceptor), read_first, std::move(reply), {}, AfterReply::kClose, 0, {}, {}}));
    return listeners_.size() - 1;
  }

  void start() {
    for (auto& l : listeners_) asio::co_spawn(io_, accept_loop(*l), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port(std::size_t i) const { return listeners_[i]->acceptor.local_endpoint().port(); }
  core::NetAddress address(std::size_t i) const {
    return net::to_net_address(listeners_[i]->acceptor.local_endpoint());
  }
  std::string host_port(std::size_t i) const { return "127.0.0.1:" + std::to_string(port(i)); }

  void set_reply(std::size_t i, std::optional<std::string> reply) {
    std::lock_guard lock(mutex_);
    listeners_[i]->reply = std::move(reply);
  }
  void set_after_reply(std::size_t i, AfterReply after) {
    std::lock_guard lock(mutex_);
    listeners_[i]->after_reply = after;
  }
  std::size_t replies(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return listeners_[i]->replies;
  }
  std::size_t connections(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return listeners_[i]->accepted.size();
  }
  std::vector<std::chrono::steady_clock::time_point> accept_times(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return listeners_[i]->accepted;
  }
  std::string last_request(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return listeners_[i]->last_request;
  }

 private:
  asio::awaitable<void> accept_loop(Listener& l) {
    for (;;) {
      auto [ec, socket] = co_await l.acceptor.async_accept(net::kNoThrow);
      if (ec) co_return;
      {
        std::lock_guard lock(mutex_);
        l.accepted.push_back(std::chrono::steady_clock::now());
      }
      asio::co_spawn(io_, serve(l, std::make_shared<asio::ip::tcp::socket>(std::move(socket))),
                     asio::detached);
    }
  }

  asio::awaitable<void> serve(Listener& l, std::shared_ptr<asio::ip::tcp::socket> socket) {
    std::string received;
    AfterReply after = AfterReply::kClose;
    for (bool first = true;; first = false) {
      std::string request;
      if (l.read_first != ReadFirst::kNothing) {
        auto [ec, n] = co_await asio::async_read_until(
            *socket, asio::dynamic_buffer(received),
            l.read_first == ReadFirst::kLine ? "\n" : "\r\n\r\n", net::kNoThrow);
        if (ec) co_return;
        request = received.substr(0, n);
        received.erase(0, n);
      }
      if (!first && after == AfterReply::kDropNextRequest) co_return;  // Closes, unanswered.
      std::optional<std::string> reply;
      {
        std::lock_guard lock(mutex_);
        l.last_request = request;
        reply = l.reply;
        after = l.after_reply;
        if (reply) ++l.replies;
      }
      if (!reply) {
        l.held.push_back(socket);  // Never answered; closed when the servers stop.
        co_return;
      }
      auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(*reply), net::kNoThrow);
      if (ec) co_return;
      if (after == AfterReply::kClose) break;
    }
    std::error_code ignored;
    socket->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    // Wait for the client to close, so our side does not reset a reply it has not read.
    char byte;
    co_await socket->async_read_some(asio::buffer(&byte, 1), net::kNoThrow);
  }

  asio::io_context io_{1};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::thread thread_;
};

/// A listener that never accepts, with its backlog filled: a connection attempt to it neither
/// completes nor is refused, as with a host that dropped off the network.
class BlackHole {
 public:
  BlackHole() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 0) != 0) {
      throw std::runtime_error("black hole: cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    // With backlog 0 the accept queue holds one connection; a few more attempts make sure it is
    // full whatever the kernel rounds the backlog to. Non-blocking: the last ones never finish.
    for (int i = 0; i < 4; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(fd);
    }
  }
  ~BlackHole() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  core::NetAddress address() const {
    return net::to_net_address({asio::ip::make_address("127.0.0.1"), port_});
  }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
};

/// Polls `done` until it holds or `timeout` passes; returns whether it held.
inline bool wait_for(const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace fulcrum::health::testing
