// Agent probes: connect, send the configured probe string, read one answer line.

#include <asio/buffer.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include "health/probe_socket.h"
#include "health/probes.h"

namespace fulcrum::health {

asio::awaitable<AgentReply> query_agent(asio::ip::tcp::endpoint endpoint, std::string_view send,
                                        core::Nanos timeout) {
  const auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(executor);
  const detail::CloseWithReset close_on_exit(socket);
  proxy::Deadline deadline(executor);
  deadline.arm(socket, timeout);
  AgentReply reply;
  reply.failure = co_await detail::connect_probe(socket, endpoint, deadline, timeout);
  if (!reply.failure.empty()) co_return reply;
  if (!send.empty()) {
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(send), proxy::kNoThrow);
    if (ec) {
      reply.failure = detail::failure_reason(ec, deadline, timeout);
      co_return reply;
    }
  }
  // Agents answer one short line, then usually close; read until either, within the limit.
  std::string& text = reply.text;
  std::error_code ec;
  while (text.size() < AgentReply::kMaxAnswerBytes &&
         text.find_first_of("\r\n") == std::string::npos) {
    const std::size_t old_size = text.size();
    text.resize(AgentReply::kMaxAnswerBytes);
    std::size_t n = 0;
    std::tie(ec, n) = co_await socket.async_read_some(
        asio::buffer(text.data() + old_size, text.size() - old_size), proxy::kNoThrow);
    text.resize(old_size + n);
    if (ec) break;
  }
  reply.answered = !text.empty();
  if (!reply.answered) {
    reply.failure = ec == asio::error::eof ? "closed without answering"
                                           : detail::failure_reason(ec, deadline, timeout);
  }
  co_return reply;
}

}  // namespace fulcrum::health
