#pragma once

// The retrying connector (after kbmMW's client transport) on the ServerManager: connect to the
// manager's current server with `max_retries` attempts, then `max_retries_alternative` attempts at
// alternative servers; before each reconnect `on_reconnect` may redirect the next attempt; when
// every attempt failed, `on_connection_lost` is called or the connect fails with
// errc::connection_lost / ConnectionLost. Every attempt's outcome feeds the manager (rotation)
// and passive tracking.

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "client/errors.h"
#include "client/server_manager.h"

namespace fulcrum::client {

/// What on_reconnect is told before each attempt after the first.
struct ReconnectEvent {
  bool alternative = false;  ///< The attempt is one of the max_retries_alternative ones.
  int retries_left = 0;      ///< Attempts left, this one included: counts down to 1.
  /// Where the attempt will go: the previous target for a retry; for an alternative attempt,
  /// the manager's next eligible server not yet tried by this connect, else find_server()'s,
  /// else the previous target. Assign to send the attempt elsewhere: like a transport's host
  /// property, the new target stays for the following attempts of the same kind (retries, or
  /// alternative attempts) until assigned again.
  std::string address;
  std::error_code error;  ///< Why the previous attempt failed.
};

struct ConnectorOptions {
  /// Attempts at the manager's current server, the first connection attempt included (>= 1).
  int max_retries = 3;
  /// Then attempts at alternative servers (>= 0).
  int max_retries_alternative = 2;
  /// Per attempt, name resolution included.
  core::Nanos connect_timeout{std::chrono::seconds(5)};
  /// Called before every attempt but the first. Called from the connecting coroutine: must be
  /// thread-safe when connects run on several threads.
  std::function<void(ReconnectEvent&)> on_reconnect;
  /// Called once every attempt has failed. When set, connect() returns an unconnected
  /// Connection instead of throwing; the error-code forms report errc::connection_lost either way.
  std::function<void(const ConnectionLostInfo&)> on_connection_lost;
};

struct Connection {
  asio::ip::tcp::socket socket;
  std::string address;  ///< The target it reached (or the last one tried).
  int attempts = 0;     ///< Attempts made, the successful one included.

  bool connected() const { return socket.is_open(); }
};

namespace detail {

struct ConnectPlan {
  std::shared_ptr<ServerManager> manager;
  ConnectorOptions options;
};

struct ConnectOutcome {
  std::error_code error;
  std::optional<Connection> connection;  ///< Always set unless the coroutine threw.
  ConnectionLostInfo lost;
  bool lost_handled = false;  ///< on_connection_lost was called.
};

/// Runs the attempts on the awaiting coroutine's executor.
asio::awaitable<ConnectOutcome> run_connect(std::shared_ptr<const ConnectPlan> plan);

}  // namespace detail

/// Immutable after construction: several connects may run at once, from any threads.
class Connector {
 public:
  /// Throws std::invalid_argument for a null manager, max_retries < 1 or
  /// max_retries_alternative < 0.
  Connector(asio::any_io_executor executor, std::shared_ptr<ServerManager> manager,
            ConnectorOptions options = {});

  /// Coroutine form, on the awaiting coroutine's executor. Throws ConnectionLost when every
  /// attempt failed and no on_connection_lost is set; with one set, returns an unconnected
  /// Connection (connected() false) after calling it. Exceptions from the callbacks propagate.
  asio::awaitable<Connection> connect() const;

  /// Any Asio completion token, with signature void(std::error_code, Connection): a callback,
  /// asio::use_awaitable (throws std::system_error), as_tuple(use_awaitable), use_future...
  /// Runs on the connector's executor; the handler runs on its associated executor. The error
  /// is errc::connection_lost when every attempt failed, whatever on_connection_lost does.
  /// Exceptions from the callbacks are rethrown from the executor's run().
  template <typename CompletionToken>
  auto async_connect(CompletionToken&& token) const {
    return asio::async_initiate<CompletionToken, void(std::error_code, Connection)>(
        [](auto handler, asio::any_io_executor executor,
           std::shared_ptr<const detail::ConnectPlan> plan) {
          auto handler_executor = asio::get_associated_executor(handler, executor);
          asio::co_spawn(
              executor, detail::run_connect(std::move(plan)),
              asio::bind_executor(handler_executor, [handler = std::move(handler)](
                                                        std::exception_ptr failure,
                                                        detail::ConnectOutcome outcome) mutable {
                if (failure) std::rethrow_exception(failure);
                std::move(handler)(outcome.error, std::move(*outcome.connection));
              }));
        },
        token, executor_, plan_);
  }

  const ConnectorOptions& options() const { return plan_->options; }
  const std::shared_ptr<ServerManager>& manager() const { return plan_->manager; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<const detail::ConnectPlan> plan_;
};

}  // namespace fulcrum::client
