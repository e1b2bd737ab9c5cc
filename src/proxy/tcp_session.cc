// TCP mode: pick a server with the same request life cycle (try-list, retries, passive tracking)
// as HTTP, then copy bytes both ways. Least connections counts these connections. Only connect
// failures (TLS handshake included) exist here: once connected, the bytes are the client's
// business, so retry_on and passive.count's other words do not apply.
#include <cstring>

#include "core/hash.h"
#include "net/connect.h"
#include "net/deadline.h"
#include "net/endpoint.h"
#include "proxy/request_life_cycle.h"
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
  RequestLifeCycle life(cluster, worker, key, false, Traffic::kTcpConnection);
  while (life.next_attempt()) {
    net::Connected connected =
        co_await net::connect(worker.io().get_executor(), life.connect_target(), deadline);
    if (!connected) {
      life.connect_failed(connected.failure);
      continue;
    }
    life.connected();
    auto client_buffer = worker.buffers().acquire();
    auto server_buffer = worker.buffers().acquire();
    co_await tunnel(client, *connected.stream, client_buffer.span(), server_buffer.span(),
                    cluster.config.timeouts.idle);
    co_return;
  }
  // Nothing accepted: close without a byte, as a refused connection would look.
  client.socket().close(ec);
}

}  // namespace fulcrum::proxy
