#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/cluster.h"
#include "core/rng.h"
#include "proxy/buffer_pool.h"
#include "proxy/runtime.h"
#include "proxy/upstream_pool.h"

namespace fulcrum::proxy {

/// A client connection as the worker tracks it for graceful shutdown. Lives in the session and
/// links into the worker's list itself, so opening a connection allocates no list node.
struct SessionHandle {
  asio::ip::tcp::socket* client = nullptr;
  bool idle = true;  ///< Between requests, no byte of the next one received.
  SessionHandle* prev = nullptr;
  SessionHandle* next = nullptr;
};

/// One event-loop thread (named "fulcrum-w<index>"). Owns its io_context, its own SO_REUSEPORT
/// listening socket per listener, its RNG, snapshot caches, buffers and upstream pool: nothing on
/// the request path is shared with other workers except the clusters' atomics.
class Worker {
 public:
  /// Streaming buffers: large enough that a 1 MiB body moves in few system calls.
  static constexpr std::size_t kBufferSize = 64 * 1024;
  static constexpr std::size_t kMinHeadBufferSize = 16 * 1024;

  Worker(Runtime& runtime, unsigned index);
  ~Worker();

  /// Binds this worker's listening sockets. For a listener configured on port 0, the first
  /// worker's ephemeral port is written back into `ports` so the others share it.
  void bind(std::vector<uint16_t>& ports);
  void start();
  void join();
  /// Thread-safe: stop accepting, close idle connections, let requests in flight finish.
  void begin_drain();
  /// Thread-safe: stop the event loop now.
  void stop();
  /// Number of open client sessions (approximate across threads; exact on the worker).
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

  // Worker-local accessors for sessions.
  Runtime& runtime() { return runtime_; }
  asio::io_context& io() { return io_; }
  core::Rng& rng() { return rng_; }
  core::SnapshotReader& reader(std::size_t cluster_index) { return readers_[cluster_index]; }
  UpstreamPool& pool() { return pool_; }
  BufferPool& buffers() { return buffers_; }
  /// Buffers for request heads as received and as forwarded: twice the largest max_head_bytes
  /// of any listener (at least kMinHeadBufferSize), so a head at the limit and what follows it fit.
  BufferPool& head_buffers() { return head_buffers_; }
  const core::Clock& clock() const { return clock_; }
  /// This worker's access log writer; nullptr when the access log is off.
  AccessLogWriter* access_log() { return access_log_; }

  /// `handle` must stay put until unregistered.
  void register_session(SessionHandle& handle);
  void unregister_session(SessionHandle& handle);
  bool draining() const { return draining_; }

 private:
  asio::awaitable<void> accept_loop(ListenerRuntime& listener, asio::ip::tcp::acceptor& acceptor);

  Runtime& runtime_;
  unsigned index_;
  // Declared before io_ so they outlive it: destroying the io_context destroys the coroutine
  // frames of sessions a drain timeout cut off, and those unregister and return their buffers.
  BufferPool buffers_{kBufferSize};
  BufferPool head_buffers_;
  SessionHandle sessions_;  ///< Sentinel of the circular list of open sessions.
  std::atomic<std::size_t> session_count_{0};
  asio::io_context io_{1};
  core::SteadyClock clock_;
  core::FastRng rng_;
  std::vector<core::SnapshotReader> readers_;
  UpstreamPool pool_;
  AccessLogWriter* access_log_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace fulcrum::proxy
