#include "tls/memory_handshake.h"

#include <time.h>

namespace fulcrum::tls::testing {
namespace {

// CPU time of this thread: what the handshake costs, whatever else the machine is running.
std::chrono::nanoseconds thread_cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

bool progressing(SSL* ssl, int result) {
  if (result == 1) return true;
  const int error = SSL_get_error(ssl, result);
  return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

}  // namespace

MemoryHandshake handshake_in_memory(SSL* client, SSL* server) {
  BIO* client_end = nullptr;
  BIO* server_end = nullptr;
  BIO_new_bio_pair(&client_end, 0, &server_end, 0);
  SSL_set_bio(client, client_end, client_end);
  SSL_set_bio(server, server_end, server_end);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  MemoryHandshake outcome;
  bool client_done = false;
  bool server_done = false;
  // A handshake takes a handful of flights; the bound only stops a broken one.
  for (int round = 0; round < 32 && !(client_done && server_done); ++round) {
    if (!client_done) {
      const int result = SSL_do_handshake(client);
      if (!progressing(client, result)) return outcome;
      client_done = result == 1;
    }
    if (!server_done) {
      const auto start = thread_cpu_time();
      const int result = SSL_do_handshake(server);
      outcome.server_time += thread_cpu_time() - start;
      if (!progressing(server, result)) return outcome;
      server_done = result == 1;
    }
  }
  if (!(client_done && server_done)) return outcome;
  char byte;
  const int read = SSL_read(client, &byte, 1);  // Takes in the tickets; no data is pending.
  outcome.ok = read <= 0 && SSL_get_error(client, read) == SSL_ERROR_WANT_READ;
  return outcome;
}

}  // namespace fulcrum::tls::testing
