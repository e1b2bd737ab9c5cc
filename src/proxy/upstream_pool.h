#pragma once

#include <asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/server.h"
#include "tls/stream.h"

namespace fulcrum::proxy {

/// Per-worker keep-alive connections to servers. Worker-local; not thread-safe.
class UpstreamPool {
 public:
  struct Slot {
    core::NetAddress address;                   ///< Where the idle connections lead.
    std::shared_ptr<core::ServerState> server;  // Keeps the key's identity alive.
    struct Idle {
      tls::Stream stream;  ///< Plain TCP or TLS, the handshake done.
      core::Nanos since;
    };
    std::vector<Idle> idle;
    /// The cluster's idle timeout, as of the last give_back: sweep() closes connections idle
    /// longer, so a pool grown by a burst shrinks back (as nginx's upstream keepalive_timeout).
    core::Nanos max_idle_time{0};
  };

  /// The slot for `server` at `address`, created on first use (the only allocation). When the
  /// server's name now resolves elsewhere, connections to the old address are closed.
  Slot& slot(const std::shared_ptr<core::ServerState>& server, const core::NetAddress& address);

  /// An idle connection that still looks open and has been idle less than `max_idle_time`;
  /// connections found closed by the server, or too old, are discarded on the way.
  std::optional<tls::Stream> take(Slot& slot, core::Nanos now, core::Nanos max_idle_time);

  /// Keeps `stream` for reuse unless the slot already holds `max_idle` connections.
  void give_back(Slot& slot, tls::Stream stream, core::Nanos now, uint32_t max_idle,
                 core::Nanos max_idle_time);

  /// Closes idle connections the server has closed meanwhile or that sat idle longer than their
  /// slot's max_idle_time, and forgets servers that left
  /// every cluster (the slot holds the last reference to their state, so no request can use
  /// them), closing their connections: without it, a server removed at run time kept its idle
  /// connections and its slot for the life of the process.
  void sweep(core::Nanos now);

  /// Closes every idle connection (graceful shutdown).
  void close_all();

 private:
  std::unordered_map<const core::ServerState*, Slot> slots_;
};

/// True when a connected socket has neither pending data nor a pending EOF or error: the
/// server has not closed it while it sat idle. On an idle TLS connection any readable byte is
/// an alert or close_notify, so the same test holds.
bool looks_open(asio::ip::tcp::socket& socket);

}  // namespace fulcrum::proxy
