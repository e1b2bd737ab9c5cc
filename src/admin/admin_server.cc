#include "admin/admin_server.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <future>
#include <memory>
#include <system_error>
#include <vector>

#include "admin/router.h"
#include "http/message.h"
#include "net/deadline.h"
#include "net/no_throw.h"

namespace fulcrum::admin {
namespace {

constexpr std::size_t kMaxHead = 16 * 1024;
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);  // Between requests.
constexpr auto kHeadTimeout = std::chrono::seconds(10);  // From a request's first byte.
constexpr auto kTick = std::chrono::milliseconds(50);

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

asio::awaitable<void> write_response(asio::ip::tcp::socket& socket, Response response,
                                     bool keep_alive, bool head_only) {
  std::string bytes = serialize(response, keep_alive);
  if (head_only) bytes.resize(bytes.size() - response.body.size());
  co_await asio::async_write(socket, asio::buffer(bytes), net::kNoThrow);
}

}  // namespace

AdminServer::AdminServer(generation::Generation& runtime, const config::AdminConfig& config,
                         core::Nanos drain_timeout)
    : config_(config),
      journal_(config.state_file.value_or("")),
      context_{&runtime, clock_, history_, removals_, drain_timeout, clock_.now(), journal_, {}},
      auth_(config.token, config.loopback) {}

void AdminServer::run_on_admin_thread(const std::function<void()>& fn) {
  if (!thread_.joinable() || io_.stopped()) {
    fn();
    return;
  }
  std::promise<void> done;
  asio::post(io_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(config_.host), config_.port);
  try {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "admin listener " + endpoint_text(endpoint));
  }
  port_ = acceptor_.local_endpoint().port();
  history_.sample(context_.runtime->clusters(), context_.now());
  asio::co_spawn(io_, accept_loop(), asio::detached);
  asio::co_spawn(io_, tick(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  spdlog::info("admin API on http://{}/ ({})",
               endpoint_text(asio::ip::tcp::endpoint(endpoint.address(), port_)),
               !auth_.has_token() ? "no token: loopback callers may change state"
               : config_.loopback ? "token required for changes"
                                  : "token required for every call");
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
  if (!removals_.idle()) {
    spdlog::warn(
        "admin: stopped with server removals still draining; the servers stay listed "
        "as draining until the process exits");
  }
}

asio::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      spdlog::warn("admin: accept failed: {}", ec.message());
      continue;  // EMFILE and friends: the next accept may succeed.
    }
    if (connections_ >= kMaxConnections) {
      std::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::tick() {
  asio::steady_timer timer(io_);
  core::Nanos next_sample = clock_.now() + History::kPeriod;
  for (;;) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(net::kNoThrow);
    if (ec) co_return;
    const core::Nanos now = clock_.now();
    if (now >= next_sample) {
      history_.sample(context_.runtime->clusters(), context_.now());
      next_sample = now + History::kPeriod;
    }
    if (!removals_.idle()) removals_.poll(now);
  }
}

asio::awaitable<void> AdminServer::serve(asio::ip::tcp::socket socket) {
  ++connections_;
  struct Release {
    std::size_t& count;
    ~Release() { --count; }
  } release{connections_};
  std::error_code ec;
  const std::string peer = endpoint_text(socket.remote_endpoint(ec));
  net::Deadline deadline(socket.get_executor());
  std::vector<char> buffer(kMaxHead + kMaxBody);
  std::size_t end = 0;
  const http::Limits limits{.max_head_bytes = kMaxHead, .max_uri_bytes = 8 * 1024};

  for (;;) {
    http::RequestHead head;
    http::ParseError error;
    std::size_t hint = 0;
    http::ParseResult result = http::ParseResult::kIncomplete;
    deadline.arm(socket, end == 0 ? core::Nanos(kIdleTimeout) : core::Nanos(kHeadTimeout));
    for (;;) {
      if (end > 0) {
        result = http::parse_request_head(std::string_view(buffer.data(), end), limits, head, error,
                                          hint);
        if (result != http::ParseResult::kIncomplete) break;
      }
      const std::size_t room = kMaxHead + 1 > end ? kMaxHead + 1 - end : 0;
      if (room == 0) break;  // The parser rejects an over-long head itself; never reached.
      auto [read_error, n] =
          co_await socket.async_read_some(asio::buffer(buffer.data() + end, room), net::kNoThrow);
      if (read_error) co_return;  // Closed, reset or timed out: nothing to answer.
      if (end == 0) deadline.arm(socket, kHeadTimeout);
      end += n;
    }
    if (result != http::ParseResult::kComplete) {
      co_await write_response(socket, error_response(error.status, error.reason), false, false);
      co_return;
    }
    if (head.framing == http::Framing::kChunked) {
      co_await write_response(socket, error_response(411, "send the body with Content-Length"),
                              false, false);
      co_return;
    }
    if (head.content_length > kMaxBody) {
      co_await write_response(socket, error_response(413, "the body is limited to 64 KiB"), false,
                              false);
      co_return;
    }
    const std::size_t total = head.head_size + static_cast<std::size_t>(head.content_length);
    if (head.expect_continue && end < total) {
      constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(kContinue), net::kNoThrow);
    }
    while (end < total) {
      auto [read_error, n] = co_await socket.async_read_some(
          asio::buffer(buffer.data() + end, total - end), net::kNoThrow);
      if (read_error) co_return;
      end += n;
    }

    Request request;
    request.method = head.method;
    const std::string_view target = head.target;
    const std::size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string_view::npos) request.query = target.substr(question + 1);
    request.authorization = head.header("Authorization");
    request.body.assign(buffer.data() + head.head_size, head.content_length);
    request.peer = peer;
    const bool keep_alive = head.keep_alive;
    const bool head_only = head.method == "HEAD";
    // The parsed head points into the buffer: done with it before the buffer moves.
    std::memmove(buffer.data(), buffer.data() + total, end - total);
    end -= total;

    Response response;
    try {
      response = co_await route(context_, auth_, request);
    } catch (const std::exception& e) {
      spdlog::error("admin: {} {} from {} failed: {}", request.method, request.path, peer,
                    e.what());
      response = error_response(500, e.what());
    }
    co_await write_response(socket, std::move(response), keep_alive, head_only);
    if (!keep_alive) {
      socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

}  // namespace fulcrum::admin
