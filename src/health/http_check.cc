// http checks: one request, on a fresh connection ("Connection: close") or on the server's kept
// keep-alive connection; the status must be in one of the expected ranges and, when asked, the
// body must contain the expected text. A kept connection is only left open after a response
// read to its end, so the next request starts on a clean stream.

#include <fmt/format.h>
#include <sys/socket.h>

#include <asio/buffer.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <optional>

#include "health/probe_stream.h"
#include "health/probes.h"
#include "http/body_framing.h"
#include "http/message.h"
#include "net/no_throw.h"
#include "tls/client_context.h"
#include "tls/stream.h"

namespace fulcrum::health {
namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kMaxHeadBytes = 16 * 1024;
/// A kept connection is given up rather than read through a body longer than this.
constexpr uint64_t kMaxDrainBytes = 64 * 1024;

bool status_expected(int status, const std::vector<config::StatusRange>& ranges) {
  for (const auto& range : ranges) {
    if (status >= range.low && status <= range.high) return true;
  }
  return false;
}

// Reads a response body to its end (as framed), keeping the start of the payload, up to
// HttpCheck::kMaxBodyBytes, for expect_body.
class BodyReader {
 public:
  explicit BodyReader(const http::ResponseHead& head) {
    framing_.start(head.framing, head.content_length);
  }

  /// Takes the body's share of `bytes`; returns how many belonged to it (any rest would be bytes
  /// the server sent after its response).
  std::size_t feed(std::string_view bytes) {
    const http::BodyFraming::Step step = framing_.feed(bytes, &keep_);
    error_ = error_ || step.error;
    consumed_ += step.body;
    return step.body;
  }
  void end_of_stream() {
    closed_ = true;
    framing_.end_at_close();
  }

  /// The whole body was read: the stream holds nothing more of this response.
  bool complete() const { return framing_.done(); }
  /// Enough is known for expect_body: the kept text is full or the body has ended.
  bool text_known() const {
    return complete() || closed_ || error_ || text_.size() >= HttpCheck::kMaxBodyBytes;
  }
  bool error() const { return error_; }
  uint64_t consumed() const { return consumed_; }
  const std::string& text() const { return text_; }

 private:
  void keep(std::string_view data) {
    text_.append(data.substr(
        0, HttpCheck::kMaxBodyBytes - std::min(text_.size(), HttpCheck::kMaxBodyBytes)));
  }

  http::BodyFraming framing_;
  uint64_t consumed_ = 0;
  bool closed_ = false;
  bool error_ = false;
  const http::BodyFraming::PayloadSink keep_ = [this](std::string_view d) { keep(d); };
  std::string text_;
};

// A server closing without close_notify ends the stream all the same: the check only reads.
bool ended(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

// Whether a kept connection is still fit to carry a request: nothing arrived while it was idle.
// The server's close (EOF), a reset, or any unsolicited byte (a TLS close_notify) retires it.
bool idle_and_open(tls::Stream& stream) {
  char byte;
  const ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct Exchange {
  CheckResult result;
  bool answered = false;  ///< Some response bytes arrived.
  bool reusable = false;  ///< The response was read to its end and the server keeps alive.
};

// One request and its response on a connected stream. `keep_alive`: the caller would keep the
// connection, so the body is read to its end (within kMaxDrainBytes) to leave the stream clean.
asio::awaitable<Exchange> exchange(tls::Stream& stream, const HttpCheck& check, bool keep_alive,
                                   const net::Deadline& deadline, core::Nanos timeout,
                                   std::string& buffer) {
  Exchange out;
  auto [write_error, written] =
      co_await asio::async_write(stream, asio::buffer(check.request), net::kNoThrow);
  if (write_error) {
    out.result = {false, detail::failure_reason(write_error, deadline, timeout)};
    co_return out;
  }

  buffer.clear();
  http::ResponseHead head;
  http::ParseError parse_error;
  std::size_t scanned = 0;
  const http::Limits limits{.max_head_bytes = kMaxHeadBytes, .max_uri_bytes = kMaxHeadBytes};
  for (;;) {
    const std::size_t old_size = buffer.size();
    buffer.resize(old_size + kReadChunk);
    auto [ec, n] = co_await stream.async_read_some(
        asio::buffer(buffer.data() + old_size, kReadChunk), net::kNoThrow);
    buffer.resize(old_size + n);
    out.answered = out.answered || n > 0;
    if (ended(ec)) {
      out.result = {false, buffer.empty() ? "connection closed without a response"
                                          : "connection closed in the response head"};
      co_return out;
    }
    if (ec) {
      out.result = {false, detail::failure_reason(ec, deadline, timeout)};
      co_return out;
    }
    const auto parsed =
        http::parse_response_head(buffer, check.method, limits, head, parse_error, scanned);
    if (parsed == http::ParseResult::kError) {
      out.result = {false, fmt::format("invalid response: {}", parse_error.reason)};
      co_return out;
    }
    if (parsed == http::ParseResult::kComplete) break;
  }

  const bool status_ok = status_expected(head.status, check.expect_status);
  const bool need_text = status_ok && !check.expect_body.empty();
  bool reuse =
      keep_alive && head.keep_alive && !head.upgrade && head.status >= 200 &&
      head.framing != http::Framing::kUntilClose &&
      !(head.framing == http::Framing::kContentLength && head.content_length > kMaxDrainBytes);
  BodyReader body(head);
  const std::string_view after_head = std::string_view(buffer).substr(head.head_size);
  if (body.feed(after_head) < after_head.size()) reuse = false;  // Bytes beyond the response.
  std::string chunk;
  while (!body.complete() && !body.error() && (reuse || (need_text && !body.text_known()))) {
    if (reuse && body.consumed() > kMaxDrainBytes) {
      reuse = false;  // Not worth reading through; still read on if expect_body needs it.
      continue;
    }
    chunk.resize(kReadChunk);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), net::kNoThrow);
    if (ended(ec)) {
      body.end_of_stream();
      break;
    }
    if (ec) {
      if (need_text && !body.text_known()) {
        out.result = {false, detail::failure_reason(ec, deadline, timeout)};
        co_return out;
      }
      reuse = false;
      break;
    }
    if (body.feed(std::string_view(chunk.data(), n)) < n) reuse = false;
  }
  out.reusable = reuse && body.complete() && !body.error();

  if (!status_ok) {
    out.result = {false, fmt::format("status {}", head.status)};
  } else if (!need_text) {
    out.result = {true, {}};
  } else if (body.error()) {
    out.result = {false, "invalid chunked body"};
  } else if (body.text().find(check.expect_body) == std::string::npos) {
    out.result = {
        false, fmt::format("status {} but the body lacks \"{}\"", head.status, check.expect_body)};
  } else {
    out.result = {true, {}};
  }
  co_return out;
}

}  // namespace

