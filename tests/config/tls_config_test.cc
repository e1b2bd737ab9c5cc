// The `tls` keys of listeners and clusters. Certificates are made by the test and written next
// to the configuration file, so relative paths and the loader's file checks are exercised too.

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "tls/test_certs.h"

namespace fulcrum::config {
namespace {

namespace testing = tls::testing;

class TlsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::make_ca("Test CA");
    testing::CertSpec spec;
    spec.dns = {"www.example.com"};
    testing::write_pem(dir_, "server", testing::make_leaf(ca_, spec));
    dir_.write("ca.pem", testing::to_pem(ca_.cert.get()));
  }

  // The file: line 1 is `listeners:`, line 2 the listener, line 3 `tls:`, and `listener_tls`
  // follows from line 4 (each line indented by 6 spaces); the cluster's `cluster_extra` lines
  // (4 spaces) come after its servers.
  std::string write(const std::string& listener_tls, const std::string& cluster_extra = "",
                    const std::string& mode = "http") const {
    return dir_.write("fulcrum.yaml",
                      "listeners:\n"
                      "  - { name: web, listen: 127.0.0.1:0, mode: " +
                          mode + ", cluster: app,\n" + "      tls: {\n" + listener_tls + "} }\n" +
                          "clusters:\n"
                          "  - name: app\n"
                          "    servers: [{ address: backend.test:443 }]\n" +
                          cluster_extra);
  }

  Config load(const std::string& listener_tls, const std::string& cluster_extra = "",
              const std::string& mode = "http") const {
    return load_config_file(write(listener_tls, cluster_extra, mode));
  }

  std::string error_of(const std::string& listener_tls, const std::string& cluster_extra = "") {
    try {
      load(listener_tls, cluster_extra);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(loaded without error)";
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string config_file() const { return path("fulcrum.yaml"); }

  static constexpr const char* kServerPair =
      "      certificates: [{ cert: server.pem, key: server.key }]\n";

  testing::TempDir dir_;
  testing::KeyAndCert ca_;
};

TEST_F(TlsConfigTest, AbsentMeansPlainOnBothSides) {
  const Config c = load_config_string(
      "listeners: [{ name: web, listen: 127.0.0.1:0, cluster: app }]\n"
      "clusters: [{ name: app, servers: [{ address: 127.0.0.1:1 }] }]\n",
      "t.yaml");
  EXPECT_FALSE(c.listeners[0].tls.enabled);
  EXPECT_FALSE(c.clusters[0].tls.enabled);
}

TEST_F(TlsConfigTest, ListenerDefaultsAndPathsRelativeToTheFile) {
  const TlsListenerConfig tls = load(kServerPair).listeners[0].tls;
  EXPECT_TRUE(tls.enabled);
  ASSERT_EQ(tls.certificates.size(), 1u);
  EXPECT_EQ(tls.certificates[0].cert, path("server.pem"));
  EXPECT_EQ(tls.certificates[0].key, path("server.key"));
  EXPECT_EQ(tls.min_version, TlsVersion::k1_2);
  EXPECT_EQ(tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_TRUE(tls.session_tickets);
  EXPECT_EQ(tls.ticket_key_rotation, std::chrono::hours(12));
}

TEST_F(TlsConfigTest, TcpListenerOffersNoAlpnByDefault) {
  const TlsListenerConfig tls = load(kServerPair, "", "tcp").listeners[0].tls;
  EXPECT_TRUE(tls.enabled);
  EXPECT_TRUE(tls.alpn.empty());
}

TEST_F(TlsConfigTest, ListenerWithEveryKey) {
  testing::CertSpec spec;
  spec.dns = {"api.example.com"};
  testing::write_pem(dir_, "api", testing::make_leaf(ca_, spec));
  const TlsListenerConfig tls =
      load(
          "      certificates: [{ cert: server.pem, key: server.key },\n"
          "                     { cert: " +
          path("api.pem") +
          ", key: api.key }],\n"
          "      min_version: \"1.3\", alpn: [http/1.1, x-custom], session_tickets: false,\n"
          "      ticket_key_rotation: 1h\n")
          .listeners[0]
          .tls;
  ASSERT_EQ(tls.certificates.size(), 2u);
  EXPECT_EQ(tls.certificates[1].cert, path("api.pem"));  // An absolute path stays as it is.
  EXPECT_EQ(tls.min_version, TlsVersion::k1_3);
  EXPECT_EQ(tls.alpn, (std::vector<std::string>{"http/1.1", "x-custom"}));
  EXPECT_FALSE(tls.session_tickets);
  EXPECT_EQ(tls.ticket_key_rotation, std::chrono::hours(1));
}

TEST_F(TlsConfigTest, MissingCertificateFileIsNamedAtItsPosition) {
  EXPECT_EQ(
      error_of("      certificates: [{ cert: missing.pem, key: server.key }]\n"),
      config_file() + ":4:30: " + path("missing.pem") + ": cannot open: No such file or directory");
}

TEST_F(TlsConfigTest, KeyOfAnotherCertificateIsNamedAtTheKey) {
  dir_.write("other.key", testing::to_pem(testing::make_key().get()));
  EXPECT_EQ(error_of("      certificates: [{ cert: server.pem, key: other.key }]\n"),
            config_file() + ":4:47: " + path("other.key") +
                ": the key does not match the certificate in " + path("server.pem") +
                ": key values mismatch");
}

TEST_F(TlsConfigTest, ExpiredCertificateIsNamedAtTheCertificate) {
  testing::CertSpec spec;
  spec.valid_from = std::chrono::hours(-48);
  spec.valid_until = std::chrono::hours(-24);
  testing::write_pem(dir_, "old", testing::make_leaf(ca_, spec));
  const std::string error = error_of("      certificates: [{ cert: old.pem, key: old.key }]\n");
  EXPECT_TRUE(error.starts_with(config_file() + ":4:30: " + path("old.pem") +
                                ": the certificate expired on "))
      << error;
}

TEST_F(TlsConfigTest, ListenerValueErrors) {
  EXPECT_EQ(error_of("      certificates: []\n"),
            config_file() + ":4:21: 'certificates' must not be empty");
  EXPECT_EQ(error_of("      certificates: [{ cert: server.pem }]\n"),
            config_file() + ":4:22: missing required key 'key' in listener tls certificate");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", min_version: \"1.1\"\n"),
            config_file() + ":5:16: expected 1.2 or 1.3, got '1.1'");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", alpn: [\"a b\"]\n"),
            config_file() +
                ":5:10: expected an ALPN protocol name like http/1.1 (1 to 255 "
                "visible characters), got 'a b'");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", ticket_key_rotation: 500ms\n"),
            config_file() + ":5:24: ticket_key_rotation must be between 1s and 168h (7 days)");
  const std::string unknown = error_of(std::string(kServerPair) + ", ciphers: ALL\n");
  EXPECT_TRUE(unknown.starts_with(config_file() + ":5:3: unknown key 'ciphers' in listener tls"))
      << unknown;
  const std::string missing = error_of("      min_version: \"1.2\"\n");
  EXPECT_NE(missing.find("missing required key 'certificates' in listener tls"), std::string::npos)
      << missing;
}

