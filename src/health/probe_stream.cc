#include "health/probe_stream.h"

#include <asio/this_coro.hpp>

#include "health/probes.h"
#include "net/connect.h"
#include "net/connect_failure.h"

namespace fulcrum::health::detail {

asio::awaitable<std::unique_ptr<tls::Stream>> connect_probe(const ProbeTarget& target,
                                                            net::Deadline& deadline,
                                                            std::string& failure) {
  net::Connected connected = co_await net::connect(co_await asio::this_coro::executor,
                                                   {.endpoint = target.endpoint,
                                                    .tls_name = target.tls_host,
                                                    .tls = target.tls,
                                                    .timeout = target.timeout,
                                                    .give_up_at = target.give_up_at,
                                                    .close_with_reset = true},
                                                   deadline);
  if (!connected) {
    failure = connected.failure == core::FailureCause::kTimeout
                  ? "timeout after " + format_duration(target.timeout)
                  : std::move(connected.reason);
    co_return nullptr;
  }
  auto stream = std::make_unique<tls::Stream>(std::move(*connected.stream));
  deadline.arm_until(stream->socket(), target.give_up_at);
  co_return stream;
}

std::string failure_reason(const std::error_code& ec, const net::Deadline& deadline,
                           core::Nanos timeout) {
  if (deadline.expired()) return "timeout after " + format_duration(timeout);
  return net::describe_error(ec);
}

}  // namespace fulcrum::health::detail
