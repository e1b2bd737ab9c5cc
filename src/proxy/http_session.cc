#include "proxy/http_session.h"

#include <fmt/format.h>

#include <array>
#include <asio/write.hpp>
#include <cstring>

#include "core/hash.h"
#include "http/forward.h"
#include "proxy/address_resolution.h"
#include "proxy/sessions.h"
#include "proxy/tunnel.h"

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

HttpSession::HttpSession(Worker& worker, ListenerRuntime& listener, asio::ip::tcp::socket client)
    : worker_(worker),
      listener_(listener),
      client_(std::move(client)),
      registration_(worker.register_session(&client_)),
      client_deadline_(client_.get_executor()),
      upstream_deadline_(client_.get_executor()),
      in_(worker.head_buffers().acquire()) {
  listener_.connections.fetch_add(1, std::memory_order_relaxed);
  std::error_code ec;
  const auto remote = client_.remote_endpoint(ec);
  if (!ec) {
    const auto text = remote.address().to_string();
    client_ip_len_ = std::min(text.size(), sizeof client_ip_);
    std::memcpy(client_ip_, text.data(), client_ip_len_);
  }
}

HttpSession::~HttpSession() {
  worker_.unregister_session(registration_);
  listener_.connections.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> run_http_session(Worker& worker, ListenerRuntime& listener,
                                       asio::ip::tcp::socket client) {
  HttpSession session(worker, listener, std::move(client));
  co_await session.run();
}

asio::awaitable<void> HttpSession::run() {
  http::RequestHead head;
  while (keep_alive_) {
    http::ParseError error;
    const HeadRead read = co_await read_head(head, error);
    if (read == HeadRead::kClosed) break;
    if (read == HeadRead::kError) {
      co_await reply_error(error.status, error.reason, nullptr);
      break;
    }
    registration_->idle = false;
    keep_alive_ = co_await serve(head);
    // Between requests a connection holds only its input buffer.
    scratch_ = {};
    out_ = {};
    registration_->idle = true;
    if (worker_.draining()) keep_alive_ = false;
  }
  // Close cleanly: send FIN first so a client still writing sees an orderly end.
  std::error_code ignored;
  client_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  client_.close(ignored);
}

asio::awaitable<HttpSession::HeadRead> HttpSession::read_head(http::RequestHead& head,
                                                              http::ParseError& error) {
  const auto& limits_config = listener_.config.limits;
  const http::Limits limits{std::min<std::size_t>(limits_config.max_head_bytes, in_.size() / 2),
                            limits_config.max_uri_bytes};
  std::size_t hint = 0;
  bool header_clock_running = false;
  for (;;) {
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    const std::string_view pending(in_.data() + in_begin_, in_end_ - in_begin_);
    if (!pending.empty()) {
      switch (http::parse_request_head(pending, limits, head, error, hint)) {
        case http::ParseResult::kComplete:
          client_deadline_.cancel();
          co_return HeadRead::kComplete;
        case http::ParseResult::kError:
          client_deadline_.cancel();
          co_return HeadRead::kError;
        case http::ParseResult::kIncomplete:
          break;
      }
      if (pending.size() >= limits.max_head_bytes) {
        error = {431, "request head larger than max_head_bytes"};
        co_return HeadRead::kError;
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
      client_deadline_.arm(client_, listener_.config.timeouts.client_idle);
    } else if (!header_clock_running) {
      client_deadline_.arm(client_, listener_.config.timeouts.client_header);
      header_clock_running = true;
    }
    auto [ec, n] = co_await client_.async_read_some(
        asio::buffer(in_.data() + in_end_, in_.size() - in_end_), kNoThrow);
    if (ec) {
      client_deadline_.cancel();
      if (!pending.empty() && client_deadline_.expired()) {
        error = {408, "request head not received within client_header timeout"};
        co_return HeadRead::kError;
      }
      co_return HeadRead::kClosed;
    }
    in_end_ += n;
  }
}

std::optional<uint64_t> HttpSession::hash_key(const http::RequestHead& head,
                                              std::size_t cluster_index) const {
  const auto& key = worker_.runtime().clusters()[cluster_index].config.hash_key;
  std::string_view value;
  switch (key.kind) {
    case config::HashKey::Kind::kSourceIp:
      value = std::string_view(client_ip_, client_ip_len_);
      break;
    case config::HashKey::Kind::kHeader:
      value = head.header(key.name);
      break;
    case config::HashKey::Kind::kCookie:
      value = cookie_value(head.header("cookie"), key.name);
      break;
    case config::HashKey::Kind::kPath:
      value = target_path(head.target);
      value = value.substr(0, value.find('?'));
      break;
  }
  if (value.empty()) return std::nullopt;
  return core::hash_bytes(value);
}

asio::awaitable<bool> HttpSession::serve(const http::RequestHead& head) {
  Request request{.head = head, .path = target_path(head.target)};
  request.start = worker_.clock().now();
  const std::size_t after_head = in_begin_ + head.head_size;
  const std::string_view buffered(in_.data() + after_head, in_end_ - after_head);

  switch (head.framing) {
    case http::Framing::kContentLength:
      request.body_in_buffer = std::min<uint64_t>(head.content_length, buffered.size());
      request.body_complete = head.content_length <= buffered.size();
      break;
    case http::Framing::kChunked: {
      const auto step = request.request_chunks.feed(buffered);
      if (step.error) {
        co_await reply_error(400, step.error_reason, &request);
        co_return false;
      }
      request.body_in_buffer = step.consumed;
      request.body_complete = step.done;
      break;
    }
    default:
      break;
  }
  request.retryable = is_idempotent(head.method) && request.body_complete;
  request.body_held = head.expect_continue && !request.body_complete && request.body_in_buffer == 0;
  // After a response: step over this request's bytes (a streamed body appended any pipelined
  // followers right after what was buffered). A body we never read poisons the connection.
  auto finish = [&]() -> bool {
    in_begin_ = after_head + request.body_in_buffer;
    if (in_begin_ >= in_end_) in_begin_ = in_end_ = 0;
    return head.keep_alive && !request.close_after;
  };

  const std::size_t cluster_index = Runtime::route(listener_, head.host, request.path);
  if (cluster_index == SIZE_MAX) {
    co_await reply_error(404, "no route matches this host and path", &request);
    co_return false;
  }
  const ClusterRuntime& cluster = worker_.runtime().clusters()[cluster_index];
  request.cluster = &cluster;
  const core::SnapshotPtr snapshot = worker_.reader(cluster_index).current();
  core::TryList tries(snapshot, worker_.clock(), worker_.rng(), cluster.config.retries + 1,
                      hash_key(head, cluster_index));
  request.tries = &tries;
  bool any_attempt = false;
  bool limited = false;

  for (core::Pick pick = tries.next(); pick; pick = tries.next()) {
    request.pick = pick;
    request.upstream = pick.member->spec.address;
    const uint32_t max_per_server = cluster.config.max_connections_per_server;
    if (max_per_server != 0 && pick.state().active_connections.load(std::memory_order_relaxed) >=
                                   static_cast<int32_t>(max_per_server)) {
      limited = true;
      continue;
    }
    const core::NetAddress& address = pick.member->spec.resolved;
    if (!address.resolved()) {
      tries.report_failure(pick, core::FailureCause::kNameLookup);
      continue;
    }
    UpstreamPool::Slot* slot = &worker_.pool().slot(pick.member->state, address);
    if (any_attempt) ++request.retries;
    any_attempt = true;

    core::LoadGuard load(snapshot, pick, core::LoadKind::kConnection);
    Exchange result = Exchange::kNoResponse;
    // A pooled connection the server closed meanwhile is retried once on a fresh connection
    // to the same server; requests that cannot be replayed only ever get fresh connections.
    for (int connection_try = 0; connection_try < 2; ++connection_try) {
      request.attempt_start = worker_.clock().now();
      request.sent_to_server = false;
      std::optional<asio::ip::tcp::socket> upstream;
      const bool may_pool = connection_try == 0 && request.retryable;
      if (may_pool) {
        upstream = worker_.pool().take(*slot, request.attempt_start, cluster.config.timeouts.idle);
      }
      const bool pooled = upstream.has_value();
      if (!pooled) {
        upstream.emplace(worker_.io());
        upstream_deadline_.arm(*upstream, cluster.config.timeouts.connect);
        auto [ec] = co_await upstream->async_connect(to_endpoint(address), kNoThrow);
        upstream_deadline_.cancel();
        if (ec) {
          tries.report_failure(pick, classify_connect_error(ec, upstream_deadline_.expired()));
          result = Exchange::kNoResponse;
          break;
        }
        std::error_code ignored;
        upstream->set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      result = co_await exchange(request, *upstream);
      if (result == Exchange::kDone && request.upstream_reusable && !worker_.draining()) {
        worker_.pool().give_back(*slot, std::move(*upstream), worker_.clock().now(),
                                 cluster.config.max_idle_per_server);
      } else {
        std::error_code ignored;
        upstream->close(ignored);
      }
      if (!(result == Exchange::kNoResponse && pooled)) break;
    }

    switch (result) {
      case Exchange::kDone:
        log(request);
        co_return finish();
      case Exchange::kClientGone:
      case Exchange::kBrokenMidStream:
        request.status = request.status ? request.status : 499;
        log(request);
        co_return false;
      case Exchange::kTimeout: {
        char message[256];
        auto end = fmt::format_to_n(message, sizeof message,
                                    "server {} of cluster '{}' did not answer in time",
                                    pick.member->spec.address, cluster.config.name);
        co_await reply_error(504, std::string_view(message, end.size), &request);
        co_return false;
      }
      case Exchange::kBadResponse:
        co_await reply_error(502, "the server sent a malformed response", &request);
        co_return false;
      case Exchange::kBadRequestBody:
        // The server got a truncated body and its connection is closed; the client, which has
        // had no response byte yet, learns why.
        co_await reply_error(400, "invalid chunked request body", &request);
        co_return false;
      case Exchange::kNoResponse:
        break;
    }
    if (request.sent_to_server) {
      // The server took bytes and closed without answering. Seed 003 reroutes only requests
      // that can be replayed safely; anything else must not be sent twice.
      tries.report_failure(pick, core::FailureCause::kReset);
      if (!request.retryable) {
        co_await reply_error(502, "the server closed the connection without answering", &request);
        co_return false;
      }
    }
  }

  request.upstream = {};
  char message[256];
  std::size_t length;
  int status;
  if (any_attempt) {
    status = 502;
    length = fmt::format_to_n(message, sizeof message,
                              "no server of cluster '{}' answered ({} attempts)",
                              cluster.config.name, tries.attempts())
                 .size;
  } else {
    status = 503;
    length = limited
                 ? fmt::format_to_n(message, sizeof message,
                                    "every server of cluster '{}' is at its connection limit",
                                    cluster.config.name)
                       .size
                 : fmt::format_to_n(message, sizeof message,
                                    "no server of cluster '{}' is available", cluster.config.name)
                       .size;
  }
  co_await reply_error(status, std::string_view(message, std::min(length, sizeof message)),
                       &request);
  co_return false;
}

asio::awaitable<void> HttpSession::reply_error(int status, std::string_view message,
                                               Request* request) {
  std::array<char, 1024> buffer;
  char body[300];
  const auto body_end = fmt::format_to_n(body, sizeof body, "{} {}\n", status, message);
  const std::size_t n = http::write_simple_response(
      status, std::string_view(body, std::min(body_end.size, sizeof body)), true, buffer);
  const std::array<asio::const_buffer, 1> buffers{asio::buffer(buffer.data(), n)};
  co_await write_client(buffers);
  keep_alive_ = false;
  if (request != nullptr) {
    request->status = status;
    request->response_bytes = n;
    log(*request);
  }
}

asio::awaitable<bool> HttpSession::write_client(std::span<const asio::const_buffer> buffers,
                                                bool more) {
  client_deadline_.arm(client_, listener_.config.timeouts.client_idle);
  const std::error_code ec = co_await send_all(client_, buffers, more);
  client_deadline_.cancel();
  co_return !ec;
}

void HttpSession::log(const Request& request) {
  auto& access_log = worker_.runtime().access_log();
  if (!access_log.enabled()) return;
  access_log.write(AccessRecord{
      .listener = listener_.config.name,
      .client = std::string_view(client_ip_, client_ip_len_),
      .method = request.head.method,
      .path = request.path,
      .status = request.status,
      .bytes = request.response_bytes,
      .upstream = request.upstream,
      .upstream_time = request.upstream_time,
      .total_time = worker_.clock().now() - request.start,
      .retries = request.retries,
  });
}

}  // namespace fulcrum::proxy
