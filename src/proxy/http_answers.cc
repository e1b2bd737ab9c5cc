// What an HTTP client gets when no server answered properly, and the access log line. Off the
// steady state, so coroutines and formatting are fine here.
#include <fmt/format.h>

#include <array>

#include "http/forward.h"
#include "proxy/http_session.h"

namespace fulcrum::proxy {

asio::awaitable<void> HttpSession::answer_failure(Exchange result) {
  const RequestLifeCycle& life = *life_;
  const std::string_view cluster = request_.cluster->config.name;
  char message[256];
  std::size_t length = 0;
  switch (result) {
    case Exchange::kClientGone:
    case Exchange::kBrokenMidStream:
      request_.status = request_.status ? request_.status : 499;
      log();
      co_return;
    case Exchange::kTimeout:
      // Outlier ejection counts a response timeout as a gateway error (once per server).
      life_->timed_out();
      length = fmt::format_to_n(message, sizeof message,
                                "server {} of cluster '{}' did not answer in time", life.upstream(),
                                cluster)
                   .size;
      co_await reply_error(504, std::string_view(message, std::min(length, sizeof message)), true);
      co_return;
    case Exchange::kBadResponse:
      co_await reply_error(502, "the server sent a malformed response", true);
      co_return;
    case Exchange::kBadRequestBody:
      // The server got a truncated body and its connection is closed; the client, which has
      // had no response byte yet, learns why.
      co_await reply_error(400, "invalid chunked request body", true);
      co_return;
    case Exchange::kUnanswered:
      co_await reply_error(502, "the server closed the connection without answering", true);
      co_return;
    case Exchange::kContinue:
    case Exchange::kDone:
    case Exchange::kNoResponse:
      break;
  }
  // No server answered at all.
  life_->forget_upstream();
  int status = 503;
  if (life.attempted()) {
    status = 502;
    length = fmt::format_to_n(message, sizeof message,
                              "no server of cluster '{}' answered ({} attempts)", cluster,
                              life.attempts())
                 .size;
  } else if (life.limited()) {
    length = fmt::format_to_n(message, sizeof message,
                              "every server of cluster '{}' is at its connection limit", cluster)
                 .size;
  } else {
    length =
        fmt::format_to_n(message, sizeof message, "no server of cluster '{}' is available", cluster)
            .size;
  }
  co_await reply_error(status, std::string_view(message, std::min(length, sizeof message)), true);
}

asio::awaitable<void> HttpSession::reply_error(int status, std::string_view message,
                                               bool log_request) {
  std::array<char, 1024> buffer;
  char body[300];
  const auto body_end = fmt::format_to_n(body, sizeof body, "{} {}\n", status, message);
  const std::size_t n = http::write_simple_response(
      status, std::string_view(body, std::min(body_end.size, sizeof body)), true, buffer);
  const std::array<asio::const_buffer, 1> buffers{asio::buffer(buffer.data(), n)};
  client_deadline_.arm(client_.socket(), listener_.config.timeouts.client_idle);
  co_await net::async_send_all(client_, buffers, false, net::kNoThrow);
  client_deadline_.cancel();
  keep_alive_ = false;
  if (log_request) {
    request_.status = status;
    request_.response_bytes = n;
    log();
  }
}

void HttpSession::log() {
  generation::AccessLogWriter* access_log = worker_.access_log();
  if (access_log == nullptr) return;
  access_log->write(generation::AccessRecord{
      .listener = listener_.config.name,
      .client = std::string_view(client_ip_, client_ip_len_),
      .method = head_.method,
      .path = request_.path,
      .status = request_.status,
      .bytes = request_.response_bytes,
      .upstream = life_ ? life_->upstream() : std::string_view(),
      .upstream_time = life_ ? life_->upstream_time() : core::Nanos(0),
      .total_time = worker_.clock().now() - request_.start,
      .retries = life_ ? life_->retries() : 0,
  });
}

}  // namespace fulcrum::proxy
