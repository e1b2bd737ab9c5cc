#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/rng.h"
#include "generation/generation.h"
#include "proxy/buffer_pool.h"
#include "proxy/handler_memory.h"
#include "proxy/upstream_pool.h"

namespace fulcrum::proxy {

/// A client connection as the worker tracks it for graceful shutdown. Lives in the session and
/// links into the worker's list itself, so opening a connection allocates no list node.
struct SessionHandle {
  asio::ip::tcp::socket* client = nullptr;
  bool idle = true;  ///< Between requests, no byte of the next one received.
  const generation::Generation* generation =
      nullptr;  ///< The configuration the session serves with.
  SessionHandle* prev = nullptr;
  SessionHandle* next = nullptr;
};

/// A listening socket of one worker and the listener (of the current generation) it serves.
/// A reload that keeps the listener re-points it at the new generation: the socket, and every
/// connection waiting in its backlog, stay.
struct AcceptorSlot {
  explicit AcceptorSlot(asio::ip::tcp::acceptor socket) : acceptor(std::move(socket)) {}
  asio::ip::tcp::acceptor acceptor;
  std::shared_ptr<generation::Generation> generation;
  generation::ListenerRuntime* listener = nullptr;
};

/// One event-loop thread (named "fulcrum-w<index>"). Owns its io_context, its own SO_REUSEPORT
/// listening socket per listener, its RNG, buffers and upstream pool; its snapshot caches live in
/// the clusters (one per worker). Nothing on the request path is shared with other workers except
/// the clusters' atomics.
class Worker {
 public:
  /// Streaming buffers: large enough that a 1 MiB body moves in few system calls.
  static constexpr std::size_t kBufferSize = 64 * 1024;
  static constexpr std::size_t kMinHeadBufferSize = 16 * 1024;

  Worker(std::shared_ptr<generation::Generation> runtime, unsigned index);
  ~Worker();

  /// Binds this worker's listening sockets. For a listener configured on port 0, the first
  /// worker's ephemeral port is written back into `ports` so the others share it.
  void bind(std::vector<uint16_t>& ports);
  void start();

  /// A reload, step 1 (any thread): binds sockets for the listeners of `next` that `kept` does
  /// not map to a current one (kept[i] = index of the current listener that next's listener i
  /// continues, or SIZE_MAX). Ports as in bind(). Throws std::system_error (e.g. address in use)
  /// before anything changed.
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> bind_new(
      const generation::Generation& next, const std::vector<std::size_t>& kept,
      std::vector<uint16_t>& ports);
  /// A reload, step 2 (any thread): the worker switches to `next` on its own thread. New
  /// connections and requests use it; sessions of older generations finish their request and
  /// close, and any still open `drain_timeout` later are closed.
  void install(std::shared_ptr<generation::Generation> next, std::vector<std::size_t> kept,
               std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> fresh);
  void join();
  /// Thread-safe: stop accepting, close idle connections, let requests in flight finish.
  void begin_drain();
  /// Thread-safe: stop the event loop now.
  void stop();
  /// Number of open client sessions (approximate across threads; exact on the worker).
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

  // Worker-local accessors for sessions.
  /// The current generation; sessions keep the one they started with.
  generation::Generation& runtime() { return *runtime_; }
  unsigned index() const { return index_; }
  asio::io_context& io() { return io_; }
  core::Rng& rng() { return rng_; }
  UpstreamPool& pool() { return pool_; }
  BufferPool& buffers() { return buffers_; }
  /// Buffers for request heads as received and as forwarded: twice the largest max_head_bytes
  /// of any listener (at least kMinHeadBufferSize), so a head at the limit and what follows it fit.
  BufferPool& head_buffers() { return head_buffers_; }
  const core::Clock& clock() const { return clock_; }
  /// This worker's access log writer; nullptr when the access log is off.
  generation::AccessLogWriter* access_log() { return access_log_; }

  /// `handle` must stay put until unregistered.
  void register_session(SessionHandle& handle);
  void unregister_session(SessionHandle& handle);
  bool draining() const { return draining_; }

 private:
  asio::awaitable<void> accept_loop(std::shared_ptr<AcceptorSlot> slot);
  /// UpstreamPool::sweep every kPoolSweepPeriod until the drain, without allocating (the
  /// allocation test watches worker threads over seconds).
  void arm_pool_sweep();
  std::unique_ptr<asio::ip::tcp::acceptor> open_acceptor(const config::ListenerConfig& config,
                                                         uint16_t& port);
  void close_sessions_older_than(uint64_t serial);

  std::shared_ptr<generation::Generation> runtime_;
  unsigned index_;
  // Declared before io_ so they outlive it: destroying the io_context destroys the coroutine
  // frames of sessions a drain timeout cut off, and those unregister and return their buffers.
  BufferPool buffers_{kBufferSize};
  BufferPool head_buffers_;
  SessionHandle sessions_;  ///< Sentinel of the circular list of open sessions.
  std::atomic<std::size_t> session_count_{0};
  HandlerMemory<> pool_sweep_memory_;  ///< The sweep timer's wait; outlives io_, which may free it.
  asio::io_context io_{1};
  core::SteadyClock clock_;
  core::FastRng rng_;
  UpstreamPool pool_;
  asio::steady_timer pool_sweep_timer_{io_};
  generation::AccessLogWriter* access_log_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> bound_;  ///< Until start() serves them.
  std::vector<std::shared_ptr<AcceptorSlot>> slots_;  ///< By listener of the current generation.
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace fulcrum::proxy
