#include "proxy/http_session.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "core/hash.h"
#include "http/forward.h"
#include "net/connect.h"
#include "net/endpoint.h"
#include "proxy/sessions.h"
#include "proxy/tls_session.h"

namespace fulcrum::proxy {

namespace {

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE";
}

/// The path of a request target in origin or absolute form ("http://h/p?q" -> "/p?q").
std::string_view target_path(std::string_view target) {
  if (target.empty() || target.front() == '/') return target;
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return target;  // "*" or authority form
  const std::size_t slash = target.find('/', scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
}

std::string_view cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    const std::size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace

HttpSession::HttpSession(Worker& worker, std::shared_ptr<generation::Generation> generation,
                         generation::ListenerRuntime& listener, tls::Stream client,
                         const asio::ip::tcp::endpoint& peer)
    : worker_(worker),
      generation_(std::move(generation)),
      listener_(listener),
      client_(std::move(client)),
      registration_{&client_.socket(), true, generation_.get()},
      client_deadline_(client_.get_executor()),
      upstream_deadline_(client_.get_executor()),
      in_(worker.head_buffers().acquire()) {
  worker_.register_session(registration_);
  listener_.connections.fetch_add(1, std::memory_order_relaxed);
  client_ip_len_ = net::format_ip(peer.address(), client_ip_);
}

HttpSession::~HttpSession() {
  worker_.unregister_session(registration_);
  listener_.connections.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> run_http_session(Worker& worker,
                                       std::shared_ptr<generation::Generation> generation,
                                       generation::ListenerRuntime& listener,
                                       asio::ip::tcp::socket client, asio::ip::tcp::endpoint peer) {
  std::optional<tls::Stream> stream = open_client_stream(std::move(client), listener);
  if (!stream) co_return;
  HttpSession session(worker, std::move(generation), listener, std::move(*stream), peer);
  co_await session.run();
}

asio::awaitable<void> HttpSession::run() {
  if (client_.is_tls() &&
      !co_await handshake_client(client_, client_deadline_, listener_.config.timeouts.client_header,
                                 listener_.config.name)) {
    std::error_code ignored;
    client_.socket().close(ignored);  // No session to end with close_notify.
    co_return;
  }
  while (keep_alive_) {
    // The request head: parse what is buffered (pipelined requests often are), read on until
    // it is complete.
    http::ParseError error;
    head_hint_ = 0;
    header_clock_running_ = false;
    HeadRead read;
    while ((read = parse_head(error)) == HeadRead::kIncomplete) {
      auto [ec, n] = co_await client_.async_read_some(
          asio::buffer(in_.data() + in_end_, in_.size() - in_end_), in_session_memory());
      if (ec) {
        read = head_read_failed(error);
        break;
      }
      in_end_ += n;
    }
    if (read == HeadRead::kClosed) break;
    if (read == HeadRead::kError) {
      co_await reply_error(error.status, error.reason, false);
      break;
    }

    registration_.idle = false;
    const Start start = start_request();
    if (start.status != 0) {
      co_await reply_error(start.status, start.reason, true);
      break;
    }
    const auto& timeouts = request_.cluster->config.timeouts;
    const auto client_idle = listener_.config.timeouts.client_idle;
    RequestLifeCycle& life = life_.emplace(generation_->clusters()[start.cluster_index], worker_,
                                           hash_key(start.cluster_index), request_.retryable);
    Exchange result = Exchange::kNoResponse;
    while (life.next_attempt()) {
      std::optional<tls::Stream> upstream = life.take_pooled();
      if (!upstream) {
        net::Connected connected = co_await net::connect(worker_.io().get_executor(),
                                                         life.connect_target(), upstream_deadline_);
        if (!connected) {
          result = Exchange::kNoResponse;
          life.connect_failed(connected.failure);
          continue;
        }
        upstream = std::move(connected.stream);
      }
      tls::Stream& server = *upstream;

      // The request: head and buffered body in one send, then the rest of the body.
      std::array<asio::const_buffer, 2> out;
      bool more = false;
      result = prepare_request(out, more);
      if (result == Exchange::kContinue) {
        upstream_deadline_.arm(server.socket(), timeouts.response);
        auto [ec] = co_await net::async_send_all(server, out, more, in_session_memory());
        result = request_sent(ec);
      }
      if (result == Exchange::kContinue && more) {
        auto [relayed] =
            co_await async_relay_body(client_end(client_idle), upstream_end(server, timeouts.idle),
                                      request_.body, scratch_.span(), in_session_memory());
        result = request_body_sent(relayed, server);
      }
      // The response head; interim responses (100 Continue, 103) are relayed on the way.
      while (result == Exchange::kContinue) {
        const ResponseParse parsed = parse_response_head();
        if (parsed == ResponseParse::kFinal) break;
        if (parsed == ResponseParse::kMalformed) {
          result = Exchange::kBadResponse;
        } else if (parsed == ResponseParse::kInterim) {
          result = co_await relay_interim(server);
        } else {
          auto [ec, n] = co_await server.async_read_some(
              asio::buffer(scratch_.data() + scratch_end_, scratch_.size() - scratch_end_),
              in_session_memory());
          result = response_read(ec, n);
        }
      }
      // The response: head and buffered body in one send, then the rest of the body.
      if (result == Exchange::kContinue) result = prepare_response(out, more);
      if (result == Exchange::kContinue) {
        client_deadline_.arm(client_.socket(), client_idle);
        auto [ec] = co_await net::async_send_all(client_, out, more, in_session_memory());
        result = response_head_sent(ec);
      }
      if (result == Exchange::kContinue && exchange_.upgrade) {
        result = co_await tunnel_upgrade(server);
      } else if (result == Exchange::kContinue) {
        auto [relayed] =
            co_await async_relay_body(upstream_end(server, timeouts.idle), client_end(client_idle),
                                      response_body_, scratch_.span(), in_session_memory());
        result = response_body_sent(relayed);
      }
      life.release(server, result == Exchange::kDone && exchange_.reusable);
      const Next next = life.ended(attempt_end(result));
      if (next == Next::kUnanswered) result = Exchange::kUnanswered;
      if (next != Next::kRetry) break;
    }
    if (result == Exchange::kDone) {
      log();
      keep_alive_ = finish_request();
    } else {
      co_await answer_failure(result);
      keep_alive_ = false;
      // A TLS client tells a truncated response by the missing close_notify.
      close_notify_ = result != Exchange::kBrokenMidStream && result != Exchange::kClientGone;
    }
    // Between requests a connection holds only its input buffer.
    scratch_ = {};
    out_ = {};
    registration_.idle = true;
    life_.reset();
    // A reload does not end the connection here: its last response promised keep-alive, so the
    // next request is served (with the old configuration) and answered with Connection: close.
    if (worker_.draining()) keep_alive_ = false;
  }
  // Close cleanly: send FIN first (after close_notify on TLS, so the client may resume its
  // session) so a client still writing sees an orderly end.
  if (client_.is_tls() && close_notify_) co_await send_close_notify(client_, client_deadline_);
  std::error_code ignored;
  client_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  client_.socket().close(ignored);
}

HttpSession::HeadRead HttpSession::parse_head(http::ParseError& error) {
  const auto& limits_config = listener_.config.limits;
  const http::Limits limits{std::min<std::size_t>(limits_config.max_head_bytes, in_.size() / 2),
                            limits_config.max_uri_bytes};
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  const std::string_view pending(in_.data() + in_begin_, in_end_ - in_begin_);
  if (!pending.empty()) {
    switch (http::parse_request_head(pending, limits, head_, error, head_hint_)) {
      case http::ParseResult::kComplete:
        client_deadline_.cancel();
        return HeadRead::kComplete;
      case http::ParseResult::kError:
        client_deadline_.cancel();
        return HeadRead::kError;
      case http::ParseResult::kIncomplete:
        break;
    }
    if (pending.size() >= limits.max_head_bytes) {
      error = {431, "request head larger than max_head_bytes"};
      return HeadRead::kError;
    }
  }
  if (in_end_ == in_.size()) {  // Make room: move the partial head to the front.
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  // Idle timeout until the first byte; from then on the whole head must arrive within
  // client_header (slowloris defence: trickling bytes does not extend it).
  if (pending.empty()) {
    client_deadline_.arm(client_.socket(), listener_.config.timeouts.client_idle);
  } else if (!header_clock_running_) {
    client_deadline_.arm(client_.socket(), listener_.config.timeouts.client_header);
    header_clock_running_ = true;
  }
  return HeadRead::kIncomplete;
}

HttpSession::HeadRead HttpSession::head_read_failed(http::ParseError& error) {
  client_deadline_.cancel();
  if (in_end_ > in_begin_ && client_deadline_.expired()) {
    error = {408, "request head not received within client_header timeout"};
    return HeadRead::kError;
  }
  return HeadRead::kClosed;
}

HttpSession::Start HttpSession::start_request() {
  request_ = Request{};
  request_.path = target_path(head_.target);
  request_.start = worker_.clock().now();
  const std::size_t after_head = in_begin_ + head_.head_size;
  request_.body.start(head_.framing, head_.content_length);
  const auto step =
      request_.body.feed(std::string_view(in_.data() + after_head, in_end_ - after_head));
  if (step.error) return {SIZE_MAX, 400, step.error_reason};
  request_.body_in_buffer = step.body;
  request_.body_complete = request_.body.done();
  request_.retryable = is_idempotent(head_.method) && request_.body_complete;
  request_.body_held =
      head_.expect_continue && !request_.body_complete && request_.body_in_buffer == 0;

  const std::size_t cluster_index =
      generation::Generation::route(listener_, head_.host, request_.path);
  if (cluster_index == SIZE_MAX) return {SIZE_MAX, 404, "no route matches this host and path"};
  request_.cluster = &generation_->clusters()[cluster_index];
  return {cluster_index, 0, {}};
}

std::optional<uint64_t> HttpSession::hash_key(std::size_t cluster_index) const {
  const auto& key = generation_->clusters()[cluster_index].config.hash_key;
  std::string_view value;
  switch (key.kind) {
    case config::HashKey::Kind::kSourceIp:
      value = std::string_view(client_ip_, client_ip_len_);
      break;
    case config::HashKey::Kind::kHeader:
      value = head_.header(key.name);
      break;
    case config::HashKey::Kind::kCookie:
      value = cookie_value(head_.header("cookie"), key.name);
      break;
    case config::HashKey::Kind::kPath:
      value = target_path(head_.target);
      value = value.substr(0, value.find('?'));
      break;
  }
  if (value.empty()) return std::nullopt;
  return core::hash_bytes(value);
}

AttemptEnd HttpSession::attempt_end(Exchange result) {
  switch (result) {
    case Exchange::kTimeout:
      return AttemptEnd::kResponseTimeout;
    case Exchange::kNoResponse:  // Connected and sent: see request_sent().
      return AttemptEnd::kClosedBeforeResponse;
    default:
      return AttemptEnd::kOver;
  }
}

bool HttpSession::finish_request() {
  // Step over this request's bytes (a streamed body appended any pipelined followers right
  // after what was buffered). A body we never read poisons the connection (close_after).
  in_begin_ += head_.head_size + request_.body_in_buffer;
  if (in_begin_ >= in_end_) in_begin_ = in_end_ = 0;
  return head_.keep_alive && !request_.close_after;
}

}  // namespace fulcrum::proxy
