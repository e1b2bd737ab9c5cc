// ClientTlsContext against real loopback servers: the chain and the server's name (or IP
// address) are verified by default, and each failure says why.

#include "tls/client_context.h"

#include <gtest/gtest.h>

#include "tls/loopback.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

using testing::Loopback;

class ClientContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::make_ca("Test CA");
    ca_file_ = dir_.write("ca.pem", testing::to_pem(ca_.cert.get()));
    testing::CertSpec spec;
    spec.common_name = "backend";
    spec.dns = {"backend.test"};
    spec.ips = {"127.0.0.1"};
    server_cert_ = testing::make_leaf(ca_, spec);
  }

  config::TlsClusterConfig cluster_config() const {
    config::TlsClusterConfig c;
    c.enabled = true;
    c.ca_file = ca_file_;
    return c;
  }

  // A server presenting `pair` as is (ServerTlsContext would refuse an expired one).
  static SslCtxPtr raw_server(const testing::KeyAndCert& pair) {
    SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(context.get(), pair.cert.get());
    SSL_CTX_use_PrivateKey(context.get(), pair.key.get());
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_select_cb(
        context.get(),
        [](SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
           unsigned int in_length, void*) {
          unsigned char* selected = nullptr;
          if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof kHttp11, in,
                                    in_length) != OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;
          }
          *out = selected;
          return SSL_TLSEXT_ERR_OK;
        },
        nullptr);
    return context;
  }

  struct Outcome {
    bool ok = false;
    std::string error;        // describe_handshake_error on the client side
    std::string server_name;  // SNI the server received; empty for none
    std::string alpn;
  };

  Outcome connect(const ClientTlsContext& client, const std::string& host,
                  const testing::KeyAndCert* served = nullptr) {
    const SslCtxPtr server = raw_server(served != nullptr ? *served : server_cert_);
    auto c = loopback_.connect(
        [&](Loopback::Socket s) {
          return Stream(std::move(s), SslPtr(SSL_new(server.get())), Stream::Role::kServer);
        },
        [&](Loopback::Socket s) { return Stream::connect(std::move(s), client, host); });
    Outcome outcome;
    outcome.ok = c->ok();
    if (c->client_error)
      outcome.error = describe_handshake_error(c->client->ssl(), c->client_error);
    if (c->server) {
      const char* name = SSL_get_servername(c->server->ssl(), TLSEXT_NAMETYPE_host_name);
      outcome.server_name = name != nullptr ? name : "";
    }
    if (c->ok()) outcome.alpn = c->client->alpn();
    return outcome;
  }

  testing::TempDir dir_;
  testing::KeyAndCert ca_;
  std::string ca_file_;
  testing::KeyAndCert server_cert_;
  Loopback loopback_;
};

TEST_F(ClientContextTest, AcceptsTheRightCaAndNameAndSendsItAsSni) {
  const ClientTlsContext client(cluster_config());
  const Outcome outcome = connect(client, "backend.test");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.server_name, "backend.test");
  EXPECT_EQ(outcome.alpn, "http/1.1");
}

TEST_F(ClientContextTest, RejectsAWrongName) {
  const ClientTlsContext client(cluster_config());
  const Outcome outcome = connect(client, "other.test");
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "certificate verify failed: hostname mismatch");
}

TEST_F(ClientContextTest, RejectsAnUnknownCa) {
  const auto other_ca = testing::make_ca("Other CA");
  config::TlsClusterConfig config = cluster_config();
  config.ca_file = dir_.write("other-ca.pem", testing::to_pem(other_ca.cert.get()));
  const ClientTlsContext client(config);
  const Outcome outcome = connect(client, "backend.test");
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "certificate verify failed: unable to get local issuer certificate");
}

TEST_F(ClientContextTest, RejectsAnExpiredCertificate) {
  testing::CertSpec spec;
  spec.common_name = "expired";
  spec.dns = {"backend.test"};
  spec.valid_from = std::chrono::hours(-48);
  spec.valid_until = std::chrono::hours(-24);
  const auto expired = testing::make_leaf(ca_, spec);
  const ClientTlsContext client(cluster_config());
  const Outcome outcome = connect(client, "backend.test", &expired);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "certificate verify failed: certificate has expired");
}

TEST_F(ClientContextTest, AnIpAddressIsCheckedAgainstIpSansWithoutSni) {
  const ClientTlsContext client(cluster_config());
  const Outcome good = connect(client, "127.0.0.1");
  EXPECT_TRUE(good.ok) << good.error;
  EXPECT_EQ(good.server_name, "");  // RFC 6066: no IP literals in SNI.

  const Outcome bad = connect(client, "127.0.0.2");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error, "certificate verify failed: IP address mismatch");
}

TEST_F(ClientContextTest, ConfiguredSniReplacesTheServerAddress) {
  config::TlsClusterConfig config = cluster_config();
  config.sni = "backend.test";
  const ClientTlsContext client(config);
  const Outcome outcome = connect(client, "10.1.2.3");  // Not in the certificate; sni is.
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.server_name, "backend.test");
}

TEST_F(ClientContextTest, VerifyOffAcceptsAnyCertificate) {
  const auto other_ca = testing::make_ca("Other CA");
  config::TlsClusterConfig config = cluster_config();
  config.verify = false;
  config.ca_file = dir_.write("other-ca.pem", testing::to_pem(other_ca.cert.get()));
  const ClientTlsContext client(config);
  const Outcome outcome = connect(client, "wrong.test");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.server_name, "wrong.test");
}

TEST_F(ClientContextTest, NoAlpnWhenTheClusterOffersNone) {
  config::TlsClusterConfig config = cluster_config();
  config.alpn.clear();
  const ClientTlsContext client(config);
  const Outcome outcome = connect(client, "backend.test");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.alpn, "");
}

TEST_F(ClientContextTest, AnUnusableCaFileIsNamed) {
  config::TlsClusterConfig config = cluster_config();
  config.ca_file = dir_.write("garbage.pem", "not a certificate\n");
  try {
    const ClientTlsContext client(config);
    ADD_FAILURE() << "a CA file without certificates was accepted";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.pem: cannot load CA certificates"),
              std::string::npos)
        << e.what();
  }
}

TEST(HostOf, StripsPortAndBrackets) {
  EXPECT_EQ(host_of("backend.test:443"), "backend.test");
  EXPECT_EQ(host_of("10.0.0.1:8443"), "10.0.0.1");
  EXPECT_EQ(host_of("[::1]:443"), "::1");
  EXPECT_TRUE(is_ip_address("::1"));
  EXPECT_TRUE(is_ip_address("10.0.0.1"));
  EXPECT_FALSE(is_ip_address("backend.test"));
  EXPECT_FALSE(is_ip_address("10.0.0"));
}

}  // namespace
}  // namespace fulcrum::tls
