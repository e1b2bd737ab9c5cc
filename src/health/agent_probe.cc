// Agent probes: connect (plain or TLS), send the configured probe string, read one answer line.

#include <asio/buffer.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include "health/probe_stream.h"
#include "health/probes.h"
#include "net/no_throw.h"

namespace fulcrum::health {

asio::awaitable<AgentReply> query_agent(asio::ip::tcp::endpoint endpoint, std::string_view send,
                                        core::Nanos timeout, const tls::ClientTlsContext* tls,
                                        const std::string& tls_host) {
  AgentReply reply;
  net::Deadline deadline(co_await asio::this_coro::executor);
  std::unique_ptr<tls::Stream> stream = co_await detail::connect_probe(
      {endpoint, tls, tls_host, timeout, std::chrono::steady_clock::now() + timeout}, deadline,
      reply.failure);
  if (!stream) co_return reply;
  const detail::ResetUnlessKept reset_on_exit(stream);
  if (!send.empty()) {
    auto [ec, n] = co_await asio::async_write(*stream, asio::buffer(send), net::kNoThrow);
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
    std::tie(ec, n) = co_await stream->async_read_some(
        asio::buffer(text.data() + old_size, text.size() - old_size), net::kNoThrow);
    text.resize(old_size + n);
    if (ec) break;
  }
  deadline.cancel();
  reply.answered = !text.empty();
  if (!reply.answered) {
    // A TLS agent closing without close_notify has ended its answer all the same.
    const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    reply.failure =
        closed ? "closed without answering" : detail::failure_reason(ec, deadline, timeout);
  }
  co_return reply;
}

}  // namespace fulcrum::health
