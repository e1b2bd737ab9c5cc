#include "proxy/worker.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/bind_allocator.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "net/no_throw.h"
#include "proxy/operation_cache.h"
#include "proxy/sessions.h"

namespace fulcrum::proxy {

namespace {

// How long an accept loop waits after a failed accept (out of fds or memory) before trying again.
constexpr std::chrono::milliseconds kAcceptRetryPause{100};

std::size_t head_buffer_size(generation::Generation& runtime) {
  std::size_t size = Worker::kMinHeadBufferSize;
  for (const auto& listener : runtime.listeners()) {
    size = std::max<std::size_t>(size, 2 * std::size_t{listener->config.limits.max_head_bytes});
  }
  return size;
}

}  // namespace

Worker::Worker(std::shared_ptr<generation::Generation> runtime, unsigned index)
    : runtime_(std::move(runtime)),
      index_(index),
      head_buffers_(head_buffer_size(*runtime_)),
      rng_(core::seed_from_os()),
      access_log_(runtime_->access_log().writer()) {
  sessions_.prev = sessions_.next = &sessions_;
}

Worker::~Worker() {
  stop();
  join();
}

std::unique_ptr<asio::ip::tcp::acceptor> Worker::open_acceptor(const config::ListenerConfig& config,
                                                               uint16_t& port) {
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(config.host),
                                   port != 0 ? port : config.port);
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
  if (port == 0) port = acceptor->local_endpoint().port();
  return acceptor;
}

void Worker::bind(std::vector<uint16_t>& ports) {
  auto& listeners = runtime_->listeners();
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    bound_.push_back(open_acceptor(listeners[i]->config, ports[i]));
  }
}

std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> Worker::bind_new(
    const generation::Generation& next, const std::vector<std::size_t>& kept,
    std::vector<uint16_t>& ports) {
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> fresh(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] == SIZE_MAX) fresh[i] = open_acceptor(next.listeners()[i]->config, ports[i]);
  }
  return fresh;
}

void Worker::install(std::shared_ptr<generation::Generation> next, std::vector<std::size_t> kept,
                     std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> fresh) {
  asio::post(io_, [this, next = std::move(next), kept = std::move(kept),
                   fresh = std::move(fresh)]() mutable {
    if (draining_) return;  // Shutting down: the fresh sockets close with `fresh`.
    std::vector<std::shared_ptr<AcceptorSlot>> slots(kept.size());
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (kept[i] != SIZE_MAX) {
        slots[i] = std::move(slots_[kept[i]]);
      } else {
        slots[i] = std::make_shared<AcceptorSlot>(std::move(*fresh[i]));
        asio::co_spawn(io_, accept_loop(slots[i]), asio::detached);
      }
      slots[i]->generation = next;
      slots[i]->listener = next->listeners()[i].get();
    }
    for (auto& dropped : slots_) {
      if (!dropped) continue;
      std::error_code ignored;
      dropped->acceptor.close(ignored);  // Its accept loop ends; waiting connections are reset.
    }
    slots_ = std::move(slots);
    const uint64_t serial = next->serial();
    runtime_ = std::move(next);
    // Sessions of older generations close after their next response (Connection: close), or
    // at their idle timeout; those still idle between requests after the drain timeout are
    // closed then. Requests in progress and tunnels (tcp mode, WebSocket) run to their end: they
    // hold only memory of the old generation, never a thread.
    auto timer = std::make_shared<asio::steady_timer>(io_, runtime_->config().drain_timeout);
    timer->async_wait([this, timer, serial](std::error_code ec) {
      if (!ec && !draining_) close_sessions_older_than(serial);
    });
  });
}

void Worker::close_sessions_older_than(uint64_t serial) {
  for (SessionHandle* session = sessions_.next; session != &sessions_; session = session->next) {
    if (session->idle && session->generation != nullptr && session->generation->serial() < serial) {
      std::error_code ignored;
      session->client->cancel(ignored);
    }
  }
}

void Worker::start() {
  auto& listeners = runtime_->listeners();
  // First thing on the worker's thread, before any operation takes a block.
  asio::post(io_, prime_operation_cache);
  for (std::size_t i = 0; i < bound_.size(); ++i) {
    auto slot = std::make_shared<AcceptorSlot>(std::move(*bound_[i]));
    slot->generation = runtime_;
    slot->listener = listeners[i].get();
    slots_.push_back(slot);
    asio::co_spawn(io_, accept_loop(std::move(slot)), asio::detached);
  }
  bound_.clear();
  arm_pool_sweep();
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

void Worker::arm_pool_sweep() {
  // Often enough that a removed server's connections go within seconds; rare enough to cost
  // nothing (one MSG_PEEK per idle connection).
  constexpr std::chrono::seconds kPoolSweepPeriod{2};
  pool_sweep_timer_.expires_after(kPoolSweepPeriod);
  pool_sweep_timer_.async_wait(
      asio::bind_allocator(HandlerAllocator<int>(pool_sweep_memory_), [this](std::error_code ec) {
        if (ec || draining_) return;
        pool_.sweep(clock_.now());
        arm_pool_sweep();
      }));
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::stop() { io_.stop(); }

void Worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& slot : slots_) {
      std::error_code ignored;
      slot->acceptor.close(ignored);
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
  if (session_count_.fetch_sub(1, std::memory_order_relaxed) == 1 && runtime_->draining()) {
    runtime_->notify_session_closed();
  }
}

asio::awaitable<void> Worker::accept_loop(std::shared_ptr<AcceptorSlot> slot) {
  asio::ip::tcp::endpoint peer;  // Filled by accept() itself: no getpeername per connection.
  asio::steady_timer pause(io_);
  uint64_t failed_in_a_row = 0;
  while (slot->acceptor.is_open()) {
    auto [ec, socket] = co_await slot->acceptor.async_accept(peer, net::kNoThrow);
    // Read after the wait: a reload may have re-pointed the slot meanwhile.
    generation::ListenerRuntime& listener = *slot->listener;
    if (ec) {
      if (ec == asio::error::operation_aborted || !slot->acceptor.is_open()) break;
      if (failed_in_a_row++ == 0) {
        spdlog::warn("listener {}: accept failed: {}; retrying every {} ms until it succeeds",
                     listener.config.name, ec.message(), kAcceptRetryPause.count());
      }
      // Out of fds or memory: the connection stays in the backlog and accept() fails again at
      // once, so retrying now would spin a core. Serve the connections we have; some will close.
      pause.expires_after(kAcceptRetryPause);
      co_await pause.async_wait(net::kNoThrow);
      continue;
    }
    if (failed_in_a_row != 0) {
      spdlog::info("listener {}: accepting again after {} failed accepts", listener.config.name,
                   failed_in_a_row);
      failed_in_a_row = 0;
    }
    listener.accepted_total.fetch_add(1, std::memory_order_relaxed);
    if (listener.connections.load(std::memory_order_relaxed) >=
        listener.config.limits.max_connections) {
      listener.rejected_total.fetch_add(1, std::memory_order_relaxed);
      std::error_code ignored;
      socket.close(ignored);  // Over the limit: refused, never queued without bound.
      continue;
    }
    if (listener.config.mode == config::ListenerMode::kHttp) {
      asio::co_spawn(io_,
                     run_http_session(*this, slot->generation, listener, std::move(socket), peer),
                     asio::detached);
    } else {
      asio::co_spawn(io_,
                     run_tcp_session(*this, slot->generation, listener, std::move(socket), peer),
                     asio::detached);
    }
  }
}

}  // namespace fulcrum::proxy
