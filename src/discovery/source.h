#pragma once

// A discovery source tells a cluster who its servers are: DNS (SRV or A/AAAA), an etcd key
// prefix, or a file. Each source watches on the discovery thread's io_context and reports the
// whole membership every time it changes; the discovery service turns that into a new cluster
// snapshot, so health, passive state and counters stay with the servers that remain.

#include <asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/server.h"

namespace fulcrum::discovery {

struct DiscoveredServer {
  /// `address` is "host:port" (the server's identity); `resolved` is set when the source knows
  /// the IP already (DNS), else left empty for the service to resolve.
  core::ServerSpec spec;
  /// The server asked to leave (e.g. fulcrum-agent --drain-on-exit): no new requests.
  bool draining = false;

  bool operator==(const DiscoveredServer&) const = default;
};

using Membership = std::vector<DiscoveredServer>;

/// Called on the discovery thread with the complete current membership, once it is first known
/// and after every change.
using MembershipCallback = std::function<void(Membership)>;

class Source {
 public:
  virtual ~Source() = default;

  /// Starts watching on `io` (the discovery thread's). A failure to reach the source is logged
  /// and retried; it never reports an empty membership in place of the last good one.
  virtual void start(asio::io_context& io, MembershipCallback on_change) = 0;
  /// Cancels timers and connections; called on the discovery thread before it ends.
  virtual void stop() = 0;
  /// For logs: "dns _http._tcp.api.internal", "etcd /fulcrum/api/", "file servers.yaml".
  virtual std::string describe() const = 0;
};

}  // namespace fulcrum::discovery
