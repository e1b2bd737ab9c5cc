#pragma once

// A TLS handshake between two SSL objects through an in-memory BIO pair, on the calling thread:
// no sockets, so many handshakes per second on many threads (concurrency test, benchmark).

#include <chrono>

#include "tls/openssl.h"

namespace fulcrum::tls::testing {

struct MemoryHandshake {
  bool ok = false;
  std::chrono::nanoseconds server_time{0};  ///< CPU time of the server's handshake calls.
};

/// Runs the handshake to its end and lets the client take in what the server sends after it
/// (TLS 1.3 session tickets), so SSL_get1_session(client) is resumable afterwards.
MemoryHandshake handshake_in_memory(SSL* client, SSL* server);

/// Marks the connection as closed properly (as a close_notify exchange would). OpenSSL makes
/// the session of a connection freed without it unresumable, as TLS requires.
inline void end_cleanly(SSL* ssl) {
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

}  // namespace fulcrum::tls::testing
