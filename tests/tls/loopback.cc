#include "tls/loopback.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <stdexcept>

#include "net/no_throw.h"
#include "tls/test_certs.h"

namespace fulcrum::tls::testing {
namespace {}  // namespace

Loopback::Loopback()
    : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

bool Loopback::run_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  io_.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_.run_one_for(std::chrono::milliseconds(100));
    if (io_.stopped()) io_.restart();
  }
  return true;
}

std::unique_ptr<Connection> Loopback::connect(const MakeStream& server, const MakeStream& client) {
  auto connection = std::make_unique<Connection>();
  Connection* c = connection.get();
  asio::co_spawn(
      io_,
      [this, c, server]() -> asio::awaitable<void> {
        auto [accept_error, socket] = co_await acceptor_.async_accept(net::kNoThrow);
        if (accept_error) {
          c->server_error = accept_error;
        } else {
          c->server.emplace(server(std::move(socket)));
          auto [ec] = co_await c->server->async_handshake(net::kNoThrow);
          c->server_error = ec;
        }
        c->server_done = true;
      },
      asio::detached);
  asio::co_spawn(
      io_,
      [this, c, client]() -> asio::awaitable<void> {
        Socket socket(io_);
        auto [connect_error] =
            co_await socket.async_connect(acceptor_.local_endpoint(), net::kNoThrow);
        if (connect_error) {
          c->client_error = connect_error;
        } else {
          c->client.emplace(client(std::move(socket)));
          auto [ec] = co_await c->client->async_handshake(net::kNoThrow);
          c->client_error = ec;
        }
        c->client_done = true;
      },
      asio::detached);
  if (!run_until([c] { return c->server_done && c->client_done; })) {
    throw std::runtime_error("handshake did not finish within the deadline");
  }
  return connection;
}

std::string Loopback::send(Stream& from, Stream& to, const std::string& text) {
  std::string received(text.size(), '\0');
  std::error_code write_error;
  std::error_code read_error;
  bool written = false;
  bool read = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await asio::async_write(from, asio::buffer(text), net::kNoThrow);
        write_error = ec;
        written = true;
      },
      asio::detached);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await asio::async_read(to, asio::buffer(received), net::kNoThrow);
        read_error = ec;
        read = true;
      },
      asio::detached);
  if (!run_until([&] { return written && read; })) return "error: timed out";
  if (write_error) return "error: " + write_error.message();
  if (read_error) return "error: " + read_error.message();
  return received;
}

SslCtxPtr make_client_context(const ClientOptions& options) {
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) throw std::runtime_error("SSL_CTX_new: " + take_openssl_errors());
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(context.get(), options.max_version);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  if (!options.alpn.empty()) {
    const auto wire = alpn_wire_format(options.alpn);
    SSL_CTX_set_alpn_protos(context.get(), wire.data(), static_cast<unsigned int>(wire.size()));
  }
  return context;
}

SslPtr client_session(SSL_CTX* context, const std::string& server_name, SSL_SESSION* session) {
  SslPtr ssl(SSL_new(context));
  if (!server_name.empty()) SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());
  if (session != nullptr) SSL_set_session(ssl.get(), session);
  return ssl;
}

std::string peer_common_name(Stream& client) {
  X509* cert = SSL_get0_peer_certificate(client.ssl());
  return cert == nullptr ? "" : common_name(cert);
}

}  // namespace fulcrum::tls::testing
