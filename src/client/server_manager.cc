#include "client/server_manager.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <mutex>
#include <stdexcept>

#include "core/eligibility.h"
#include "core/rng.h"
#include "core/try_list.h"
#include "net/no_throw.h"

namespace fulcrum::client {

namespace {

constexpr std::string_view kListOrderPolicy = "first_available";

// Policies that draw (random, power of two) need a generator per thread.
core::Rng& thread_rng() {
  thread_local core::FastRng rng(core::seed_from_os());
  return rng;
}

auto find_address(std::vector<core::ServerSpec>& servers, std::string_view address) {
  return std::find_if(servers.begin(), servers.end(),
                      [&](const core::ServerSpec& s) { return s.address == address; });
}

bool contains(const std::vector<core::ServerSpec>& servers, std::string_view address) {
  return std::any_of(servers.begin(), servers.end(),
                     [&](const core::ServerSpec& s) { return s.address == address; });
}

const core::Member* find_member(const core::ClusterSnapshot& snapshot, std::string_view address) {
  for (const auto& tier : snapshot.tiers) {
    for (const auto& member : tier.members) {
      if (member.spec.address == address) return &member;
    }
  }
  return nullptr;
}

// The server list order hands out: the first eligible primary, else the first eligible backup.
// When none is eligible, the first that only Fulcrum's own verdicts rule out (passive tracking,
// checks, ejection), marked offline: a client keeps trying it rather than failing at once. Nothing
// when the operator or the servers themselves rule out every one.
struct ListOrderPick {
  const core::Member* member = nullptr;
  bool offline = false;
};

ListOrderPick list_order_first(const core::ClusterSnapshot& snapshot, core::Nanos now) {
  // First pass: a usable server. Second pass: one out only by Fulcrum's own verdict (passive
  // tracking or probes), never one an operator or its agent took out.
  for (const bool offline_allowed : {false, true}) {
    for (const auto& tier : snapshot.tiers) {
      for (const auto& member : tier.members) {
        const core::Eligibility e =
            core::evaluate(member.spec, *member.state, snapshot.passive, now);
        if (core::pickable(e) ||
            (offline_allowed && (core::inferred(e) || core::passively_offline(e)))) {
          return {&member, offline_allowed};
        }
      }
    }
  }
  return {};
}

}  // namespace

namespace detail {

// The periodic rebalance: its timer and stop flag are only touched on the strand.
struct Periodic {
  explicit Periodic(const asio::any_io_executor& executor)
      : strand(asio::make_strand(executor)), timer(strand) {}
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;
  bool stopped = false;
};

struct ManagerState {
  explicit ManagerState(ServerManagerOptions o)
      : options(std::move(o)),
        clock(options.clock ? options.clock : std::make_shared<core::SteadyClock>()),
        pinger(options.pinger ? options.pinger : std::make_shared<TcpPinger>()),
        cluster(
            core::ClusterOptions{
                .name = options.name, .policy = options.policy, .passive = options.passive},
            {}),
        list_order(options.policy == kListOrderPolicy),
        rng(options.seed != 0 ? options.seed : core::seed_from_os()) {}

  void publish_locked() { cluster.set_servers(servers); }

  core::Nanos next_interval() {
    const std::size_t clients = options.clients ? options.clients() : 1;
    std::lock_guard lock(mutex);
    return rebalance_interval(clients, servers.size(), rng.next(), options.rebalance);
  }

  const ServerManagerOptions options;
  const std::shared_ptr<const core::Clock> clock;
  const std::shared_ptr<Pinger> pinger;
  core::Cluster cluster;
  const bool list_order;  // List order: find_server() hands out a server while any is known.
  std::atomic<bool> offline{false};

