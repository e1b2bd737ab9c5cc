// The upstream half of an HTTP session: the steps run() takes to send one request to one server
// and relay its response. Plain functions between the awaits; only the paths off the steady
// state (interim responses, upgrades) are coroutines.
#include <array>
#include <cstring>

#include "http/forward.h"
#include "proxy/http_session.h"
#include "proxy/tunnel.h"

namespace fulcrum::proxy {

HttpSession::Exchange HttpSession::prepare_request(std::array<asio::const_buffer, 2>& out,
                                                   bool& body_follows) {
  if (!scratch_.data()) scratch_ = worker_.buffers().acquire();
  if (!out_.data()) out_ = worker_.head_buffers().acquire();
  scratch_begin_ = scratch_end_ = 0;
  response_hint_ = 0;
  exchange_ = ServerExchange{};

  const http::ForwardInfo info{.client_ip = std::string_view(client_ip_, client_ip_len_),
                               .proto = listener_.tls ? "https" : "http",
                               .listener_host = head_.host};
  const std::size_t head_bytes = http::write_forwarded_request_head(head_, info, out_.span());
  if (head_bytes == 0) return Exchange::kBadResponse;  // Cannot happen within limits.
  const char* body = in_.data() + in_begin_ + head_.head_size;
  const std::size_t body_now = request_.body_held ? 0 : request_.body_in_buffer;
  out = {asio::buffer(out_.data(), head_bytes), asio::buffer(body, body_now)};
  body_follows = !request_.body_held && !request_.body_complete;
  return Exchange::kContinue;
}

HttpSession::Exchange HttpSession::request_sent(const std::error_code& ec) {
  // Some bytes may have gone even if the write failed: from here on, a server that closes
  // without answering took the request (AttemptEnd::kClosedBeforeResponse).
  if (!ec) return Exchange::kContinue;
  upstream_deadline_.cancel();
  return upstream_deadline_.expired() ? Exchange::kTimeout : Exchange::kNoResponse;
}

HttpSession::Exchange HttpSession::request_body_sent(const RelayResult& relayed,
                                                     tls::Stream& upstream) {
  switch (relayed.outcome) {
    case RelayResult::Outcome::kReadFailed:
      return Exchange::kClientGone;
    case RelayResult::Outcome::kBadFraming:
      return Exchange::kBadRequestBody;
    case RelayResult::Outcome::kWriteFailed:
      return Exchange::kNoResponse;
    case RelayResult::Outcome::kDone:
      break;
  }
  // Pipelined bytes after a chunked body belong to the next request: keep them in in_.
  if (relayed.leftover > 0) {
    if (in_end_ + relayed.leftover <= in_.size()) {
      std::memcpy(in_.data() + in_end_, scratch_.data() + relayed.leftover_offset,
                  relayed.leftover);
      in_end_ += relayed.leftover;
    } else {
      request_.close_after = true;
    }
  }
  upstream_deadline_.arm(upstream.socket(), request_.cluster->config.timeouts.response);
  return Exchange::kContinue;
}

HttpSession::ResponseParse HttpSession::parse_response_head() {
  const std::string_view pending(scratch_.data() + scratch_begin_, scratch_end_ - scratch_begin_);
  if (!pending.empty()) {
    http::ParseError error;
    switch (http::parse_response_head(pending, head_.method, http::Limits{}, response_, error,
                                      response_hint_)) {
      case http::ParseResult::kComplete:
        return response_.status >= 200 || response_.status == 101 ? ResponseParse::kFinal
                                                                  : ResponseParse::kInterim;
      case http::ParseResult::kError:
        return ResponseParse::kMalformed;
      case http::ParseResult::kIncomplete:
        break;
    }
  }
  if (scratch_end_ == scratch_.size()) {
    if (scratch_begin_ == 0) return ResponseParse::kMalformed;  // Head too large.
    std::memmove(scratch_.data(), scratch_.data() + scratch_begin_, pending.size());
    scratch_begin_ = 0;
    scratch_end_ = pending.size();
    response_hint_ = 0;
  }
  return ResponseParse::kIncomplete;
}

HttpSession::Exchange HttpSession::response_read(const std::error_code& ec, std::size_t n) {
  if (ec) {
    upstream_deadline_.cancel();
    if (upstream_deadline_.expired()) return Exchange::kTimeout;
    return exchange_.any_response_byte ? Exchange::kBadResponse : Exchange::kNoResponse;
  }
  scratch_end_ += n;
  exchange_.any_response_byte = true;
  return Exchange::kContinue;
}

asio::awaitable<HttpSession::Exchange> HttpSession::relay_interim(tls::Stream& upstream) {
  // Relayed as is; the final response follows.
  const std::array<asio::const_buffer, 1> interim{
      asio::buffer(scratch_.data() + scratch_begin_, response_.head_size)};
  client_deadline_.arm(client_.socket(), listener_.config.timeouts.client_idle);
  auto [ec] = co_await net::async_send_all(client_, interim, false, net::kNoThrow);
  client_deadline_.cancel();
  if (ec) co_return Exchange::kClientGone;
  scratch_begin_ += response_.head_size;
  response_hint_ = 0;
  exchange_.any_response_byte = scratch_end_ > scratch_begin_;
  // 100 Continue to a held body: send it now (unless the server is already answering).
  if (request_.body_held && response_.status == 100 && scratch_end_ == scratch_begin_) {
    request_.body_held = false;
    scratch_begin_ = scratch_end_ = 0;
    const auto& timeouts = request_.cluster->config.timeouts;
    auto [relayed] = co_await async_relay_body(client_end(listener_.config.timeouts.client_idle),
                                               upstream_end(upstream, timeouts.idle), request_.body,
                                               scratch_.span(), net::kNoThrow);
    co_return request_body_sent(relayed, upstream);
  }
  upstream_deadline_.arm(upstream.socket(), request_.cluster->config.timeouts.response);
  co_return Exchange::kContinue;
}

HttpSession::Exchange HttpSession::prepare_response(std::array<asio::const_buffer, 2>& out,
                                                    bool& more) {
  upstream_deadline_.cancel();
  // A final answer to Expect: 100-continue without a 100: the body was never read from the
  // client, so the connection cannot carry another request.
  if (request_.body_held) request_.close_after = true;
  life_->responded(response_.status);
  request_.status = response_.status;
  exchange_.upgrade = response_.status == 101 && head_.upgrade;
  if (!head_.keep_alive || closing() || response_.framing == http::Framing::kUntilClose ||
      exchange_.upgrade) {
    request_.close_after = true;
  }
  const std::size_t head_bytes =
      http::write_forwarded_response_head(response_, request_.close_after, out_.span());
  if (head_bytes == 0) return Exchange::kBadResponse;

  const std::size_t body_start = scratch_begin_ + response_.head_size;
  const std::string_view buffered(scratch_.data() + body_start, scratch_end_ - body_start);
  std::size_t body_now = buffered.size();  // After a 101, already tunnel data.
  response_body_.start(response_.framing, response_.content_length);
  if (!exchange_.upgrade) {
    const auto step = response_body_.feed(buffered);
    if (step.error) return Exchange::kBadResponse;
    body_now = step.body;
    // Bytes past the end of the response mean the server is out of step: never reuse it.
    exchange_.in_step = !(response_body_.done() && body_now < buffered.size());
  }
  out = {asio::buffer(out_.data(), head_bytes), asio::buffer(buffered.data(), body_now)};
  more = !response_body_.done() && !exchange_.upgrade;
  request_.response_bytes = head_bytes + body_now;
  return Exchange::kContinue;
}

HttpSession::Exchange HttpSession::response_head_sent(const std::error_code& ec) {
  client_deadline_.cancel();
  if (ec) return Exchange::kClientGone;
  if (exchange_.upgrade || !response_body_.done()) return Exchange::kContinue;
  return response_complete();
}

asio::awaitable<HttpSession::Exchange> HttpSession::tunnel_upgrade(tls::Stream& upstream) {
  // Bytes the client sent after its upgrade request are tunnel data too; the request's own body
  // (already sent with it) is not: sending it again would hand the server bytes twice.
  const std::size_t after_head = in_begin_ + head_.head_size;
  const std::size_t after_request = after_head + request_.body_in_buffer;
  if (in_end_ > after_request) {
    const std::array<asio::const_buffer, 1> early{
        asio::buffer(in_.data() + after_request, in_end_ - after_request)};
    auto [ec] = co_await net::async_send_all(upstream, early, false, net::kNoThrow);
    if (ec) co_return Exchange::kBrokenMidStream;
  }
  request_.body_in_buffer = in_end_ - after_head;
  const auto stats = co_await tunnel(client_, upstream, in_.span(), scratch_.span(),
                                     request_.cluster->config.timeouts.idle);
  request_.response_bytes += stats.server_to_client;
  co_return Exchange::kDone;
}

HttpSession::Exchange HttpSession::response_body_sent(const RelayResult& relayed) {
  request_.response_bytes += relayed.forwarded;
  switch (relayed.outcome) {
    case RelayResult::Outcome::kReadFailed:
    case RelayResult::Outcome::kBadFraming:
      return Exchange::kBrokenMidStream;  // Truncated: the client must see the close.
    case RelayResult::Outcome::kWriteFailed:
      return Exchange::kClientGone;
    case RelayResult::Outcome::kDone:
      break;
  }
  if (relayed.leftover > 0) exchange_.in_step = false;
  return response_complete();
}

HttpSession::Exchange HttpSession::response_complete() {
  exchange_.reusable =
      response_.keep_alive && exchange_.in_step && response_.framing != http::Framing::kUntilClose;
  return Exchange::kDone;
}

}  // namespace fulcrum::proxy
