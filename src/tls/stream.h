#pragma once

// A TCP connection that speaks TLS or not, behind one type, so the HTTP and TCP sessions are
// written once for both. It is an Asio AsyncReadStream and AsyncWriteStream (asio::async_read,
// async_write and coroutines work unchanged), the TLS case being Asio's ssl::stream over the
// socket. Timeouts stay where they are: cancelling socket() aborts any pending operation,
// the handshake included.

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/stream.hpp>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <variant>

#include "tls/openssl.h"

namespace fulcrum::tls {

class ServerTlsContext;
class ClientTlsContext;

class Stream {
 public:
  using Socket = asio::ip::tcp::socket;
  using TlsSocket = asio::ssl::stream<Socket>;
  using executor_type = Socket::executor_type;
  enum class Role : uint8_t { kServer, kClient };

  /// Plain TCP.
  explicit Stream(Socket socket) : impl_(std::in_place_type<Socket>, std::move(socket)) {}
  /// TLS over `socket` with `ssl`; the handshake is still to be done (async_handshake).
  Stream(Socket socket, SslPtr ssl, Role role);
  /// The server side of a client connection accepted on a TLS listener.
  static Stream accept(Socket socket, const ServerTlsContext& context);
  /// The client side of a connection to the server `host` (name or IP, no port).
  static Stream connect(Socket socket, const ClientTlsContext& context, std::string_view host);

  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  executor_type get_executor() { return socket().get_executor(); }
  /// The TCP connection underneath: options, endpoints, cancel (timeouts) and close.
  Socket& socket();
  bool is_tls() const { return std::holds_alternative<TlsSocket>(impl_); }
  /// nullptr for plain TCP.
  SSL* ssl();
  /// The protocol ALPN settled on; empty when none (or plain TCP).
  std::string_view alpn();
  /// Whether the handshake resumed an earlier session (a ticket) instead of a full one.
  bool resumed();

  /// TLS: the handshake, as the role given at construction. Plain TCP: completes at once with
  /// no error, so callers need not tell the two apart.
  template <typename Token>
  auto async_handshake(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) {
          if (auto* tls = std::get_if<TlsSocket>(&impl_)) {
            tls->async_handshake(role_ == Role::kServer ? asio::ssl::stream_base::server
                                                        : asio::ssl::stream_base::client,
                                 std::move(handler));
          } else {
            asio::post(get_executor(),
                       [h = std::move(handler)]() mutable { std::move(h)(std::error_code()); });
          }
        },
        token);
  }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (auto* tls = std::get_if<TlsSocket>(&impl_)) {
            tls->async_read_some(b, std::move(handler));
          } else {
            std::get<Socket>(impl_).async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  /// TLS writes one record from the first non-empty buffer per call; asio::async_write loops.
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (auto* tls = std::get_if<TlsSocket>(&impl_)) {
            tls->async_write_some(b, std::move(handler));
          } else {
            std::get<Socket>(impl_).async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  /// Ends our sending direction and leaves reading open (half-close): plain TCP sends a FIN,
  /// TLS sends close_notify without waiting for the peer's (a read in progress continues and
  /// later sees the peer's data and its own close_notify as EOF). May run alongside a read.
  template <typename Token>
  auto async_shutdown_send(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) {
          auto* tls = std::get_if<TlsSocket>(&impl_);
          if (tls == nullptr) {
            std::error_code ec;
            std::get<Socket>(impl_).shutdown(Socket::shutdown_send, ec);
            asio::post(get_executor(),
                       [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
            return;
          }
          // Asio's shutdown waits for the peer's close_notify, reading, which would collide with
          // a read in progress. Marked as received for the moment Asio's operation starts (it calls
          // SSL_shutdown synchronously), SSL_shutdown only queues our close_notify and succeeds,
          // and the operation just writes it out; the mark is then taken back so that reads go on.
          SSL* ssl = tls->native_handle();
          const int before = SSL_get_shutdown(ssl);
          SSL_set_shutdown(ssl, before | SSL_RECEIVED_SHUTDOWN);
          tls->async_shutdown(std::move(handler));
          SSL_set_shutdown(ssl, (SSL_get_shutdown(ssl) & ~SSL_RECEIVED_SHUTDOWN) |
                                    (before & SSL_RECEIVED_SHUTDOWN));
        },
        token);
  }

 private:
  std::variant<Socket, TlsSocket> impl_;
  Role role_ = Role::kServer;
};

}  // namespace fulcrum::tls