TEST_F(TlsConfigTest, ClusterDefaultsWhenTheSectionIsPresent) {
  const TlsClusterConfig tls = load(kServerPair, "    tls: {}\n").clusters[0].tls;
  EXPECT_TRUE(tls.enabled);
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca_file, "");
  EXPECT_EQ(tls.sni, "");
  EXPECT_EQ(tls.alpn, std::vector<std::string>{"http/1.1"});
}

TEST_F(TlsConfigTest, ClusterWithEveryKey) {
  const TlsClusterConfig tls = load(kServerPair,
                                    "    tls: { enabled: false, verify: false, ca_file: ca.pem,\n"
                                    "           sni: Backend.Internal, alpn: [] }\n")
                                   .clusters[0]
                                   .tls;
  EXPECT_FALSE(tls.enabled);
  EXPECT_FALSE(tls.verify);
  EXPECT_EQ(tls.ca_file, path("ca.pem"));
  EXPECT_EQ(tls.sni, "backend.internal");
  EXPECT_TRUE(tls.alpn.empty());
}

TEST_F(TlsConfigTest, ClusterValueErrors) {
  EXPECT_EQ(
      error_of(kServerPair, "    tls: { ca_file: nowhere.pem }\n"),
      config_file() + ":9:21: " + path("nowhere.pem") + ": cannot open: No such file or directory");
  dir_.write("empty.pem", "");
  EXPECT_EQ(error_of(kServerPair, "    tls: { ca_file: empty.pem }\n"),
            config_file() + ":9:21: " + path("empty.pem") +
                ": no PEM certificate found (expected BEGIN CERTIFICATE)");
  EXPECT_EQ(error_of(kServerPair, "    tls: { sni: 10.0.0.1 }\n"),
            config_file() +
                ":9:17: sni must be a host name, not an IP address ('10.0.0.1'); servers given "
                "by address are verified without one");
  EXPECT_EQ(error_of(kServerPair, "    tls: { sni: \"bad name\" }\n"),
            config_file() + ":9:17: expected a host name for sni, got 'bad name'");
  EXPECT_EQ(error_of(kServerPair, "    tls: { verify: maybe }\n"),
            config_file() + ":9:20: expected true or false, got 'maybe'");
}

}  // namespace
}  // namespace fulcrum::config
