#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>

#include "config/config.h"
#include "core/try_list.h"
#include "http/chunked.h"
#include "http/message.h"
#include "proxy/session_io.h"
#include "proxy/worker.h"

namespace fulcrum::proxy {

/// One HTTP/1.1 client connection: reads requests in order (pipelining included), routes each
/// to a cluster, forwards it through the try-list with seed 003's retry rule, streams both
/// bodies, and writes responses back in order. Lives in its coroutine's frame.
class HttpSession {
 public:
  HttpSession(Worker& worker, ListenerRuntime& listener, asio::ip::tcp::socket client);
  ~HttpSession();

  asio::awaitable<void> run();

 private:
  enum class HeadRead { kComplete, kClosed, kError };
  /// What one attempt at a server ended with.
  enum class Exchange {
    kDone,             ///< Response relayed.
    kNoResponse,       ///< Server closed or reset before any response byte; nothing relayed.
    kTimeout,          ///< No response head within the response timeout.
    kBadResponse,      ///< Malformed response head.
    kClientGone,       ///< Client vanished; stop.
    kBrokenMidStream,  ///< Failed after bytes reached the client; only closing remains.
    kBadRequestBody,   ///< The client's chunked body is malformed; nothing relayed yet.
  };
  struct Request {
    const http::RequestHead& head;
    std::string_view path;
    const ClusterRuntime* cluster = nullptr;
    core::Nanos start{0};
    std::size_t body_in_buffer = 0;  ///< Request body bytes already in in_, after the head.
    bool body_complete = true;       ///< The whole body is in in_ (so it can be replayed).
    bool retryable = false;
    bool body_held = false;  ///< Expect: 100-continue: body not sent until the server asks.
    bool close_after = false;
    bool upstream_reusable = false;
    bool sent_to_server = false;  ///< Bytes of this request reached the current server.
    http::ChunkedDecoder request_chunks;
    // For the access log.
    int status = 0;
    uint64_t response_bytes = 0;
    std::string_view upstream;
    core::Nanos upstream_time{0};
    uint32_t retries = 0;
    // Current attempt.
    core::TryList* tries = nullptr;
    core::Pick pick;
    core::Nanos attempt_start{0};
  };

  asio::awaitable<HeadRead> read_head(http::RequestHead& head, http::ParseError& error);
  asio::awaitable<bool> serve(const http::RequestHead& head);
  asio::awaitable<Exchange> exchange(Request& request, asio::ip::tcp::socket& upstream);
  asio::awaitable<Exchange> send_request_body(Request& request, asio::ip::tcp::socket& upstream);
  asio::awaitable<Exchange> read_response_head(Request& request, asio::ip::tcp::socket& upstream,
                                               http::ResponseHead& response);
  asio::awaitable<Exchange> relay_response(Request& request, asio::ip::tcp::socket& upstream,
                                           const http::ResponseHead& response);
  asio::awaitable<bool> write_client(std::span<const asio::const_buffer> buffers,
                                     bool more = false);
  asio::awaitable<void> reply_error(int status, std::string_view message, Request* request);
  std::optional<uint64_t> hash_key(const http::RequestHead& head, std::size_t cluster_index) const;
  void log(const Request& request);

  Worker& worker_;
  ListenerRuntime& listener_;
  asio::ip::tcp::socket client_;
  Worker::SessionList::iterator registration_;
  Deadline client_deadline_;
  Deadline upstream_deadline_;
  BufferPool::Lease in_;  ///< Client bytes: the head being served, then pipelined followers.
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  BufferPool::Lease scratch_;  ///< Upstream reads and streamed request body, per request.
  BufferPool::Lease out_;      ///< Rewritten heads, per request.
  std::size_t scratch_begin_ = 0;
  std::size_t scratch_end_ = 0;
  bool keep_alive_ = true;
  char client_ip_[64] = {};
  std::size_t client_ip_len_ = 0;
};

}  // namespace fulcrum::proxy
