#pragma once

// The health probe a ServerManager runs before committing a rebalanced order (the server
// manager's rule: the new first server must answer before clients are sent to it).

#include <asio/awaitable.hpp>
#include <chrono>

#include "core/clock.h"
#include "core/server.h"

namespace fulcrum::client {

class Pinger {
 public:
  virtual ~Pinger() = default;
  /// True when `server` answers. Runs on the executor the rebalance runs on, so it must not
  /// block; may be called from several rebalances at once. An exception counts as no answer.
  virtual asio::awaitable<bool> ping(const core::ServerSpec& server) = 0;
};

/// The default probe: a TCP connection to the server's address within `timeout`, then closed.
class TcpPinger final : public Pinger {
 public:
  explicit TcpPinger(core::Nanos timeout = std::chrono::seconds(2)) : timeout_(timeout) {}
  asio::awaitable<bool> ping(const core::ServerSpec& server) override;

 private:
  core::Nanos timeout_;
};

}  // namespace fulcrum::client
