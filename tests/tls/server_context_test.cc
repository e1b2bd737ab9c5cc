// ServerTlsContext over real loopback connections: certificate selection by SNI, minimum
// version, ALPN, and reload while a connection is open.

#include "tls/server_context.h"

#include <gtest/gtest.h>

#include "tls/loopback.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

using testing::ClientOptions;
using testing::Loopback;
using testing::make_client_context;
using testing::peer_common_name;

class ServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::make_ca("Test CA");
    // The default (first) certificate, a wildcard, and an exact name under the wildcard listed
    // after it: exact beats wildcard whatever the order.
    default_ = issue("default", {"default.test"});
    wildcard_ = issue("wildcard", {"*.example.com"});
    exact_ = issue("exact", {"a.example.com", "A2.Example.com"});
  }

  config::TlsCertificateFiles issue(const std::string& name, std::vector<std::string> dns) {
    testing::CertSpec spec;
    spec.common_name = name;
    spec.dns = std::move(dns);
    const auto files = testing::write_pem(dir_, name, testing::make_leaf(ca_, spec));
    return {files.cert, files.key};
  }

  config::TlsListenerConfig config() const {
    config::TlsListenerConfig c;
    c.enabled = true;
    c.certificates = {default_, wildcard_, exact_};
    c.alpn = {"http/1.1"};
    return c;
  }

  // The common name of the certificate a client asking for `server_name` gets.
  std::string served_for(ServerTlsContext& server, const std::string& server_name) {
    const SslCtxPtr client = make_client_context({});
    auto c = loopback_.connect(
        [&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
        [&](Loopback::Socket s) {
          return Stream(std::move(s), testing::client_session(client.get(), server_name),
                        Stream::Role::kClient);
        });
    if (!c->ok()) return "handshake failed: " + c->client_error.message();
    return peer_common_name(*c->client);
  }

  testing::TempDir dir_;
  testing::KeyAndCert ca_;
  config::TlsCertificateFiles default_, wildcard_, exact_;
  Loopback loopback_;
};

TEST_F(ServerContextTest, SniSelectsExactThenWildcardThenDefault) {
  ServerTlsContext server(config());
  EXPECT_EQ(served_for(server, "a.example.com"), "exact");
  EXPECT_EQ(served_for(server, "A.EXAMPLE.COM"), "exact");  // Names compare case-insensitively.
  EXPECT_EQ(served_for(server, "a2.example.com"), "exact");
  EXPECT_EQ(served_for(server, "b.example.com"), "wildcard");
  EXPECT_EQ(served_for(server, "default.test"), "default");
  EXPECT_EQ(served_for(server, "unknown.test"), "default");
  EXPECT_EQ(served_for(server, ""), "default");  // No SNI at all.
  // A wildcard covers one label only.
  EXPECT_EQ(served_for(server, "x.b.example.com"), "default");
  EXPECT_EQ(served_for(server, "example.com"), "default");
}

TEST_F(ServerContextTest, EarlierCertificateWinsASharedName) {
  const auto second = issue("second", {"shared.test"});
  const auto first = issue("first", {"shared.test"});
  config::TlsListenerConfig c = config();
  c.certificates = {default_, first, second};
  ServerTlsContext server(c);
  EXPECT_EQ(served_for(server, "shared.test"), "first");
}

