// http checks: one request per fresh connection, "Connection: close"; the status must be in
// one of the expected ranges and, when asked, the body must contain the expected text.

#include <fmt/format.h>

#include <asio/buffer.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <functional>
#include <optional>

#include "health/probe_socket.h"
#include "health/probes.h"
#include "http/chunked.h"
#include "http/message.h"
#include "tls/client_context.h"
#include "tls/stream.h"

namespace fulcrum::health {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kMaxHeadBytes = 16 * 1024;

bool status_expected(int status, const std::vector<config::StatusRange>& ranges) {
  for (const auto& range : ranges) {
    if (status >= range.low && status <= range.high) return true;
  }
  return false;
}

// Collects the start of a response body (decoded), up to HttpCheck::kMaxBodyBytes.
class BodyReader {
 public:
  explicit BodyReader(const http::ResponseHead& head)
      : chunked_(head.framing == http::Framing::kChunked),
        limit_(head.framing == http::Framing::kContentLength
                   ? std::min<uint64_t>(head.content_length, HttpCheck::kMaxBodyBytes)
                   : HttpCheck::kMaxBodyBytes),
        done_(head.framing == http::Framing::kNone || limit_ == 0) {}

  void feed(std::string_view bytes) {
    if (chunked_) {
      const std::function<void(std::string_view)> append = [this](std::string_view data) {
        take(data);
      };
      const auto step = decoder_.feed(bytes, &append);
      error_ = step.error;
      done_ = done_ || step.done || step.error;
    } else {
      take(bytes);
    }
  }

  bool done() const { return done_; }
  bool error() const { return error_; }
  const std::string& body() const { return body_; }

 private:
  void take(std::string_view data) {
    body_.append(data.substr(0, limit_ - body_.size()));
    if (body_.size() >= limit_) done_ = true;
  }

  bool chunked_;
  std::size_t limit_;
  bool done_;
  bool error_ = false;
  http::ChunkedDecoder decoder_;
  std::string body_;
};

// A server closing without close_notify ends the stream all the same: the check only reads.
bool ended(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

// The check's connection, plain or TLS as the cluster's requests go; nullopt and the reason
// when TLS cannot start.
std::optional<tls::Stream> make_stream(const asio::any_io_executor& executor,
                                       const HttpCheck& check, std::string& failure) {
  asio::ip::tcp::socket socket(executor);
  if (!check.tls) return tls::Stream(std::move(socket));
  try {
    return tls::Stream::connect(std::move(socket), *check.tls, check.tls_host);
  } catch (const tls::TlsError& e) {
    failure = e.what();
    return std::nullopt;
  }
}

}  // namespace

HttpCheck HttpCheck::make(const config::HealthCheckConfig& config, std::string_view host_header) {
  HttpCheck check;
  const std::string_view host = config.host.empty() ? host_header : std::string_view(config.host);
  check.request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fulcrum-health-check\r\nAccept: */*\r\n"
      "Connection: close\r\n\r\n",
      config.method, config.path, host);
  check.method = config.method;
  check.expect_status = config.expect_status;
  check.expect_body = config.expect_body;
  return check;
}

asio::awaitable<CheckResult> http_check(asio::ip::tcp::endpoint endpoint, const HttpCheck& check,
                                        core::Nanos timeout) {
  const auto executor = co_await asio::this_coro::executor;
  std::string failure;
  std::optional<tls::Stream> stream = make_stream(executor, check, failure);
  if (!stream) co_return CheckResult{false, std::move(failure)};
  asio::ip::tcp::socket& socket = stream->socket();
  const detail::CloseWithReset close_on_exit(socket);
  proxy::Deadline deadline(executor);
  deadline.arm(socket, timeout);
  failure = co_await detail::connect_probe(socket, endpoint, deadline, timeout);
  if (!failure.empty()) co_return CheckResult{false, std::move(failure)};
  if (stream->is_tls()) {
    auto [ec] = co_await stream->async_handshake(proxy::kNoThrow);
    if (ec) {
      co_return CheckResult{
          false, deadline.expired()
                     ? detail::failure_reason(ec, deadline, timeout)
                     : "TLS handshake failed: " + tls::describe_handshake_error(stream->ssl(), ec)};
    }
  }
  auto [write_error, written] =
      co_await asio::async_write(*stream, asio::buffer(check.request), proxy::kNoThrow);
  if (write_error)
    co_return CheckResult{false, detail::failure_reason(write_error, deadline, timeout)};

  std::string buffer;
  http::ResponseHead head;
  http::ParseError parse_error;
  std::size_t scanned = 0;
  const http::Limits limits{.max_head_bytes = kMaxHeadBytes, .max_uri_bytes = kMaxHeadBytes};
  for (;;) {
    const std::size_t old_size = buffer.size();
    buffer.resize(old_size + kReadChunk);
    auto [ec, n] = co_await stream->async_read_some(
        asio::buffer(buffer.data() + old_size, kReadChunk), proxy::kNoThrow);
    buffer.resize(old_size + n);
    if (ended(ec)) {
      co_return CheckResult{false, buffer.empty() ? "connection closed without a response"
                                                  : "connection closed in the response head"};
    }
    if (ec) co_return CheckResult{false, detail::failure_reason(ec, deadline, timeout)};
    const auto parsed =
        http::parse_response_head(buffer, check.method, limits, head, parse_error, scanned);
    if (parsed == http::ParseResult::kError) {
      co_return CheckResult{false, fmt::format("invalid response: {}", parse_error.reason)};
    }
    if (parsed == http::ParseResult::kComplete) break;
  }
  if (!status_expected(head.status, check.expect_status)) {
    co_return CheckResult{false, fmt::format("status {}", head.status)};
  }
  if (check.expect_body.empty()) co_return CheckResult{true, {}};

  BodyReader body(head);
  body.feed(std::string_view(buffer).substr(head.head_size));
  std::string chunk(kReadChunk, '\0');
  while (!body.done()) {
    auto [ec, n] = co_await stream->async_read_some(asio::buffer(chunk), proxy::kNoThrow);
    if (ended(ec)) break;
    if (ec) co_return CheckResult{false, detail::failure_reason(ec, deadline, timeout)};
    body.feed(std::string_view(chunk.data(), n));
  }
  if (body.error()) co_return CheckResult{false, "invalid chunked body"};
  if (body.body().find(check.expect_body) == std::string::npos) {
    co_return CheckResult{
        false, fmt::format("status {} but the body lacks \"{}\"", head.status, check.expect_body)};
  }
  co_return CheckResult{true, {}};
}

}  // namespace fulcrum::health
