// tcp checks and the helpers all probes share.

#include <fmt/format.h>

#include <asio/this_coro.hpp>

#include "health/probe_stream.h"
#include "health/probes.h"

namespace fulcrum::health {

std::string format_duration(core::Nanos d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

asio::awaitable<CheckResult> tcp_check(asio::ip::tcp::endpoint endpoint, core::Nanos timeout) {
  net::Deadline deadline(co_await asio::this_coro::executor);
  std::string failure;
  std::unique_ptr<tls::Stream> stream = co_await detail::connect_probe(
      {endpoint, nullptr, {}, timeout, std::chrono::steady_clock::now() + timeout}, deadline,
      failure);
  const detail::ResetUnlessKept reset_on_exit(stream);
  deadline.cancel();
  co_return CheckResult{stream != nullptr, std::move(failure)};
}

}  // namespace fulcrum::health
