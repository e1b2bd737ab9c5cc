// The upstream half of an HTTP session: send one request to one server, relay its response.
#include <array>
#include <asio/write.hpp>
#include <cstring>

#include "http/forward.h"
#include "proxy/http_session.h"
#include "proxy/tunnel.h"

namespace fulcrum::proxy {

namespace {
std::array<asio::const_buffer, 2> two(const char* a, std::size_t an, const char* b,
                                      std::size_t bn) {
  return {asio::buffer(a, an), asio::buffer(b, bn)};
}
}  // namespace

asio::awaitable<HttpSession::Exchange> HttpSession::exchange(Request& request,
                                                             asio::ip::tcp::socket& upstream) {
  if (!scratch_.data()) scratch_ = worker_.buffers().acquire();
  if (!out_.data()) out_ = worker_.head_buffers().acquire();
  scratch_begin_ = scratch_end_ = 0;
  request.upstream_reusable = false;

  const http::ForwardInfo info{.client_ip = std::string_view(client_ip_, client_ip_len_),
                               .proto = "http",
                               .listener_host = request.head.host};
  const std::size_t head_bytes =
      http::write_forwarded_request_head(request.head, info, out_.span());
  if (head_bytes == 0) co_return Exchange::kBadResponse;  // Cannot happen within limits.
  const char* body = in_.data() + in_begin_ + request.head.head_size;
  const std::size_t body_now = request.body_held ? 0 : request.body_in_buffer;

  const auto& timeouts = request.cluster->config.timeouts;
  upstream_deadline_.arm(upstream, timeouts.response);
  const bool body_follows = !request.body_held && !request.body_complete;
  const std::error_code write_error =
      co_await send_all(upstream, two(out_.data(), head_bytes, body, body_now), body_follows);
  request.sent_to_server = true;  // Some bytes may have gone even if the write failed.
  if (write_error) {
    upstream_deadline_.cancel();
    co_return upstream_deadline_.expired() ? Exchange::kTimeout : Exchange::kNoResponse;
  }
  if (!request.body_held && !request.body_complete) {
    const Exchange sent = co_await send_request_body(request, upstream);
    if (sent != Exchange::kDone) co_return sent;
    upstream_deadline_.arm(upstream, timeouts.response);
  }

  http::ResponseHead response;
  for (;;) {
    const Exchange got = co_await read_response_head(request, upstream, response);
    if (got != Exchange::kDone) co_return got;
    if (response.status >= 200 || response.status == 101) break;
    // Interim response (100 Continue, 103 Early Hints): relay it as is and read on.
    const std::array<asio::const_buffer, 1> interim{
        asio::buffer(scratch_.data() + scratch_begin_, response.head_size)};
    if (!co_await write_client(interim)) co_return Exchange::kClientGone;
    scratch_begin_ += response.head_size;
    if (request.body_held && response.status == 100) {
      request.body_held = false;
      const std::array<asio::const_buffer, 1> part{asio::buffer(body, request.body_in_buffer)};
      auto [ec, n] = co_await asio::async_write(upstream, part, kNoThrow);
      if (ec) co_return Exchange::kBrokenMidStream;
      if (!request.body_complete) {
        const Exchange sent = co_await send_request_body(request, upstream);
        if (sent != Exchange::kDone) co_return sent;
      }
    }
    upstream_deadline_.arm(upstream, timeouts.response);
  }
  upstream_deadline_.cancel();
  // A final answer to Expect: 100-continue without a 100: the body was never read from the
  // client, so the connection cannot carry another request.
  if (request.body_held) request.close_after = true;
  request.upstream_time = worker_.clock().now() - request.attempt_start;
  request.tries->report_success(request.pick, request.upstream_time);
  co_return co_await relay_response(request, upstream, response);
}

asio::awaitable<HttpSession::Exchange> HttpSession::send_request_body(
    Request& request, asio::ip::tcp::socket& upstream) {
  const http::RequestHead& head = request.head;
  uint64_t remaining = head.framing == http::Framing::kContentLength
                           ? head.content_length - request.body_in_buffer
                           : UINT64_MAX;
  const auto idle = listener_.config.timeouts.client_idle;
  while (remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<uint64_t>(remaining, scratch_.size()));
    client_deadline_.arm(client_, idle);
    auto [read_error, n] =
        co_await client_.async_read_some(asio::buffer(scratch_.data(), want), kNoThrow);
    client_deadline_.cancel();
    if (read_error) co_return Exchange::kClientGone;
    std::size_t forward = n;
    if (head.framing == http::Framing::kChunked) {
      const auto step = request.request_chunks.feed(std::string_view(scratch_.data(), n));
      if (step.error) co_return Exchange::kBadRequestBody;
      forward = step.consumed;
      if (step.done) {
        remaining = 0;
        // Pipelined bytes after the body belong to the next request: keep them in in_.
        const std::size_t extra = n - forward;
        if (extra > 0) {
          if (in_end_ + extra <= in_.size()) {
            std::memcpy(in_.data() + in_end_, scratch_.data() + forward, extra);
            in_end_ += extra;
          } else {
            request.close_after = true;
          }
        }
      }
    } else {
      remaining -= n;
    }
    const std::array<asio::const_buffer, 1> part{asio::buffer(scratch_.data(), forward)};
    upstream_deadline_.arm(upstream, request.cluster->config.timeouts.idle);
    const std::error_code write_error = co_await send_all(upstream, part, remaining > 0);
    upstream_deadline_.cancel();
    if (write_error) co_return Exchange::kNoResponse;
  }
  co_return Exchange::kDone;
}