KeptConnection::KeptConnection() = default;
KeptConnection::~KeptConnection() { close(); }

void KeptConnection::close() {
  if (!stream) return;
  std::error_code ignored;
  stream->socket().close(ignored);  // SO_LINGER 0 is still set: a reset, no TIME_WAIT.
  stream.reset();
}

HttpCheck HttpCheck::make(const config::HealthCheckConfig& config, std::string_view host_header) {
  HttpCheck check;
  const std::string_view host = config.host.empty() ? host_header : std::string_view(config.host);
  check.request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fulcrum-health-check\r\nAccept: */*\r\n{}\r\n",
      config.method, config.path, host, config.reuse_connection ? "" : "Connection: close\r\n");
  check.method = config.method;
  check.expect_status = config.expect_status;
  check.expect_body = config.expect_body;
  return check;
}

asio::awaitable<CheckResult> http_check(asio::ip::tcp::endpoint endpoint, const HttpCheck& check,
                                        core::Nanos timeout, KeptConnection* kept) {
  const auto executor = co_await asio::this_coro::executor;
  const auto give_up_at = std::chrono::steady_clock::now() + timeout;
  net::Deadline deadline(executor);

  if (kept != nullptr && kept->stream != nullptr) {
    if (kept->endpoint != endpoint || !idle_and_open(*kept->stream)) kept->close();
  }
  if (kept != nullptr && kept->stream != nullptr) {
    deadline.arm(kept->stream->socket(), timeout);
    const Exchange reused =
        co_await exchange(*kept->stream, check, true, deadline, timeout, kept->buffer);
    if (!reused.reusable) kept->close();
    // A connection that died while idle (closed or reset before any byte of the response):
    // the server did not fail the check; ask again on a fresh connection below.
    if (reused.result.ok || reused.answered || deadline.expired()) {
      deadline.cancel();
      co_return reused.result;
    }
  }

  if (kept != nullptr) ++kept->connections_opened;
  std::string failure;
  std::unique_ptr<tls::Stream> stream = co_await detail::connect_probe(
      {endpoint, check.tls.get(), check.tls_host, timeout, give_up_at}, deadline, failure);
  if (!stream) co_return CheckResult{false, std::move(failure)};
  const detail::ResetUnlessKept reset_on_exit(stream);
  std::string own_buffer;
  const Exchange fresh = co_await exchange(*stream, check, kept != nullptr, deadline, timeout,
                                           kept != nullptr ? kept->buffer : own_buffer);
  deadline.cancel();
  if (kept != nullptr && fresh.reusable) {
    kept->stream = std::move(stream);
    kept->endpoint = endpoint;
  }
  co_return fresh.result;
}

}  // namespace fulcrum::health
