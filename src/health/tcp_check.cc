// tcp checks and the helpers all probes share.

#include <fmt/format.h>

#include <asio/this_coro.hpp>

#include "health/probe_socket.h"
#include "health/probes.h"

namespace fulcrum::health {

std::string format_duration(core::Nanos d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

asio::awaitable<CheckResult> tcp_check(asio::ip::tcp::endpoint endpoint, core::Nanos timeout) {
  const auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(executor);
  const detail::CloseWithReset close_on_exit(socket);
  net::Deadline deadline(executor);
  deadline.arm(socket, timeout);
  std::string failure = co_await detail::connect_probe(socket, endpoint, deadline, timeout);
  deadline.cancel();
  co_return CheckResult{failure.empty(), std::move(failure)};
}

}  // namespace fulcrum::health