asio::awaitable<HttpSession::Exchange> HttpSession::read_response_head(
    Request& request, asio::ip::tcp::socket& upstream, http::ResponseHead& response) {
  std::size_t hint = 0;
  const http::Limits limits{};
  bool any_byte = scratch_end_ > scratch_begin_;
  for (;;) {
    const std::string_view pending(scratch_.data() + scratch_begin_, scratch_end_ - scratch_begin_);
    if (!pending.empty()) {
      http::ParseError error;
      switch (
          http::parse_response_head(pending, request.head.method, limits, response, error, hint)) {
        case http::ParseResult::kComplete:
          co_return Exchange::kDone;
        case http::ParseResult::kError:
          co_return Exchange::kBadResponse;
        case http::ParseResult::kIncomplete:
          break;
      }
    }
    if (scratch_end_ == scratch_.size()) {
      if (scratch_begin_ == 0) co_return Exchange::kBadResponse;  // Head too large.
      std::memmove(scratch_.data(), scratch_.data() + scratch_begin_, pending.size());
      scratch_begin_ = 0;
      scratch_end_ = pending.size();
      hint = 0;
    }
    auto [ec, n] = co_await upstream.async_read_some(
        asio::buffer(scratch_.data() + scratch_end_, scratch_.size() - scratch_end_), kNoThrow);
    if (ec) {
      if (upstream_deadline_.expired()) co_return Exchange::kTimeout;
      co_return any_byte ? Exchange::kBadResponse : Exchange::kNoResponse;
    }
    any_byte = true;
    scratch_end_ += n;
  }
}

asio::awaitable<HttpSession::Exchange> HttpSession::relay_response(
    Request& request, asio::ip::tcp::socket& upstream, const http::ResponseHead& response) {
  request.status = response.status;
  const bool close = !request.head.keep_alive || request.close_after || worker_.draining() ||
                     response.framing == http::Framing::kUntilClose ||
                     (response.status == 101 && request.head.upgrade);
  if (close) request.close_after = true;
  const std::size_t head_bytes = http::write_forwarded_response_head(response, close, out_.span());
  if (head_bytes == 0) co_return Exchange::kBadResponse;

  const std::size_t body_start = scratch_begin_ + response.head_size;
  const std::string_view buffered(scratch_.data() + body_start, scratch_end_ - body_start);
  std::size_t body_now = 0;
  bool complete = false;
  http::ChunkedDecoder chunks;
  switch (response.framing) {
    case http::Framing::kNone:
      complete = true;
      break;
    case http::Framing::kContentLength:
      body_now = std::min<uint64_t>(response.content_length, buffered.size());
      complete = response.content_length <= buffered.size();
      break;
    case http::Framing::kChunked: {
      const auto step = chunks.feed(buffered);
      if (step.error) co_return Exchange::kBadResponse;
      body_now = step.consumed;
      complete = step.done;
      break;
    }
    case http::Framing::kUntilClose:
      body_now = buffered.size();
      break;
  }
  // Bytes past the end of the response mean the server is out of step: never reuse it.
  bool server_in_step = !(complete && body_now < buffered.size());
  if (response.status == 101 && request.head.upgrade) {
    body_now = buffered.size();  // Anything after the 101 head is already tunnel data.
  }

  const bool upgrade = response.status == 101 && request.head.upgrade;
  if (!co_await write_client(two(out_.data(), head_bytes, buffered.data(), body_now),
                             !complete && !upgrade)) {
    co_return Exchange::kClientGone;
  }
  request.response_bytes = head_bytes + body_now;

  if (response.status == 101 && request.head.upgrade) {
    // Bytes the client sent after its upgrade request are tunnel data too.
    const std::size_t after_head = in_begin_ + request.head.head_size;
    if (in_end_ > after_head) {
      const std::array<asio::const_buffer, 1> early{
          asio::buffer(in_.data() + after_head, in_end_ - after_head)};
      auto [ec, n] = co_await asio::async_write(upstream, early, kNoThrow);
      if (ec) co_return Exchange::kBrokenMidStream;
      request.body_in_buffer = in_end_ - after_head;
    }
    const auto stats = co_await tunnel(client_, upstream, in_.span(), scratch_.span(),
                                       request.cluster->config.timeouts.idle);
    request.response_bytes += stats.server_to_client;
    co_return Exchange::kDone;
  }

  uint64_t remaining = response.framing == http::Framing::kContentLength
                           ? response.content_length - body_now
                           : UINT64_MAX;
  const auto idle = request.cluster->config.timeouts.idle;
  while (!complete && remaining > 0) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<uint64_t>(remaining, scratch_.size()));
    upstream_deadline_.arm(upstream, idle);
    auto [read_error, n] =
        co_await upstream.async_read_some(asio::buffer(scratch_.data(), want), kNoThrow);
    upstream_deadline_.cancel();
    if (read_error) {
      if (response.framing == http::Framing::kUntilClose && read_error == asio::error::eof) break;
      co_return Exchange::kBrokenMidStream;  // Truncated: the client must see the close.
    }
    std::size_t forward = n;
    if (response.framing == http::Framing::kChunked) {
      const auto step = chunks.feed(std::string_view(scratch_.data(), n));
      if (step.error) co_return Exchange::kBrokenMidStream;
      forward = step.consumed;
      if (step.done) {
        complete = true;
        server_in_step = forward == n;
      }
    } else if (response.framing == http::Framing::kContentLength) {
      remaining -= n;
    }
    const std::array<asio::const_buffer, 1> part{asio::buffer(scratch_.data(), forward)};
    // Until-close bodies stay corked too: closing the connection flushes them.
    if (!co_await write_client(part, !complete && remaining > 0)) co_return Exchange::kClientGone;
    request.response_bytes += forward;
  }
  request.upstream_reusable =
      response.keep_alive && server_in_step && response.framing != http::Framing::kUntilClose;
  co_return Exchange::kDone;
}

}  // namespace fulcrum::proxy
