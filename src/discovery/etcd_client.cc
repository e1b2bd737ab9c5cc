#include "discovery/etcd_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/ip/address.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <fstream>
#include <tuple>

#include "http/body_framing.h"
#include "http/message.h"
#include "net/connect.h"
#include "net/connect_by_name.h"
#include "net/deadline.h"
#include "net/no_throw.h"

namespace fulcrum::discovery {
namespace {

using asio::ip::tcp;

/// Bounds an answer's body held in memory (a range of a large prefix is still far below this).
constexpr std::size_t kMaxAnswerBytes = 64 * 1024 * 1024;
constexpr std::string_view kAuthenticatePath = "/v3/auth/authenticate";
/// Bounds one watch message (one line of the stream).
constexpr std::size_t kMaxWatchLineBytes = 64 * 1024 * 1024;

/// A watch idles for as long as nothing changes, so a peer that vanished without closing (host
/// down, network cut) is found by TCP keepalive: after 10 s idle, 3 probes 5 s apart.
void enable_keepalive(tcp::socket& socket) {
  std::error_code ec;
  socket.set_option(asio::socket_base::keep_alive(true), ec);
  const int fd = socket.native_handle();
  const int idle = 10, interval = 5, count = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

}  // namespace

/// "host:port" without the scheme: the Host header, and the name TLS checks by default.
std::string host_port(const EtcdEndpoint& endpoint) {
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

std::string EtcdEndpoint::to_string() const { return (tls ? "https://" : "") + host_port(*this); }

std::optional<EtcdEndpoint> parse_etcd_endpoint(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  bool tls = false;
  if (text.starts_with("https://")) {
    text.remove_prefix(8);
    tls = true;
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else if (text.find("://") != std::string_view::npos) {
    error = "etcd endpoint " + quoted + ": the scheme must be http:// or https://";
    return std::nullopt;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    error = "etcd endpoint " + quoted + ": expected HOST:PORT";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    error = "etcd endpoint " + quoted + ": the port must be a number from 1 to 65535";
    return std::nullopt;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      error = "etcd endpoint " + quoted + ": unbalanced brackets";
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    error = "etcd endpoint " + quoted + ": write IPv6 addresses in brackets, as [::1]:2379";
    return std::nullopt;
  }
  return EtcdEndpoint{.host = std::string(host), .port = static_cast<uint16_t>(port), .tls = tls};
}

std::optional<std::vector<EtcdEndpoint>> parse_etcd_endpoints(std::string_view comma_separated,
                                                              std::string& error) {
  std::vector<EtcdEndpoint> endpoints;
  for (;;) {
    const std::size_t comma = comma_separated.find(',');
    auto endpoint = parse_etcd_endpoint(comma_separated.substr(0, comma), error);
    if (!endpoint) return std::nullopt;
    endpoints.push_back(std::move(*endpoint));
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return endpoints;
}

std::optional<std::string> read_etcd_password(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  std::string password;
  if (!in || !std::getline(in, password)) {
    error = "cannot read the etcd password file " + path;
    return std::nullopt;
  }
  if (password.ends_with('\r')) password.pop_back();
  if (password.empty()) {
    error = "the etcd password file " + path + " is empty";
    return std::nullopt;
  }
  return password;
}

/// One HTTP connection with a deadline: when it passes, whatever is pending on the socket ends
/// with an error. The deadline's state outlives the connection, so a deadline firing as the call
/// finishes touches nothing destroyed.
struct EtcdClient::Connection {
  Connection(std::shared_ptr<std::vector<Connection*>> registry,
             const asio::any_io_executor& executor)
      : registry(std::move(registry)), stream(tcp::socket(executor)), deadline(executor) {
    this->registry->push_back(this);
  }
  ~Connection() { std::erase(*registry, this); }

  void arm_until(std::chrono::steady_clock::time_point at) { deadline.arm_until(socket(), at); }
  tcp::socket& socket() { return stream.socket(); }
  void disarm() { deadline.cancel(); }
  bool timed_out() const { return deadline.expired(); }
  std::string failure(std::string_view what, const std::error_code& ec) const {
    if (timed_out()) return std::string(what) + ": timed out";
    if (canceled) return std::string(what) + ": canceled";
    return std::string(what) + ": " + ec.message();
  }

  std::shared_ptr<std::vector<Connection*>> registry;
  tls::Stream stream;  ///< Plain TCP, or TLS after the handshake.
  net::Deadline deadline;
  std::string endpoint;  ///< For messages.
  std::string host;      ///< "host:port", for the Host header.
  bool canceled = false;
};

EtcdClient::EtcdClient(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
                       std::chrono::milliseconds timeout, EtcdAccess access)
    : executor_(std::move(executor)),
      endpoints_(std::move(endpoints)),
      timeout_(timeout),
      access_(std::move(access)) {
  if (endpoints_.empty()) throw std::invalid_argument("EtcdClient: no endpoints");
  const bool any_tls = std::any_of(endpoints_.begin(), endpoints_.end(),
                                   [](const EtcdEndpoint& e) { return e.tls; });
  if (!any_tls) return;
  // The gateway speaks HTTP/1.1 without ALPN: none is offered.
  config::TlsClusterConfig settings{
      .enabled = true, .ca_file = access_.ca_file, .sni = access_.sni, .alpn = {}};
  config::TlsCertificateFiles client_certificate{.cert = access_.cert, .key = access_.key};
  tls_ = std::make_shared<const tls::ClientTlsContext>(
      settings, access_.cert.empty() ? nullptr : &client_certificate);
}

EtcdClient::~EtcdClient() = default;

void EtcdClient::cancel() {
  ++cancellations_;
  for (Connection* connection : *open_) {
    std::error_code ec;
    connection->canceled = true;
    connection->socket().close(ec);
  }
}

asio::awaitable<std::shared_ptr<EtcdClient::Connection>> EtcdClient::connect(EtcdError& error) {
  const EtcdEndpoint& endpoint = endpoints_[current_];
  auto connection = std::make_shared<Connection>(open_, executor_);
  connection->endpoint = endpoint.to_string();
  connection->host = host_port(endpoint);
  const auto give_up_at = std::chrono::steady_clock::now() + timeout_;
  connection->arm_until(give_up_at);
  std::error_code ec = co_await net::connect_by_name(
      connection->socket(), endpoint.host, std::to_string(endpoint.port), &connection->deadline);
  if (ec || connection->timed_out() || connection->canceled) {
    error = EtcdError::unavailable(connection->failure("etcd " + connection->endpoint, ec));
    co_return nullptr;
  }
  connection->socket().set_option(tcp::no_delay(true), ec);
  if (endpoint.tls) {
    const net::ConnectTarget target{.server = connection->host,
                                    .tls = tls_.get(),
                                    .timeout = timeout_,
                                    .give_up_at = give_up_at};
    net::Connected connected =
        co_await net::connect_tls(std::move(connection->socket()), target, connection->deadline);
    if (!connected || connection->canceled) {
      error = EtcdError::unavailable("etcd " + connection->endpoint + ": " +
                                     (connection->canceled ? "canceled" : connected.reason));
      co_return nullptr;
    }
    connection->stream = std::move(*connected.stream);
    connection->arm_until(give_up_at);  // The TLS step disarmed it.
  }
  co_return connection;
}

asio::awaitable<EtcdError> EtcdClient::exchange(Connection& connection, std::string_view path,
                                                const std::string& body, int& status,
                                                const BodyHandler& on_body) {
  const std::string what = "etcd " + connection.endpoint + std::string(path);
  std::string request = "POST ";
  request.append(path)
      .append(" HTTP/1.1\r\nHost: ")
      .append(connection.host)
      .append("\r\nContent-Type: application/json\r\nContent-Length: ")
      .append(std::to_string(body.size()))
      .append("\r\nConnection: close\r\n");
  if (!token_.empty() && path != kAuthenticatePath) {
    request.append("Authorization: ").append(token_).append("\r\n");
  }
  request.append("\r\n").append(body);
  auto [ec, written] =
      co_await asio::async_write(connection.stream, asio::buffer(request), net::kNoThrow);
  if (ec) co_return EtcdError::unavailable(connection.failure(what, ec));

  // The head.
  std::string buffer;
  char chunk[16 * 1024];
  http::ResponseHead head;
  http::ParseError parse_error;
  for (;;) {
    std::size_t n = 0;
    std::tie(ec, n) =
        co_await connection.stream.async_read_some(asio::buffer(chunk), net::kNoThrow);
    if (ec) co_return EtcdError::unavailable(connection.failure(what, ec));
    buffer.append(chunk, n);
    const auto result = http::parse_response_head(buffer, "POST", head, parse_error);
    if (result == http::ParseResult::kComplete) break;
    if (result == http::ParseResult::kError) {
      co_return EtcdError::protocol(what + ": bad response head (" +
                                    std::string(parse_error.reason) + ")");
    }
  }
  status = head.status;
  http::BodyFraming framing;
  framing.start(head.framing, head.content_length);
  buffer.erase(0, head.head_size);  // `head` points into `buffer`: not used from here on.

  // The body, piece by piece: a result once it has ended or failed.
  EtcdError handler_error;
  const http::BodyFraming::PayloadSink on_data = [&](std::string_view data) {
    if (!handler_error) handler_error = on_body(data);
  };
  auto feed = [&](std::string_view piece) -> std::optional<EtcdError> {
    const http::BodyFraming::Step step = framing.feed(piece, &on_data);
    if (handler_error) return handler_error;
    if (step.error) {
      return EtcdError::protocol(what + ": bad chunked body (" + std::string(step.error_reason) +
                                 ")");
    }
    if (framing.done()) return EtcdError{};
    return std::nullopt;
  };
  if (auto done = feed(buffer)) co_return *done;
  for (;;) {
    std::size_t n = 0;
    std::tie(ec, n) =
        co_await connection.stream.async_read_some(asio::buffer(chunk), net::kNoThrow);
    // A TLS peer closing without close_notify: as EOF, the framing decides whether it is whole.
    const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (closed && framing.end_at_close()) co_return EtcdError{};
    if (ec) co_return EtcdError::unavailable(connection.failure(what, ec));
    if (auto done = feed(std::string_view(chunk, n))) co_return *done;
  }
}

asio::awaitable<EtcdError> EtcdClient::call(std::string_view path, const std::string& body,
                                            std::string& answer) {
  if (authenticates() && token_.empty()) {
    if (EtcdError error = co_await authenticate()) co_return error;
  }
  EtcdError error = co_await call_once(path, body, answer);
  if (authenticates() && is_invalid_token(error)) {
    log_token_refused(error);
    if (EtcdError auth_error = co_await authenticate()) co_return auth_error;
    error = co_await call_once(path, body, answer);
  }
  co_return error;
}

void EtcdClient::log_token_refused(const EtcdError& error) const {
  // Expected when the token outlived etcd's --auth-token-ttl: worth a line, not a warning.
  spdlog::info("etcd {}: token refused ({}); authenticating again as '{}'",
               current_endpoint().to_string(), error.message, access_.username);
}

asio::awaitable<EtcdError> EtcdClient::authenticate() {
  std::string reason;
  const auto password = read_etcd_password(access_.password_file, reason);
  if (!password) co_return EtcdError{.kind = EtcdError::Kind::kServer, .message = reason};
  std::string answer;
  std::string token;
  // The old token stays in use meanwhile: calls running alongside (health_sharing's) go on.
  EtcdError error = co_await call_once(kAuthenticatePath,
                                       authenticate_request(access_.username, *password), answer);
  if (!error) error = parse_authenticate_answer(answer, token);
  if (!error) {
    token_ = std::move(token);
  } else if (error.kind != EtcdError::Kind::kUnavailable) {
    error.message = "etcd authentication as '" + access_.username + "' failed: " + error.message;
  }
  co_return error;
}

asio::awaitable<EtcdError> EtcdClient::call_once(std::string_view path, const std::string& body,
                                                 std::string& answer) {
  EtcdError error;
  const uint64_t cancellations = cancellations_;
  // Each endpoint once, starting with the current one; an unreachable one is skipped for good.
  for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    auto connection = co_await connect(error);
    if (connection) {
      int status = 0;
      answer.clear();
      error = co_await exchange(*connection, path, body, status,
                                [&answer](std::string_view piece) -> EtcdError {
                                  if (answer.size() + piece.size() > kMaxAnswerBytes) {
                                    return EtcdError::protocol("answer too large");
                                  }
                                  answer.append(piece);
                                  return {};
                                });
      if (!error && status != 200) error = parse_error_answer(status, answer);
      if (error.kind != EtcdError::Kind::kUnavailable) co_return error;
    }
    if (cancellations != cancellations_) co_return error;
    next_endpoint();
  }
  co_return error;
}

asio::awaitable<EtcdResult<EtcdRangeResult>> EtcdClient::range(std::string prefix) {
  EtcdResult<EtcdRangeResult> result;
  std::string answer;
  result.error = co_await call("/v3/kv/range", range_request(prefix), answer);
  if (!result.error) result.error = parse_range_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdResult<int64_t>> EtcdClient::put(std::string key, std::string value,
                                                     int64_t lease) {
  EtcdResult<int64_t> result;
  std::string answer;
  result.error = co_await call("/v3/kv/put", put_request(key, value, lease), answer);
  if (!result.error) result.error = parse_revision_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdResult<int64_t>> EtcdClient::write_batch(std::vector<EtcdWrite> writes,
                                                             int64_t lease) {
  EtcdResult<int64_t> result;
  std::string answer;
  result.error = co_await call("/v3/kv/txn", write_batch_request(writes, lease), answer);
  if (!result.error) result.error = parse_revision_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdResult<int64_t>> EtcdClient::remove(std::string key) {
  EtcdResult<int64_t> result;
  std::string answer;
  result.error = co_await call("/v3/kv/deleterange", delete_request(key), answer);
  if (!result.error) result.error = parse_revision_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdResult<EtcdLease>> EtcdClient::lease_grant(int64_t ttl_seconds) {
  EtcdResult<EtcdLease> result;
  std::string answer;
  result.error = co_await call("/v3/lease/grant", lease_grant_request(ttl_seconds), answer);
  if (!result.error) result.error = parse_lease_grant_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdResult<EtcdLease>> EtcdClient::lease_keepalive(int64_t id) {
  EtcdResult<EtcdLease> result;
  std::string answer;
  result.error = co_await call("/v3/lease/keepalive", lease_id_request(id), answer);
  if (!result.error) result.error = parse_lease_keepalive_answer(answer, result.value);
  co_return result;
}

asio::awaitable<EtcdError> EtcdClient::lease_revoke(int64_t id) {
  std::string answer;
  EtcdError error = co_await call("/v3/lease/revoke", lease_id_request(id), answer);
  int64_t revision = 0;
  if (!error) error = parse_revision_answer(answer, revision);
  co_return error;
}

asio::awaitable<EtcdError> EtcdClient::watch(std::string prefix, int64_t start_revision,
                                             WatchHandler on_message) {
  if (authenticates() && token_.empty()) {
    if (EtcdError error = co_await authenticate()) co_return error;
  }
  bool delivered = false;
  EtcdError error = co_await watch_once(prefix, start_revision, on_message, delivered);
  // A refused token is the stream's first answer: nothing was delivered, so no change is lost.
  if (authenticates() && is_invalid_token(error) && !delivered) {
    log_token_refused(error);
    if (EtcdError auth_error = co_await authenticate()) co_return auth_error;
    error = co_await watch_once(prefix, start_revision, on_message, delivered);
  }
  co_return error;
}

asio::awaitable<EtcdError> EtcdClient::watch_once(const std::string& prefix, int64_t start_revision,
                                                  const WatchHandler& on_message, bool& delivered) {
  EtcdError error;
  const uint64_t cancellations = cancellations_;
  auto connection = co_await connect(error);
  if (!connection) {
    // The caller retries: with the next endpoint.
    if (cancellations == cancellations_) next_endpoint();
    co_return error;
  }
  enable_keepalive(connection->socket());
  int status = 0;
  std::string pending;  // Bytes of the message being received: messages end with '\n'.
  std::string error_body;
  bool started = false;
  error = co_await exchange(
      *connection, "/v3/watch", watch_request(prefix, start_revision), status,
      [&](std::string_view piece) -> EtcdError {
        if (status != 200) {
          if (error_body.size() < kMaxAnswerBytes) error_body.append(piece);
          return {};
        }
        if (!started) {
          connection->disarm();  // The stream is up: it may now idle for as long as it likes.
          started = true;
        }
        pending.append(piece);
        std::size_t line_start = 0;
        for (std::size_t end; (end = pending.find('\n', line_start)) != std::string::npos;
             line_start = end + 1) {
          const std::string_view line(pending.data() + line_start, end - line_start);
          if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
          WatchMessage message;
          if (EtcdError e = parse_watch_message(line, message)) return e;
          delivered = true;
          on_message(message);
        }
        pending.erase(0, line_start);
        if (pending.size() > kMaxWatchLineBytes) return EtcdError::protocol("watch: line too long");
        return {};
      });
  if (!error && status != 200) co_return parse_error_answer(status, error_body);
  if (!error) error = EtcdError::unavailable("etcd " + connection->endpoint + ": watch ended");
  // A stream that had started ended with etcd (restarted, say): the same endpoint first.
  if (error.kind == EtcdError::Kind::kUnavailable && cancellations == cancellations_ && !started) {
    next_endpoint();
  }
  co_return error;
}

}  // namespace fulcrum::discovery
