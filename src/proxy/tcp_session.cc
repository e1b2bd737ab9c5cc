// TCP mode: pick a server with the same try-list, retries and passive tracking as HTTP, then
// copy bytes both ways. Least connections counts these connections. Only connect failures
// (TLS handshake included) exist here: once connected, the bytes are the client's business, so
// retry_on and passive.count's other words do not apply.
#include <cstring>

#include "core/hash.h"
#include "core/try_list.h"
#include "net/connect_failure.h"
#include "net/deadline.h"
#include "net/endpoint.h"
#include "net/no_throw.h"
#include "proxy/sessions.h"
#include "proxy/tls_session.h"
#include "proxy/tunnel.h"
#include "proxy/worker.h"

namespace fulcrum::proxy {

asio::awaitable<void> run_tcp_session(Worker& worker,
                                      std::shared_ptr<generation::Generation> generation,
                                      generation::ListenerRuntime& listener,
                                      asio::ip::tcp::socket socket, asio::ip::tcp::endpoint peer) {
  std::optional<tls::Stream> stream = open_client_stream(std::move(socket), listener);
  if (!stream) co_return;
  tls::Stream& client = *stream;
  listener.connections.fetch_add(1, std::memory_order_relaxed);
  struct Registration {
    Worker& worker;
    generation::ListenerRuntime& listener;
    SessionHandle handle;
    ~Registration() {
      worker.unregister_session(handle);
      listener.connections.fetch_sub(1, std::memory_order_relaxed);
    }
  } registration{worker, listener, {&client.socket(), false, generation.get()}};
  worker.register_session(registration.handle);
  net::Deadline deadline(client.get_executor());
  std::error_code ec;
  // TLS termination: the handshake first, within client_header, before a server is chosen.
  if (client.is_tls() &&
      !co_await handshake_client(client, deadline, listener.config.timeouts.client_header,
                                 listener.config.name)) {
    client.socket().close(ec);
    co_return;
  }

  const std::size_t cluster_index = listener.tcp_cluster_index;
  generation::ClusterRuntime& cluster = generation->clusters()[cluster_index];
  // The source address as text, as the HTTP side hashes it (source_ip keys agree).
  char ip[64];
  const std::size_t ip_length = net::format_ip(peer.address(), ip);
  std::optional<uint64_t> key;
  if (ip_length != 0) key = core::hash_bytes(std::string_view(ip, ip_length));
  const core::SnapshotPtr snapshot = cluster.reader(worker.index()).current();
  core::TryList tries(snapshot, worker.clock(), worker.rng(), cluster.config.retries + 1, key);

  for (core::Pick pick = tries.next(); pick; pick = tries.next()) {
    const core::NetAddress& address = pick.member->spec.resolved;
    if (!address.resolved()) {
      tries.report_failure(pick, core::FailureCause::kNameLookup);
      continue;
    }
    asio::ip::tcp::socket connection(worker.io());
    const core::Nanos started = worker.clock().now();
    deadline.arm(connection, cluster.config.timeouts.connect);
    auto [connect_error] =
        co_await connection.async_connect(net::to_endpoint(address), net::kNoThrow);
    deadline.cancel();
    if (connect_error) {
      tries.report_failure(pick, net::classify_connect_error(connect_error, deadline.expired()));
      continue;
    }
    connection.set_option(asio::ip::tcp::no_delay(true), ec);
    std::optional<tls::Stream> upstream;
    if (cluster.tls) {
      upstream = co_await connect_tls(std::move(connection), *cluster.tls,
                                      pick.member->spec.address, cluster.config, deadline);
      if (!upstream) {
        tries.report_failure(
            pick, deadline.expired() ? core::FailureCause::kTimeout : core::FailureCause::kReset);
        continue;
      }
    } else {
      upstream.emplace(std::move(connection));
    }
    tries.report_success(pick, worker.clock().now() - started);
    core::LoadGuard load(snapshot, pick, core::LoadKind::kConnection);
    auto client_buffer = worker.buffers().acquire();
    auto server_buffer = worker.buffers().acquire();
    co_await tunnel(client, *upstream, client_buffer.span(), server_buffer.span(),
                    cluster.config.timeouts.idle);
    co_return;
  }
  // Nothing accepted: close without a byte, as a refused connection would look.
  client.socket().close(ec);
}

}  // namespace fulcrum::proxy
