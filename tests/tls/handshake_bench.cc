// What a TLS handshake costs the server, full and resumed (ticket), with an ECDSA P-256 and an
// RSA 2048 certificate, through ServerTlsContext. In memory (no sockets), so the numbers are
// CPU only. server_us is the server's share in CPU time; the CPU column covers both ends.
// Run: build/.../bin/fulcrum-bench-tls-handshake

#include <benchmark/benchmark.h>

#include "tls/memory_handshake.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

struct Setup {
  explicit Setup(testing::KeyType key_type) {
    const auto ca = testing::make_ca("Bench CA", key_type);
    testing::CertSpec spec;
    spec.dns = {"bench.test"};
    spec.key_type = key_type;
    const auto files = testing::write_pem(dir, "server", testing::make_leaf(ca, spec));
    config::TlsListenerConfig config;
    config.certificates = {{files.cert, files.key}};
    server = std::make_unique<ServerTlsContext>(config);
    client.reset(SSL_CTX_new(TLS_client_method()));
  }
  testing::TempDir dir;
  std::unique_ptr<ServerTlsContext> server;
  SslCtxPtr client;
};

void handshakes(benchmark::State& state, testing::KeyType key_type, bool resume) {
  Setup setup(key_type);
  SslSessionPtr session;
  if (resume) {
    SslPtr client(SSL_new(setup.client.get()));
    SslPtr server = setup.server->new_session();
    testing::handshake_in_memory(client.get(), server.get());
    session.reset(SSL_get1_session(client.get()));
    testing::end_cleanly(client.get());
  }
  std::chrono::nanoseconds server_time{0};
  int64_t resumed = 0;
  for (auto _ : state) {
    SslPtr client(SSL_new(setup.client.get()));
    SSL_set_tlsext_host_name(client.get(), "bench.test");
    if (session) SSL_set_session(client.get(), session.get());
    SslPtr server = setup.server->new_session();
    const auto outcome = testing::handshake_in_memory(client.get(), server.get());
    if (!outcome.ok) state.SkipWithError("handshake failed");
    server_time += outcome.server_time;
    resumed += SSL_session_reused(server.get());
    testing::end_cleanly(client.get());
  }
  state.counters["server_us"] = benchmark::Counter(
      static_cast<double>(server_time.count()) / 1000.0 / static_cast<double>(state.iterations()));
  state.counters["resumed"] =
      benchmark::Counter(static_cast<double>(resumed) / static_cast<double>(state.iterations()));
}

void BM_FullHandshakeEcdsa(benchmark::State& s) { handshakes(s, testing::KeyType::kEcP256, false); }
void BM_ResumedHandshakeEcdsa(benchmark::State& s) {
  handshakes(s, testing::KeyType::kEcP256, true);
}
void BM_FullHandshakeRsa2048(benchmark::State& s) {
  handshakes(s, testing::KeyType::kRsa2048, false);
}
void BM_ResumedHandshakeRsa2048(benchmark::State& s) {
  handshakes(s, testing::KeyType::kRsa2048, true);
}

BENCHMARK(BM_FullHandshakeEcdsa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ResumedHandshakeEcdsa)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullHandshakeRsa2048)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ResumedHandshakeRsa2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fulcrum::tls

BENCHMARK_MAIN();
