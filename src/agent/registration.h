#pragma once

// fulcrum-agent --register: keeps this server's key in etcd for as long as the agent runs. The
// key (PREFIX/CLUSTER/ADDR:PORT, value {"weight": N}) is put under a lease that the agent keeps
// alive every TTL/3, so a killed agent's server leaves when the lease expires; a lease found
// gone (etcd lost it, or it expired while etcd was unreachable) is replaced and the key put
// again. On exit the lease is revoked (the server leaves at once), after a drain first with
// --drain-on-exit.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <string>

#include "agent/options.h"
#include "discovery/etcd_client.h"

namespace fulcrum::agent {

class Registrar {
 public:
  Registrar(asio::io_context& io, RegistrationOptions options);

  /// Starts registering and keeping the registration alive on `io`.
  void start();
  /// Ends the registration: stops keeping it alive; with drain_on_exit puts the drain and waits
  /// drain_wait (keeping the lease alive meanwhile); then revokes the lease.
  asio::awaitable<void> leave();

 private:
  asio::awaitable<void> maintain();
  /// Sleeps `delay` unless leave() interrupts; false when leaving.
  asio::awaitable<bool> sleep(std::chrono::milliseconds delay);
  std::string value(bool draining) const;
  /// Logs `problem` when it differs from the last one; "" marks things working again.
  void report(const std::string& problem);

  asio::io_context& io_;
  RegistrationOptions options_;
  discovery::EtcdClient etcd_;
  asio::steady_timer timer_;
  int64_t lease_ = 0;
  bool registered_ = false;  ///< The key is in etcd under lease_.
  bool leaving_ = false;
  bool maintaining_ = false;
  std::string last_problem_;
};

}  // namespace fulcrum::agent
