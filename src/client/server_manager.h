#pragma once

// The server manager (after Consul's client-side one) on the balancing core: an ordered list of
// servers, the first healthy one taking the requests; a failed server rotates to the end; a
// periodic, ping-checked shuffle spreads long-lived clients over all servers. The list is
// published into a core::Cluster, so eligibility, passive tracking and agent answers are the
// proxy's own, and any core policy can replace list order.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/pinger.h"
#include "client/rebalance_interval.h"
#include "core/cluster.h"

namespace fulcrum::client {

namespace detail {
struct ManagerState;
}  // namespace detail

struct ServerManagerOptions {
  /// A policy of core::PolicyRegistry::builtin(). "first_available" is the server manager's list
  /// order: find_server() returns the first eligible server. Any other policy balances over all
  /// eligible servers and the order only matters to rebalance listings.
  std::string policy = "first_available";
  /// Passive tracking of failures reported to the manager; offline_timeout 0: off.
  core::PassiveOptions passive{};
  RebalanceIntervalOptions rebalance{};
  /// How many clients share these servers, for the rebalance interval. Empty: 1.
  std::function<std::size_t()> clients;
  /// Probe run before a rebalanced order is committed. Null: TcpPinger.
  std::shared_ptr<Pinger> pinger;
  /// Time source of passive tracking. Null: the steady clock.
  std::shared_ptr<const core::Clock> clock;
  /// Seed of the rebalance shuffle and jitter. 0: a random seed.
  uint64_t seed = 0;
  /// Name of the underlying core cluster.
  std::string name = "client";
};

/// A server as find_server() saw it. Holds the snapshot it came from, so it stays valid however
/// the manager changes afterwards; cheap to copy (one reference count).
class ServerHandle {
 public:
  ServerHandle(core::SnapshotPtr snapshot, const core::Member& member, bool offline = false)
      : snapshot_(std::move(snapshot)), member_(&member), offline_(offline) {}

  const std::string& address() const { return member_->spec.address; }
  const core::ServerSpec& spec() const { return member_->spec; }
  /// Live counters and passive state, shared with the manager.
  core::ServerState& state() const { return *member_->state; }
  /// No server was eligible when find_server() ran: this one is handed out anyway (list order
  /// only) so that callers keep trying, and is expected to fail.
  bool is_offline() const { return offline_; }

 private:
  core::SnapshotPtr snapshot_;
  const core::Member* member_;
  bool offline_;
};

enum class RebalanceResult : uint8_t {
  kCommitted,  ///< Shuffled, and the new first server answered its ping.
  kOffline,    ///< No server answered: the order is unchanged and is_offline() is true.
  kUnchanged,  ///< Fewer than two servers, or the server that answered left during the pings.
};

/// Thread-safe: every member function may be called from any thread.
class ServerManager {
 public:
  /// Throws std::invalid_argument for a policy name the core does not know.
  explicit ServerManager(ServerManagerOptions options = {});
  /// Stops the periodic rebalance (see stop()).
  ~ServerManager();
  ServerManager(const ServerManager&) = delete;
  ServerManager& operator=(const ServerManager&) = delete;

  /// An unknown server is appended: it takes requests after the next rebalance or once the
  /// servers before it fail. A known one (same address) keeps its place and live state and takes
  /// the new details (weight, backup, agent address...). Throws std::invalid_argument for an
  /// empty address.
  void add_server(core::ServerSpec server);
  /// False when the address is unknown.
  bool remove_server(std::string_view address);
  /// The first eligible server in list order (or the policy's choice). Eligible:
  /// core/eligibility.h (enabled, not offline by passive tracking, agent not -1...). When none is
  /// eligible, list order still hands out its first server that only Fulcrum's own inferences
  /// rule out (passive tracking, checks), with is_offline() true, so callers keep trying; other
  /// policies, and servers the operator or the servers themselves rule out, give nothing. Never
  /// blocks on I/O.
  std::optional<ServerHandle> find_server() const;
  /// Moves the server to the end of the list only when it is the current first: the one list
  /// order hands out now (servers before it that find_server() skips do not count). A late
  /// report, about a server that already moved, is ignored, as is an unknown address.
  void notify_failed_server(std::string_view address);
  /// Healthy and unhealthy servers alike.
  std::size_t num_servers() const;
  /// The servers in their current order.
  std::vector<core::ServerSpec> servers() const;

  /// Shuffles the list, then pings the new first server through the Pinger; a server that does
  /// not answer (or is not eligible) is cycled to the end and the next one is pinged. The new
  /// order is committed once a server answered; servers added or removed during the pings are
  /// reconciled. When no server answers the old order stays and the manager is offline.
  asio::awaitable<RebalanceResult> rebalance();
  /// True when no server answered in the last rebalance that pinged, or when servers are known
  /// but none is eligible now (find_server() hands out offline ones or nothing).
  bool is_offline() const;

  /// Rebalances periodically on `executor` (through a strand), every rebalance_interval(clients,
  /// num_servers()). A second start() while running does nothing. The executor's execution
  /// context must outlive the manager, or stop() must be called first.
  void start(asio::any_io_executor executor);
  /// No rebalance starts after stop() returns; one whose pings are under way may still commit.
  void stop();

  /// A connection to `address` failed before the server received anything: counts towards
  /// passive tracking and notify_failed_server().
  void report_failure(std::string_view address);
  /// A connection to `address` succeeded after `latency`: resets passive tracking, feeds the
  /// latency average.
  void report_success(std::string_view address, core::Nanos latency);

  /// The core cluster the list is published to (snapshots, live state, policies).
  const core::Cluster& cluster() const;
  const core::Clock& clock() const;
  const ServerManagerOptions& options() const;

 private:
  // Shared with the periodic rebalance and rebalances in flight, which may outlive the manager.
  std::shared_ptr<detail::ManagerState> state_;
};

}  // namespace fulcrum::client
