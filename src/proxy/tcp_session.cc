// TCP mode: pick a server with the same try-list, retries and passive tracking as HTTP, then
// copy bytes both ways. Least connections counts these connections.
#include <cstring>

#include "core/hash.h"
#include "proxy/address_resolution.h"
#include "proxy/session_io.h"
#include "proxy/sessions.h"
#include "proxy/tunnel.h"
#include "proxy/worker.h"

namespace fulcrum::proxy {

asio::awaitable<void> run_tcp_session(Worker& worker, ListenerRuntime& listener,
                                      asio::ip::tcp::socket client) {
  listener.connections.fetch_add(1, std::memory_order_relaxed);
  auto registration = worker.register_session(&client);
  registration->idle = false;
  struct Unregister {
    Worker& worker;
    ListenerRuntime& listener;
    Worker::SessionList::iterator it;
    ~Unregister() {
      worker.unregister_session(it);
      listener.connections.fetch_sub(1, std::memory_order_relaxed);
    }
  } unregister{worker, listener, registration};

  const std::size_t cluster_index = listener.tcp_cluster_index;
  const ClusterRuntime& cluster = worker.runtime().clusters()[cluster_index];
  std::error_code ec;
  const auto remote = client.remote_endpoint(ec);
  std::optional<uint64_t> key;
  if (!ec) {
    const auto bytes = remote.address().to_string();
    key = core::hash_bytes(bytes);
  }
  const core::SnapshotPtr snapshot = worker.reader(cluster_index).current();
  core::TryList tries(snapshot, worker.clock(), worker.rng(), cluster.config.retries + 1, key);
  Deadline deadline(client.get_executor());

  for (core::Pick pick = tries.next(); pick; pick = tries.next()) {
    const core::NetAddress& address = pick.member->spec.resolved;
    if (!address.resolved()) {
      tries.report_failure(pick, core::FailureCause::kNameLookup);
      continue;
    }
    asio::ip::tcp::socket upstream(worker.io());
    const core::Nanos started = worker.clock().now();
    deadline.arm(upstream, cluster.config.timeouts.connect);
    auto [connect_error] = co_await upstream.async_connect(to_endpoint(address), kNoThrow);
    deadline.cancel();
    if (connect_error) {
      tries.report_failure(pick, classify_connect_error(connect_error, deadline.expired()));
      continue;
    }
    tries.report_success(pick, worker.clock().now() - started);
    upstream.set_option(asio::ip::tcp::no_delay(true), ec);
    core::LoadGuard load(snapshot, pick, core::LoadKind::kConnection);
    auto client_buffer = worker.buffers().acquire();
    auto server_buffer = worker.buffers().acquire();
    co_await tunnel(client, upstream, client_buffer.span(), server_buffer.span(),
                    cluster.config.timeouts.idle);
    co_return;
  }
  // Nothing accepted: close without a byte, as a refused connection would look.
  client.close(ec);
}

}  // namespace fulcrum::proxy
