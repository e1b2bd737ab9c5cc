// ServerTlsContext shared by several threads, as the workers share it: handshakes (full and
// resumed) run while another thread reloads the certificates and rotates the ticket keys.
// Runs under TSan too.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tls/memory_handshake.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

TEST(ServerContextConcurrency, HandshakesSucceedWhileReloadingAndRotating) {
  testing::TempDir dir;
  const auto ca = testing::make_ca("Test CA");
  testing::CertSpec spec;
  spec.dns = {"server.test"};
  const auto files = testing::write_pem(dir, "server", testing::make_leaf(ca, spec));
  config::TlsListenerConfig config;
  config.certificates = {{files.cert, files.key}};
  ServerTlsContext server(config);

  constexpr int kThreads = 3;
  constexpr int kHandshakesPerThread = 60;
  std::atomic<int> failures{0};
  std::atomic<int> resumed{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      SslCtxPtr client_context(SSL_CTX_new(TLS_client_method()));
      SslSessionPtr session;
      for (int i = 0; i < kHandshakesPerThread; ++i) {
        SslPtr client(SSL_new(client_context.get()));
        SSL_set_tlsext_host_name(client.get(), "server.test");
        if (session) SSL_set_session(client.get(), session.get());
        SslPtr accepted = server.new_session();
        if (!testing::handshake_in_memory(client.get(), accepted.get()).ok) {
          failures.fetch_add(1);
          continue;
        }
        if (SSL_session_reused(accepted.get()) == 1) resumed.fetch_add(1);
        // Every other handshake starts fresh, so full and resumed ones interleave.
        session.reset(i % 2 == 0 ? SSL_get1_session(client.get()) : nullptr);
        testing::end_cleanly(client.get());
      }
      finished.fetch_add(1);
    });
  }
  int reloads = 0;
  while (finished.load() < kThreads) {
    server.reload();
    // Rotating on every reload would outpace the handshakes and leave no ticket to resume.
    if (++reloads % 8 == 0) server.rotate_ticket_keys();
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reloads, 0);
  // Rotations race with handshakes, so some tickets meet a dropped key; most resume.
  EXPECT_GT(resumed.load(), 0);
}

}  // namespace
}  // namespace fulcrum::tls
