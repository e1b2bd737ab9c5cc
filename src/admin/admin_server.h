#pragma once

// The admin listener: one thread with its own io_context serving the JSON API, /metrics and the
// status page (docs/admin.md). It reads and changes the shared configuration generation only
// through atomics and the clusters' thread-safe control operations, so the workers never wait for
// it. It also samples every server every 500 ms (rates, timeline) and completes pending removals.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "admin/auth.h"
#include "admin/context.h"
#include "admin/history.h"
#include "admin/journal.h"
#include "admin/removals.h"
#include "config/config.h"
#include "core/clock.h"
#include "generation/generation.h"

namespace fulcrum::admin {

class AdminServer {
 public:
  AdminServer(generation::Generation& runtime, const config::AdminConfig& config,
              core::Nanos drain_timeout);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Binds the listener (throws std::system_error, e.g. address in use) and starts the thread.
  void start();
  /// Stops serving and joins the thread. Removals still draining are abandoned (logged).
  void stop();
  /// The bound port (useful with port 0); 0 before start().
  uint16_t port() const { return port_; }

  /// Run-time changes, re-applied to every new configuration (see journal.h).
  Journal& journal() { return journal_; }
  /// Enables POST /api/v1/reload. Call before start().
  void set_reload(std::function<std::string()> reload) { context_.reload = std::move(reload); }
  /// Serves `runtime` from now on. Admin thread only (reloads run there).
  void adopt(generation::Generation& runtime) { context_.runtime = &runtime; }
  /// Runs `fn` on the admin thread and waits for it; runs it here when the thread is not
  /// running. Serialises a reload with the API's changes.
  void run_on_admin_thread(const std::function<void()>& fn);

  /// Most concurrent admin connections; more are closed at once.
  static constexpr std::size_t kMaxConnections = 64;

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  asio::awaitable<void> tick();

  const config::AdminConfig config_;
  core::SteadyClock clock_;
  History history_;
  Removals removals_;
  Journal journal_;
  Context context_;
  Auth auth_;
  std::size_t connections_ = 0;  // Admin thread only.
  uint16_t port_ = 0;
  // After everything the coroutines use: destroying io_ destroys their frames first.
  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

}  // namespace fulcrum::admin
