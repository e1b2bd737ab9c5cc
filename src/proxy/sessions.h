#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>

namespace fulcrum::generation {
class Generation;
struct ListenerRuntime;
}  // namespace fulcrum::generation

namespace fulcrum::proxy {

class Worker;

// `generation` is the configuration `listener` belongs to; the session keeps it alive.

/// Serves one HTTP/1.1 client connection until it closes, errs, or the worker drains. On a TLS
/// listener the session does the handshake first (see tls_session.h).
asio::awaitable<void> run_http_session(Worker& worker,
                                       std::shared_ptr<generation::Generation> generation,
                                       generation::ListenerRuntime& listener,
                                       asio::ip::tcp::socket client, asio::ip::tcp::endpoint peer);

/// Proxies one TCP connection to a server of the listener's cluster, both ways; on a TLS
/// listener, the decrypted bytes (TLS termination).
asio::awaitable<void> run_tcp_session(Worker& worker,
                                      std::shared_ptr<generation::Generation> generation,
                                      generation::ListenerRuntime& listener,
                                      asio::ip::tcp::socket client, asio::ip::tcp::endpoint peer);

}  // namespace fulcrum::proxy
