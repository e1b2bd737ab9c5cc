#include "proxy/worker.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "core/hash.h"
#include "proxy/sessions.h"

namespace fulcrum::proxy {

namespace {

std::size_t head_buffer_size(Runtime& runtime) {
  std::size_t size = Worker::kMinHeadBufferSize;
  for (const auto& listener : runtime.listeners()) {
    size = std::max<std::size_t>(size, 2 * std::size_t{listener->config.limits.max_head_bytes});
  }
  return size;
}

}  // namespace

Worker::Worker(Runtime& runtime, unsigned index)
    : runtime_(runtime),
      index_(index),
      head_buffers_(head_buffer_size(runtime)),
      rng_(core::mix64(index + 1)),
      access_log_(runtime.access_log().writer()) {
  sessions_.prev = sessions_.next = &sessions_;
  readers_.reserve(runtime.clusters().size());
  for (auto& cluster : runtime.clusters()) readers_.emplace_back(*cluster.cluster);
}

Worker::~Worker() {
  stop();
  join();
}

void Worker::bind(std::vector<uint16_t>& ports) {
  auto& listeners = runtime_.listeners();
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const auto& config = listeners[i]->config;
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(config.host),
                                     ports[i] != 0 ? ports[i] : config.port);
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    int on = 1;
    // One listening socket per worker; the kernel spreads new connections across them.
    if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
      throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
    }
    // Accepted sockets inherit TCP_NODELAY from the listening socket (Linux): set once here, not
    // once per connection.
    acceptor->set_option(asio::ip::tcp::no_delay(true));
    if (config.mode == config::ListenerMode::kHttp) {
      // HTTP clients speak first: the kernel hands over a connection once its request bytes
      // are in, so the first read finds them instead of failing with EAGAIN. 1 s, as nginx's
      // "deferred": a silent client is accepted after that and meets client_idle as before.
      const int defer_seconds = 1;
      if (::setsockopt(acceptor->native_handle(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds,
                       sizeof defer_seconds) != 0) {
        throw std::system_error(errno, std::generic_category(), "TCP_DEFER_ACCEPT");
      }
    }
    acceptor->bind(endpoint);
    acceptor->listen(asio::socket_base::max_listen_connections);
    if (ports[i] == 0) ports[i] = acceptor->local_endpoint().port();
    acceptors_.push_back(std::move(acceptor));
  }
}

void Worker::start() {
  auto& listeners = runtime_.listeners();
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    asio::co_spawn(io_, accept_loop(*listeners[i], *acceptors_[i]), asio::detached);
  }
  thread_ = std::thread([this] {
    // Named first, before anything allocates: tools (top -H, the allocation test) tell the
    // workers by it.
    char name[16];
    fmt::format_to_n(name, sizeof name - 1, "fulcrum-w{}", index_).out[0] = '\0';
    ::pthread_setname_np(::pthread_self(), name);
    try {
      io_.run();
    } catch (const std::exception& e) {
      spdlog::critical("worker {}: {}", index_, e.what());
    }
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::stop() { io_.stop(); }

void Worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& acceptor : acceptors_) {
      std::error_code ignored;
      acceptor->close(ignored);
    }
    for (SessionHandle* session = sessions_.next; session != &sessions_; session = session->next) {
      if (session->idle) {
        std::error_code ignored;
        session->client->cancel(ignored);
      }
    }
    pool_.close_all();
  });
}

void Worker::register_session(SessionHandle& handle) {
  session_count_.fetch_add(1, std::memory_order_relaxed);
  handle.prev = sessions_.prev;
  handle.next = &sessions_;
  sessions_.prev->next = &handle;
  sessions_.prev = &handle;
}

void Worker::unregister_session(SessionHandle& handle) {
  handle.prev->next = handle.next;
  handle.next->prev = handle.prev;
  handle.prev = handle.next = nullptr;
  // The daemon sets the runtime flag before it waits, so no last close goes unnoticed.
  if (session_count_.fetch_sub(1, std::memory_order_relaxed) == 1 && runtime_.draining()) {
    runtime_.notify_session_closed();
  }
}

asio::awaitable<void> Worker::accept_loop(ListenerRuntime& listener,
                                          asio::ip::tcp::acceptor& acceptor) {
  constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
  const bool http = listener.config.mode == config::ListenerMode::kHttp;
  asio::ip::tcp::endpoint peer;  // Filled by accept() itself: no getpeername per connection.
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(peer, nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      // Out of fds or similar: log and keep serving the connections we have.
      spdlog::warn("listener {}: accept failed: {}", listener.config.name, ec.message());
      continue;
    }
    listener.accepted_total.fetch_add(1, std::memory_order_relaxed);
    if (listener.connections.load(std::memory_order_relaxed) >=
        listener.config.limits.max_connections) {
      listener.rejected_total.fetch_add(1, std::memory_order_relaxed);
      std::error_code ignored;
      socket.close(ignored);  // Over the limit: refused, never queued without bound.
      continue;
    }
    if (http) {
      asio::co_spawn(io_, run_http_session(*this, listener, std::move(socket), peer),
                     asio::detached);
    } else {
      asio::co_spawn(io_, run_tcp_session(*this, listener, std::move(socket), peer),
                     asio::detached);
    }
  }
}

}  // namespace fulcrum::proxy
