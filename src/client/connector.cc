#include "client/connector.h"

#include <asio/this_coro.hpp>
#include <atomic>
#include <stdexcept>

#include "client/tcp_connect.h"
#include "core/rng.h"
#include "core/try_list.h"

namespace fulcrum::client {

namespace {

// A connect may resume on another thread after any co_await, so it owns its generator.
uint64_t next_seed() {
  static const uint64_t base = core::seed_from_os();
  static std::atomic<uint64_t> counter{0};
  return base + 0x9E3779B97F4A7C15ull * counter.fetch_add(1, std::memory_order_relaxed);
}

core::FailureCause cause_of(std::error_code error) {
  if (error == asio::error::connection_refused) return core::FailureCause::kRefused;
  if (error == asio::error::timed_out) return core::FailureCause::kTimeout;
  if (error == asio::error::host_unreachable || error == asio::error::network_unreachable) {
    return core::FailureCause::kUnreachable;
  }
  if (error.category() == asio::error::get_netdb_category() ||
      error.category() == asio::error::get_addrinfo_category()) {
    return core::FailureCause::kNameLookup;
  }
  return core::FailureCause::kReset;
}

// When the try-list has nothing left: find_server(), which in list order hands out the first
// server even when every one is offline, so a connect keeps trying rather than failing at once.
std::string manager_choice(const ServerManager& manager) {
  std::optional<ServerHandle> server = manager.find_server();
  return server ? server->address() : std::string();
}

// An alternative attempt's target: the policy's next server not yet tried by this connect; when
// none is left, the manager's choice; the previous target when there is none either.
void choose_alternative(core::TryList& tries, const ServerManager& manager, core::Pick& pick,
                        std::string& address) {
  if (core::Pick next = tries.next()) {
    pick = next;
    address = pick.member->spec.address;
  } else if (std::string choice = manager_choice(manager); !choice.empty()) {
    address = std::move(choice);
  }
}

// The try-list reports for the server it handed out (and ends a trial it claimed); any other
// target (the manager's choice, or set by on_reconnect) is reported by address.
void report_failure(core::TryList& tries, ServerManager& manager, const core::Pick& pick,
                    const std::string& address, std::error_code error) {
  if (pick && pick.member->spec.address == address) {
    // Rotation first: once passive tracking takes the server offline, it is no longer the first.
    manager.notify_failed_server(address);
    tries.report_failure(pick, cause_of(error));
  } else {
    manager.report_failure(address);
  }
}

void report_success(core::TryList& tries, ServerManager& manager, const core::Pick& pick,
                    const std::string& address, core::Nanos latency) {
  if (pick && pick.member->spec.address == address) {
    tries.report_success(pick, latency);
  } else {
    manager.report_success(address, latency);
  }
}

}  // namespace

namespace detail {

asio::awaitable<ConnectOutcome> run_connect(std::shared_ptr<const ConnectPlan> plan) {
  const ConnectorOptions& options = plan->options;
  ServerManager& manager = *plan->manager;
  const core::Clock& clock = manager.clock();
  const int total = options.max_retries + options.max_retries_alternative;

  // The first attempt and each alternative one take the policy's next server not yet tried by
  // this connect, exactly as a proxied request's try-list does.
  core::FastRng rng(next_seed());
  core::TryList tries(manager.cluster().snapshot(), clock, rng,
                      static_cast<uint32_t>(1 + options.max_retries_alternative));
  core::Pick pick = tries.next();
  std::string address = pick ? pick.member->spec.address : manager_choice(manager);

  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  std::error_code error;
  // Like a transport's host property, an address on_reconnect sets stays the target of the
  // following attempts of its kind: same-address retries, or alternative ones.
  bool alternative_set_by_application = false;
  for (int attempt = 1; attempt <= total; ++attempt) {
    if (attempt > 1) {
      const bool alternative = attempt > options.max_retries;
      if (alternative && !alternative_set_by_application) {
        choose_alternative(tries, manager, pick, address);
      }
      ReconnectEvent event{.alternative = alternative,
                           .retries_left = total - attempt + 1,
                           .address = address,
                           .error = error};
      if (options.on_reconnect) options.on_reconnect(event);
      if (event.address != address) {
        alternative_set_by_application = alternative;
        address = std::move(event.address);
      }
    }
    if (address.empty()) {
      error = errc::no_server_available;
      continue;
    }
    const core::Nanos started = clock.now();
    error = co_await connect_with_timeout(socket, address, options.connect_timeout);
    if (!error) {
      report_success(tries, manager, pick, address, clock.now() - started);
      co_return ConnectOutcome{.connection = Connection{std::move(socket), address, attempt}};
    }
    report_failure(tries, manager, pick, address, error);
  }

  ConnectOutcome outcome{.error = errc::connection_lost,
                         .lost = {.attempts = total, .last_address = address, .last_error = error}};
  if (options.on_connection_lost) {
    options.on_connection_lost(outcome.lost);
    outcome.lost_handled = true;
  }
  std::error_code ignored;
  socket.close(ignored);
  outcome.connection.emplace(Connection{std::move(socket), std::move(address), total});
  co_return outcome;
}

}  // namespace detail

Connector::Connector(asio::any_io_executor executor, std::shared_ptr<ServerManager> manager,
                     ConnectorOptions options)
    : executor_(std::move(executor)) {
  if (!manager) throw std::invalid_argument("Connector needs a ServerManager");
  if (options.max_retries < 1) throw std::invalid_argument("max_retries must be at least 1");
  if (options.max_retries_alternative < 0) {
    throw std::invalid_argument("max_retries_alternative must not be negative");
  }
  plan_ = std::make_shared<const detail::ConnectPlan>(
      detail::ConnectPlan{std::move(manager), std::move(options)});
}

namespace {

// Holds its own reference to the plan: the Connector may be gone by the time this runs.
asio::awaitable<Connection> connect_or_throw(std::shared_ptr<const detail::ConnectPlan> plan) {
  detail::ConnectOutcome outcome = co_await detail::run_connect(std::move(plan));
  if (outcome.error && !outcome.lost_handled) throw ConnectionLost(std::move(outcome.lost));
  co_return std::move(*outcome.connection);
}

}  // namespace

asio::awaitable<Connection> Connector::connect() const { return connect_or_throw(plan_); }

}  // namespace fulcrum::client