  std::mutex mutex;
  std::vector<core::ServerSpec> servers;  // guarded by mutex, in list order
  core::FastRng rng;                      // guarded by mutex
  std::shared_ptr<Periodic> periodic;     // guarded by mutex
};

}  // namespace detail

namespace {
using State = std::shared_ptr<detail::ManagerState>;
}  // namespace

ServerManager::ServerManager(ServerManagerOptions options)
    : state_(std::make_shared<detail::ManagerState>(std::move(options))) {}

ServerManager::~ServerManager() { stop(); }

void ServerManager::add_server(core::ServerSpec server) {
  if (server.address.empty()) throw std::invalid_argument("server address is empty");
  std::lock_guard lock(state_->mutex);
  auto it = find_address(state_->servers, server.address);
  if (it == state_->servers.end()) {
    state_->servers.push_back(std::move(server));
  } else if (*it != server) {
    *it = std::move(server);
  } else {
    return;
  }
  state_->publish_locked();
}

bool ServerManager::remove_server(std::string_view address) {
  std::lock_guard lock(state_->mutex);
  auto it = find_address(state_->servers, address);
  if (it == state_->servers.end()) return false;
  state_->servers.erase(it);
  state_->publish_locked();
  return true;
}

std::optional<ServerHandle> ServerManager::find_server() const {
  core::SnapshotPtr snapshot = state_->cluster.snapshot();
  // A one-attempt try-list picks exactly as the proxy does (tiers, eligibility, trial claims);
  // it gives back a trial it claimed when it goes, since nothing is attempted here.
  core::TryList tries(snapshot, *state_->clock, thread_rng(), 1);
  if (const core::Pick pick = tries.next()) return ServerHandle(snapshot, *pick.member);
  if (!state_->list_order) return std::nullopt;
  const ListOrderPick first = list_order_first(*snapshot, state_->clock->now());
  if (first.member == nullptr) return std::nullopt;
  return ServerHandle(std::move(snapshot), *first.member, first.offline);
}

void ServerManager::notify_failed_server(std::string_view address) {
  std::lock_guard lock(state_->mutex);
  // Under the lock the published snapshot is the list's: the current first cannot move between
  // this check and the rotation, so of concurrent reports about it exactly one rotates it.
  const core::SnapshotPtr snapshot = state_->cluster.snapshot();
  const ListOrderPick first = list_order_first(*snapshot, state_->clock->now());
  if (first.member == nullptr || first.member->spec.address != address) return;
  auto it = find_address(state_->servers, address);
  if (it == state_->servers.end()) return;
  std::rotate(it, std::next(it), state_->servers.end());
  state_->publish_locked();
}

std::size_t ServerManager::num_servers() const {
  std::lock_guard lock(state_->mutex);
  return state_->servers.size();
}

std::vector<core::ServerSpec> ServerManager::servers() const {
  std::lock_guard lock(state_->mutex);
  return state_->servers;
}

bool ServerManager::is_offline() const {
  if (state_->offline.load(std::memory_order_acquire)) return true;
  const core::SnapshotPtr snapshot = state_->cluster.snapshot();
  if (snapshot->size() == 0) return false;
  const ListOrderPick first = list_order_first(*snapshot, state_->clock->now());
  return first.member == nullptr || first.offline;
}

namespace {

asio::awaitable<bool> answers(Pinger& pinger, const core::ServerSpec& server) {
  try {
    co_return co_await pinger.ping(server);
  } catch (const std::exception&) {
    co_return false;
  }
}

bool eligible_now(const core::ClusterSnapshot& snapshot, const std::string& address,
                  core::Nanos now) {
  const core::Member* member = find_member(snapshot, address);
  return member != nullptr &&
         core::pickable(core::evaluate(member->spec, *member->state, snapshot.passive, now));
}

// Consul's rebalance: shuffle a copy, cycle it until its first server answers, then merge the
// result with what changed meanwhile (pings take time, and the lock is not held across them).
asio::awaitable<RebalanceResult> rebalance_servers(State state) {
  std::vector<core::ServerSpec> order;
  {
    std::lock_guard lock(state->mutex);
    order = state->servers;
    for (std::size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[state->rng.below(i)]);
    }
  }
  if (order.size() < 2) co_return RebalanceResult::kUnchanged;

  const core::SnapshotPtr snapshot = state->cluster.snapshot();
  bool found = false;
  for (std::size_t i = 0; i < order.size() && !found; ++i) {
    // A server the core rules out (offline, disabled, agent -1) would not be picked anyway.
    if (eligible_now(*snapshot, order.front().address, state->clock->now())) {
      found = co_await answers(*state->pinger, order.front());
    }
    if (!found) std::rotate(order.begin(), order.begin() + 1, order.end());
  }
  if (!found) {
    state->offline.store(true, std::memory_order_release);
    co_return RebalanceResult::kOffline;
  }
  state->offline.store(false, std::memory_order_release);

  std::lock_guard lock(state->mutex);
  auto& current = state->servers;
  if (!contains(current, order.front().address)) co_return RebalanceResult::kUnchanged;
  std::vector<core::ServerSpec> merged;
  merged.reserve(current.size());
  for (const auto& server : order) {  // Still present: new place, latest details.
    auto it = find_address(current, server.address);
    if (it != current.end()) merged.push_back(*it);
  }
  for (const auto& server : current) {  // Added during the pings: at the end.
    if (!contains(order, server.address)) merged.push_back(server);
  }
  current = std::move(merged);
  state->publish_locked();
  co_return RebalanceResult::kCommitted;
}

asio::awaitable<void> rebalance_periodically(State state,
                                             std::shared_ptr<detail::Periodic> periodic) {
  while (!periodic->stopped) {
    periodic->timer.expires_after(state->next_interval());
    co_await periodic->timer.async_wait(net::kNoThrow);
    if (periodic->stopped) break;
    co_await rebalance_servers(state);
  }
}

}  // namespace

asio::awaitable<RebalanceResult> ServerManager::rebalance() { return rebalance_servers(state_); }

void ServerManager::start(asio::any_io_executor executor) {
  std::shared_ptr<detail::Periodic> periodic;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->periodic) return;
    periodic = state_->periodic = std::make_shared<detail::Periodic>(executor);
  }
  // Outside the lock: the loop takes it to compute its interval. A stop() in between is posted to
  // the strand first, so the loop sees it before its first wait.
  asio::co_spawn(periodic->strand, rebalance_periodically(state_, periodic), asio::detached);
}

void ServerManager::stop() {
  std::shared_ptr<detail::Periodic> periodic;
  {
    std::lock_guard lock(state_->mutex);
    periodic = std::move(state_->periodic);
  }
  if (!periodic) return;
  asio::post(periodic->strand, [periodic] {
    periodic->stopped = true;
    periodic->timer.cancel();
  });
}

void ServerManager::report_failure(std::string_view address) {
  // Rotation first: once passive tracking takes the server offline, it is no longer the first.
  notify_failed_server(address);
  if (auto server = state_->cluster.state_of(address)) {
    core::record_connect_failure(*server, state_->options.passive, state_->clock->now());
  }
}

void ServerManager::report_success(std::string_view address, core::Nanos latency) {
  if (auto server = state_->cluster.state_of(address)) {
    core::record_success(*server, latency, state_->clock->now(), &state_->cluster.health_state());
  }
}

const core::Cluster& ServerManager::cluster() const { return state_->cluster; }
const core::Clock& ServerManager::clock() const { return *state_->clock; }
const ServerManagerOptions& ServerManager::options() const { return state_->options; }

}  // namespace fulcrum::client
