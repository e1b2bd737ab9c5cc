#pragma once

#include <asio/awaitable.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>

#include "config/config.h"
#include "http/message.h"
#include "net/deadline.h"
#include "net/no_throw.h"
#include "net/send_all.h"
#include "proxy/body_relay.h"
#include "proxy/handler_memory.h"
#include "proxy/request_life_cycle.h"
#include "proxy/worker.h"
#include "tls/stream.h"

namespace fulcrum::proxy {

/// One HTTP/1.1 client connection: reads requests in order (pipelining included), routes each
/// to a cluster, forwards it through the attempts its RequestLifeCycle hands out (which decides
/// on passive tracking and the retry rule), streams both bodies, and writes responses back in
/// order.
///
/// No heap allocation per request: the request loop is one coroutine, run(), that awaits socket
/// operations and composed operations (async_send_all, async_relay_body) directly, with the
/// decisions in plain member functions. A coroutine called per request would cost a frame
/// allocation (Asio recycles only a couple of small frames per thread, far fewer than a worker
/// has requests in flight). Only paths off the steady state are coroutines of their own:
/// connecting, interim responses, upgrades, error replies.
class HttpSession {
 public:
  HttpSession(Worker& worker, std::shared_ptr<generation::Generation> generation,
              generation::ListenerRuntime& listener, tls::Stream client,
              const asio::ip::tcp::endpoint& peer);
  ~HttpSession();

  asio::awaitable<void> run();

 private:
  enum class HeadRead { kComplete, kIncomplete, kClosed, kError };
  /// The connection ends after this response: the worker drains, or a reload replaced the
  /// configuration this session serves with.
  bool closing() const { return worker_.draining() || generation_.get() != &worker_.runtime(); }
  /// What one attempt at a server ended with.
  enum class Exchange {
    kContinue,         ///< Not over yet (steps of run() check for it).
    kDone,             ///< Response relayed.
    kNoResponse,       ///< Server closed or reset before any response byte; nothing relayed.
    kTimeout,          ///< No response head within the response timeout.
    kBadResponse,      ///< Malformed response head.
    kClientGone,       ///< Client vanished; stop.
    kBrokenMidStream,  ///< Failed after bytes reached the client; only closing remains.
    kBadRequestBody,   ///< The client's chunked body is malformed; nothing relayed yet.
    kUnanswered,       ///< The server took a request that cannot be replayed and closed.
  };
  /// Where parsing the buffered response bytes got to.
  enum class ResponseParse { kIncomplete, kFinal, kInterim, kMalformed };
  /// The request being served, set up by start_request().
  struct Request {
    std::string_view path;
    const generation::ClusterRuntime* cluster = nullptr;
    core::Nanos start{0};
    std::size_t body_in_buffer = 0;  ///< Request body bytes already in in_, after the head.
    bool body_complete = true;       ///< The whole body is in in_ (so it can be replayed).
    bool retryable = false;  ///< May be replayed: idempotent method, body entirely buffered.
    bool body_held = false;  ///< Expect: 100-continue: body not sent until the server asks.
    bool close_after = false;
    http::BodyFraming body;  ///< The request body past what is buffered.
    // For the access log.
    int status = 0;
    uint64_t response_bytes = 0;
  };
  /// What the exchange with the current server found out; rebuilt by prepare_request().
  struct ServerExchange {
    bool any_response_byte = false;
    bool reusable = false;  ///< The connection may serve another request.
    bool in_step = true;    ///< The server sent nothing past the end of its response.
    bool upgrade = false;   ///< The server switched protocols: tunnel from here on.
  };
  /// Where start_request() sends the request: a cluster, or an error answer.
  struct Start {
    std::size_t cluster_index = SIZE_MAX;
    int status = 0;
    std::string_view reason;
  };

  // Request side (http_session.cc).
  HeadRead parse_head(http::ParseError& error);
  HeadRead head_read_failed(http::ParseError& error);
  Start start_request();
  std::optional<uint64_t> hash_key(std::size_t cluster_index) const;
  /// What the life cycle makes of how an attempt that had a connection ended.
  static AttemptEnd attempt_end(Exchange result);
  bool finish_request();

  // Upstream side (http_exchange.cc): each step after an await says whether to go on.
  Exchange prepare_request(std::array<asio::const_buffer, 2>& out, bool& body_follows);
  Exchange request_sent(const std::error_code& ec);
  Exchange request_body_sent(const RelayResult& relayed, tls::Stream& upstream);
  ResponseParse parse_response_head();
  Exchange response_read(const std::error_code& ec, std::size_t n);
  asio::awaitable<Exchange> relay_interim(tls::Stream& upstream);
  Exchange prepare_response(std::array<asio::const_buffer, 2>& out, bool& more);
  Exchange response_head_sent(const std::error_code& ec);
  asio::awaitable<Exchange> tunnel_upgrade(tls::Stream& upstream);
  Exchange response_body_sent(const RelayResult& relayed);
  Exchange response_complete();

  // Answers of the proxy's own and the access log (http_answers.cc).
  asio::awaitable<void> answer_failure(Exchange result);
  asio::awaitable<void> reply_error(int status, std::string_view message, bool log_request);
  void log();

  /// The completion token of the request loop's socket operations: each is built in the
  /// session's operation memory, so a request allocates nothing however many operations the
  /// worker has pending (Asio's per-thread cache holds only a few).
  auto in_session_memory() {
    return asio::bind_allocator(HandlerAllocator<int, kOperationBytes>(operation_memory_),
                                net::kNoThrow);
  }

  RelayEnd client_end(core::Nanos timeout) { return {&client_, &client_deadline_, timeout}; }
  RelayEnd upstream_end(tls::Stream& upstream, core::Nanos timeout) {
    return {&upstream, &upstream_deadline_, timeout};
  }

  Worker& worker_;
  const std::shared_ptr<generation::Generation>
      generation_;  ///< Owns listener_ and the clusters routed to.
  generation::ListenerRuntime& listener_;
  tls::Stream client_;  ///< Plain TCP or TLS: a branch per operation, no virtual call.
  SessionHandle registration_;
  net::Deadline client_deadline_;
  net::Deadline upstream_deadline_;
  /// The request loop has one socket operation pending at a time: a read, a gathered send, or
  /// one step of a body relay (the largest, over TLS, is under 1 KiB).
  static constexpr std::size_t kOperationBytes = 1024;
  HandlerMemory<kOperationBytes> operation_memory_;
  BufferPool::Lease in_;  ///< Client bytes: the head being served, then pipelined followers.
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::size_t head_hint_ = 0;  ///< parse_request_head's resume point for a partial head.
  bool header_clock_running_ = false;
  BufferPool::Lease scratch_;  ///< Upstream reads and streamed request body, per request.
  BufferPool::Lease out_;      ///< Rewritten heads, per request.
  std::size_t scratch_begin_ = 0;
  std::size_t scratch_end_ = 0;
  std::size_t response_hint_ = 0;
  bool keep_alive_ = true;
  bool close_notify_ = true;  ///< TLS: end with close_notify (not after a truncated response).
  http::RequestHead head_;
  http::ResponseHead response_;
  http::BodyFraming response_body_;
  Request request_;
  ServerExchange exchange_;
  /// Emplaced per routed request, in the session so that nothing is allocated.
  std::optional<RequestLifeCycle> life_;
  char client_ip_[64] = {};
  std::size_t client_ip_len_ = 0;
};

}  // namespace fulcrum::proxy
