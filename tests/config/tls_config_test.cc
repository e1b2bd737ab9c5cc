// The `tls` keys of listeners and clusters. The loader only parses them: paths are resolved
// against the configuration file's directory and their positions recorded, and the files are
// read by tls::check_config_files (tests/tls/config_files_test.cc), so none exists here.

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace fulcrum::config {
namespace {

constexpr const char* kFile = "/srv/fulcrum/fulcrum.yaml";

class TlsConfigTest : public ::testing::Test {
 protected:
  // Line 1 is `listeners:`, line 2 the listener, line 3 `tls:`, and `listener_tls` follows from
  // line 4 (each line indented by 6 spaces); the cluster's `cluster_extra` lines (4 spaces) come
  // after its servers.
  static std::string text(const std::string& listener_tls, const std::string& cluster_extra,
                          const std::string& mode) {
    return "listeners:\n"
           "  - { name: web, listen: 127.0.0.1:0, mode: " +
           mode + ", cluster: app,\n" + "      tls: {\n" + listener_tls + "} }\n" +
           "clusters:\n"
           "  - name: app\n"
           "    servers: [{ address: backend.test:443 }]\n" +
           cluster_extra;
  }

  static Config load(const std::string& listener_tls, const std::string& cluster_extra = "",
                     const std::string& mode = "http") {
    return load_config_string(text(listener_tls, cluster_extra, mode), kFile);
  }

  static std::string error_of(const std::string& listener_tls,
                              const std::string& cluster_extra = "") {
    try {
      load(listener_tls, cluster_extra);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(loaded without error)";
  }

  static std::string at(const std::string& position) {
    return std::string(kFile) + ":" + position + ": ";
  }

  static constexpr const char* kServerPair =
      "      certificates: [{ cert: server.pem, key: server.key }]\n";
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
  EXPECT_EQ(tls.certificates[0].cert, "/srv/fulcrum/server.pem");
  EXPECT_EQ(tls.certificates[0].key, "/srv/fulcrum/server.key");
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
  const TlsListenerConfig tls =
      load(
          "      certificates: [{ cert: server.pem, key: server.key },\n"
          "                     { cert: /etc/ssl/api.pem, key: ../keys/api.key }],\n"
          "      min_version: \"1.3\", alpn: [http/1.1, x-custom], session_tickets: false,\n"
          "      ticket_key_rotation: 1h\n")
          .listeners[0]
          .tls;
  ASSERT_EQ(tls.certificates.size(), 2u);
  EXPECT_EQ(tls.certificates[1].cert, "/etc/ssl/api.pem");  // An absolute path stays as it is.
  EXPECT_EQ(tls.certificates[1].key, "/srv/keys/api.key");
  EXPECT_EQ(tls.min_version, TlsVersion::k1_3);
  EXPECT_EQ(tls.alpn, (std::vector<std::string>{"http/1.1", "x-custom"}));
  EXPECT_FALSE(tls.session_tickets);
  EXPECT_EQ(tls.ticket_key_rotation, std::chrono::hours(1));
}

// What tls::check_config_files reports a bad file at: the value naming it.
TEST_F(TlsConfigTest, FilePositionsAreRecordedAndTheFilesNotRead) {
  const Config c = load(
      "      certificates: [{ cert: server.pem, key: server.key },\n"
      "                     { key: api.key,\n"
      "                       cert: api.pem }]\n",
      "    tls: { ca_file: ca.pem }\n");
  const auto& certificates = c.listeners[0].tls.certificates;
  ASSERT_EQ(certificates.size(), 2u);
  EXPECT_EQ(certificates[0].cert_at, (Position{4, 30}));
  EXPECT_EQ(certificates[0].key_at, (Position{4, 47}));
  EXPECT_EQ(certificates[1].key_at, (Position{5, 29}));
  EXPECT_EQ(certificates[1].cert_at, (Position{6, 30}));
  EXPECT_EQ(c.clusters[0].tls.ca_file_at, (Position{11, 21}));
  EXPECT_EQ(c.clusters[0].tls.ca_file, "/srv/fulcrum/ca.pem");
}

TEST_F(TlsConfigTest, ListenerValueErrors) {
  EXPECT_EQ(error_of("      certificates: []\n"), at("4:21") + "'certificates' must not be empty");
  EXPECT_EQ(error_of("      certificates: [{ cert: server.pem }]\n"),
            at("4:22") + "missing required key 'key' in listener tls certificate");
  EXPECT_EQ(error_of("      certificates: [{ cert: \"\", key: server.key }]\n"),
            at("4:30") + "expected a non-empty string");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", min_version: \"1.1\"\n"),
            at("5:16") + "expected 1.2 or 1.3, got '1.1'");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", alpn: [\"a b\"]\n"),
            at("5:10") +
                "expected an ALPN protocol name like http/1.1 (1 to 255 "
                "visible characters), got 'a b'");
  EXPECT_EQ(error_of(std::string(kServerPair) + ", ticket_key_rotation: 500ms\n"),
            at("5:24") + "ticket_key_rotation must be between 1s and 168h (7 days)");
  const std::string unknown = error_of(std::string(kServerPair) + ", ciphers: ALL\n");
  EXPECT_TRUE(unknown.starts_with(at("5:3") + "unknown key 'ciphers' in listener tls")) << unknown;
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
  EXPECT_EQ(tls.ca_file, "/srv/fulcrum/ca.pem");
  EXPECT_EQ(tls.sni, "backend.internal");
  EXPECT_TRUE(tls.alpn.empty());
}

TEST_F(TlsConfigTest, ClusterValueErrors) {
  EXPECT_EQ(error_of(kServerPair, "    tls: { ca_file: \"\" }\n"),
            at("9:21") + "expected a non-empty string");
  EXPECT_EQ(error_of(kServerPair, "    tls: { sni: 10.0.0.1 }\n"),
            at("9:17") +
                "sni must be a host name, not an IP address ('10.0.0.1'); servers given "
                "by address are verified without one");
  EXPECT_EQ(error_of(kServerPair, "    tls: { sni: \"bad name\" }\n"),
            at("9:17") + "expected a host name for sni, got 'bad name'");
  EXPECT_EQ(error_of(kServerPair, "    tls: { verify: maybe }\n"),
            at("9:20") + "expected true or false, got 'maybe'");
}

}  // namespace
}  // namespace fulcrum::config