TEST_F(ServerContextTest, MinVersion13RejectsATls12OnlyClient) {
  config::TlsListenerConfig c = config();
  c.min_version = config::TlsVersion::k1_3;
  ServerTlsContext server(c);
  const SslCtxPtr old_client = make_client_context({.max_version = TLS1_2_VERSION});
  auto rejected =
      loopback_.connect([&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
                        [&](Loopback::Socket s) {
                          return Stream(std::move(s), testing::client_session(old_client.get(), ""),
                                        Stream::Role::kClient);
                        });
  EXPECT_TRUE(rejected->server_error);
  EXPECT_TRUE(rejected->client_error);
  EXPECT_EQ(rejected->server_error.message(), "unsupported protocol (SSL routines)");
  EXPECT_NE(rejected->client_error.message().find("protocol version"), std::string::npos)
      << rejected->client_error.message();

  const SslCtxPtr new_client = make_client_context({});
  auto accepted =
      loopback_.connect([&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
                        [&](Loopback::Socket s) {
                          return Stream(std::move(s), testing::client_session(new_client.get(), ""),
                                        Stream::Role::kClient);
                        });
  ASSERT_TRUE(accepted->ok()) << accepted->client_error.message();
  EXPECT_EQ(SSL_version(accepted->server->ssl()), TLS1_3_VERSION);
}

TEST_F(ServerContextTest, Min12AcceptsATls12Client) {
  ServerTlsContext server(config());
  const SslCtxPtr old_client = make_client_context({.max_version = TLS1_2_VERSION});
  auto c =
      loopback_.connect([&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
                        [&](Loopback::Socket s) {
                          return Stream(std::move(s), testing::client_session(old_client.get(), ""),
                                        Stream::Role::kClient);
                        });
  ASSERT_TRUE(c->ok()) << c->server_error.message();
  EXPECT_EQ(SSL_version(c->server->ssl()), TLS1_2_VERSION);
}

TEST_F(ServerContextTest, AlpnSelectsOurProtocolOrNone) {
  ServerTlsContext server(config());
  auto negotiated = [&](std::vector<std::string> offered, const std::string& name) {
    const SslCtxPtr client = make_client_context({.alpn = std::move(offered)});
    auto c =
        loopback_.connect([&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
                          [&](Loopback::Socket s) {
                            return Stream(std::move(s), testing::client_session(client.get(), name),
                                          Stream::Role::kClient);
                          });
    EXPECT_TRUE(c->ok()) << c->server_error.message();
    EXPECT_EQ(c->server->alpn(), c->client->alpn());
    return std::string(c->client->alpn());
  };
  EXPECT_EQ(negotiated({"h2", "http/1.1"}, ""), "http/1.1");
  // After the SNI switch the selected certificate's context answers ALPN, the same way.
  EXPECT_EQ(negotiated({"h2", "http/1.1"}, "a.example.com"), "http/1.1");
  // Nothing in common: the handshake goes on without ALPN instead of failing.
  EXPECT_EQ(negotiated({"h2"}, ""), "");
  EXPECT_EQ(negotiated({}, ""), "");
}

TEST_F(ServerContextTest, ReloadServesTheNewCertificateWhileOpenConnectionsKeepWorking) {
  ServerTlsContext server(config());
  const SslCtxPtr client = make_client_context({});
  auto make_client = [&](Loopback::Socket s) {
    return Stream(std::move(s), testing::client_session(client.get(), "a.example.com"),
                  Stream::Role::kClient);
  };
  auto make_server = [&](Loopback::Socket s) { return Stream::accept(std::move(s), server); };
  auto before = loopback_.connect(make_server, make_client);
  ASSERT_TRUE(before->ok());
  EXPECT_EQ(peer_common_name(*before->client), "exact");

  const std::string old_pem = testing::to_pem(SSL_get0_peer_certificate(before->client->ssl()));

  // The certificate is renewed in place, under the same file names.
  exact_ = issue("exact", {"a.example.com"});
  server.reload();
  auto after = loopback_.connect(make_server, make_client);
  ASSERT_TRUE(after->ok());
  EXPECT_NE(testing::to_pem(SSL_get0_peer_certificate(after->client->ssl())), old_pem);

  // The connection made before the reload still carries data both ways.
  EXPECT_EQ(loopback_.send(*before->client, *before->server, "ping"), "ping");
  EXPECT_EQ(loopback_.send(*before->server, *before->client, "pong"), "pong");
}

TEST_F(ServerContextTest, FailedReloadKeepsTheCurrentCertificates) {
  ServerTlsContext server(config());
  dir_.write("exact.key", testing::to_pem(testing::make_key().get()));  // No longer matches.
  try {
    server.reload();
    ADD_FAILURE() << "reload accepted a key that does not match";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find(exact_.key), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("key values mismatch"), std::string::npos) << e.what();
  }
  EXPECT_EQ(served_for(server, "a.example.com"), "exact");
}

TEST_F(ServerContextTest, ConstructionNamesTheBrokenFile) {
  config::TlsListenerConfig c = config();
  c.certificates[1].cert = (dir_.path() / "missing.pem").string();
  try {
    ServerTlsContext server(c);
    ADD_FAILURE() << "a missing certificate file was accepted";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem: cannot open: No such file or directory"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace fulcrum::tls
