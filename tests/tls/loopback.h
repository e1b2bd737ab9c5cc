#pragma once

// Both ends of real TLS connections over 127.0.0.1 in one process: a listening socket on port 0,
// the server side and the client side run as coroutines on one io_context, every wait bounded by
// a deadline.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tls/stream.h"

namespace fulcrum::tls::testing {

struct Connection {
  std::optional<Stream> server;
  std::optional<Stream> client;
  std::error_code server_error;
  std::error_code client_error;
  bool server_done = false;
  bool client_done = false;

  bool ok() const { return !server_error && !client_error; }
};

class Loopback {
 public:
  using Socket = asio::ip::tcp::socket;
  using MakeStream = std::function<Stream(Socket)>;
  static constexpr std::chrono::seconds kDeadline{10};

  Loopback();

  asio::io_context& io() { return io_; }

  /// Connects a client to the listener and runs both handshakes to their end. `server` and
  /// `client` wrap the accepted and the connecting socket (Stream::accept / Stream::connect, or
  /// a Stream over an SSL object set up by the test).
  std::unique_ptr<Connection> connect(const MakeStream& server, const MakeStream& client);

  /// Writes `text` on `from` and reads as many bytes on `to`; what arrived, or "error: ...".
  std::string send(Stream& from, Stream& to, const std::string& text);

  /// Runs the io_context until `done()` holds; false when kDeadline passed first.
  bool run_until(const std::function<bool()>& done);

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
};

/// A client SSL_CTX for tests that need settings ClientTlsContext does not offer (a maximum
/// version, other ALPN lists, no verification).
struct ClientOptions {
  int max_version = 0;  ///< 0: any; TLS1_2_VERSION to offer TLS 1.2 only.
  std::vector<std::string> alpn;
};
SslCtxPtr make_client_context(const ClientOptions& options);

/// An SSL object from `context` for the client side, with `server_name` as SNI when not empty
/// and `session` to resume when not null.
SslPtr client_session(SSL_CTX* context, const std::string& server_name,
                      SSL_SESSION* session = nullptr);

/// The common name of the certificate the client side of `connection` received.
std::string peer_common_name(Stream& client);

}  // namespace fulcrum::tls::testing
