// etcd's connection settings in etcd discovery and health_sharing: endpoint URLs, `tls`, `auth`.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"

namespace fulcrum::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kListener =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: api }]\n";

class EtcdConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fulcrum-etcd-config-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "password") << "s3cret\n";
    std::ofstream(dir_ / "empty") << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A cluster discovering from etcd with `extra` inside its discovery mapping.
  Config load_discovery(std::string_view endpoints, std::string_view extra = "") {
    return load_config_string(
        std::string(kListener) + "clusters: [{ name: api, discovery: { type: etcd, endpoints: " +
            std::string(endpoints) + ", prefix: /f/" + std::string(extra) + " } }]\n",
        (dir_ / "t.yaml").string());
  }
  std::string discovery_error(std::string_view endpoints, std::string_view extra = "") {
    try {
      load_discovery(endpoints, extra);
    } catch (const ConfigError& e) {
      // Positions only: the directory is the test's own.
      const std::string what = e.what();
      return what.substr(what.find("t.yaml"));
    }
    return "(loaded without error)";
  }
  std::string health_sharing_error(std::string_view body) {
    try {
      load_config_string(std::string(kListener) +
                             "clusters: [{ name: api, servers: [{ address: 127.0.0.1:1 }] }]\n"
                             "health_sharing: " +
                             std::string(body) + "\n",
                         (dir_ / "t.yaml").string());
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      return what.substr(what.find("t.yaml"));
    }
    return "(loaded without error)";
  }

  fs::path dir_;
};

TEST_F(EtcdConfigTest, EndpointsTakeHttpAndHttpsUrls) {
  const DiscoveryConfig d =
      load_discovery("[127.0.0.1:2379, 'http://etcd-a:2379', 'https://ETCD-B:2379']")
          .clusters[0]
          .discovery;
  EXPECT_EQ(d.endpoints,
            (std::vector<std::string>{"127.0.0.1:2379", "etcd-a:2379", "https://etcd-b:2379"}));
  EXPECT_FALSE(d.etcd_tls.enabled);
  EXPECT_TRUE(d.etcd_auth.username.empty());
}

TEST_F(EtcdConfigTest, TlsMakesEveryEndpointTls) {
  const DiscoveryConfig d =
      load_discovery("[127.0.0.1:2379, 'https://[::1]:2379']",
                     ", tls: { ca_file: ca.pem, cert: c.pem, key: c.key, sni: ETCD.internal }")
          .clusters[0]
          .discovery;
  EXPECT_EQ(d.endpoints,
            (std::vector<std::string>{"https://127.0.0.1:2379", "https://[::1]:2379"}));
  EXPECT_TRUE(d.etcd_tls.enabled);
  EXPECT_EQ(d.etcd_tls.ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(d.etcd_tls.client_certificate.cert, (dir_ / "c.pem").string());
  EXPECT_EQ(d.etcd_tls.client_certificate.key, (dir_ / "c.key").string());
  EXPECT_EQ(d.etcd_tls.sni, "etcd.internal");
  // Recorded for tls::check_config_files, which reads the files.
  EXPECT_EQ(d.etcd_tls.ca_file_at, (Position{2, 130}));
}

TEST_F(EtcdConfigTest, EmptyTlsSectionVerifiesAgainstTheSystemStore) {
  const DiscoveryConfig d = load_discovery("[127.0.0.1:2379]", ", tls: {}").clusters[0].discovery;
  EXPECT_TRUE(d.etcd_tls.enabled);
  EXPECT_TRUE(d.etcd_tls.ca_file.empty());
  EXPECT_EQ(d.endpoints, (std::vector<std::string>{"https://127.0.0.1:2379"}));
}

TEST_F(EtcdConfigTest, Auth) {
  const DiscoveryConfig d =
      load_discovery("[127.0.0.1:2379]", ", auth: { username: root, password_file: password }")
          .clusters[0]
          .discovery;
  EXPECT_EQ(d.etcd_auth.username, "root");
  EXPECT_EQ(d.etcd_auth.password_file, (dir_ / "password").string());
}

TEST_F(EtcdConfigTest, DiscoveryErrorsNameThePosition) {
  EXPECT_EQ(discovery_error("['http://127.0.0.1:2379']", ", tls: {}"),
            "t.yaml:2:62: etcd endpoint 'http://127.0.0.1:2379' is plain HTTP, but 'tls' is "
            "given: with 'tls' every endpoint speaks TLS (write https://HOST:PORT or HOST:PORT)");
  EXPECT_EQ(discovery_error("['grpc://127.0.0.1:2379']"),
            "t.yaml:2:62: etcd endpoint 'grpc://127.0.0.1:2379': the scheme must be http:// or "
            "https://");
  EXPECT_EQ(discovery_error("['https://127.0.0.1']"),
            "t.yaml:2:62: invalid etcd address 'https://127.0.0.1': missing port");
  EXPECT_EQ(discovery_error("[127.0.0.1:2379]", ", tls: { cert: c.pem }"),
            "t.yaml:2:99: a client certificate needs both 'cert' and 'key'");
  EXPECT_EQ(discovery_error("[127.0.0.1:2379]", ", tls: { sni: 10.0.0.1 }"),
            "t.yaml:2:104: expected a host name for sni, got '10.0.0.1'");
  EXPECT_EQ(
      discovery_error("[127.0.0.1:2379]", ", tls: { verify: false }"),
      "t.yaml:2:99: unknown key 'verify' in etcd tls (expected one of: ca_file, cert, key, sni)");
  EXPECT_EQ(discovery_error("[127.0.0.1:2379]", ", auth: { username: root, password_file: nope }"),
            "t.yaml:2:131: cannot read password file '" + (dir_ / "nope").string() + "'");
  EXPECT_EQ(discovery_error("[127.0.0.1:2379]", ", auth: { username: root, password_file: empty }"),
            "t.yaml:2:131: password file '" + (dir_ / "empty").string() + "' is empty");
  EXPECT_EQ(discovery_error("[127.0.0.1:2379]", ", auth: { password_file: password }"),
            "t.yaml:2:98: missing required key 'username' in etcd auth");
}

TEST_F(EtcdConfigTest, HealthSharingTakesTheSameSettings) {
  const Config c = load_config_string(
      std::string(kListener) +
          "clusters: [{ name: api, servers: [{ address: 127.0.0.1:1 }] }]\n"
          "health_sharing: { etcd: [127.0.0.1:2379], tls: { ca_file: /ca.pem }, auth: { "
          "username: fulcrum, password_file: password } }\n",
      (dir_ / "t.yaml").string());
  EXPECT_EQ(c.health_sharing.endpoints, (std::vector<std::string>{"https://127.0.0.1:2379"}));
  EXPECT_EQ(c.health_sharing.tls.ca_file, "/ca.pem");
  EXPECT_EQ(c.health_sharing.auth.username, "fulcrum");
  EXPECT_EQ(health_sharing_error("{ etcd: ['http://127.0.0.1:2379'], tls: {} }"),
            "t.yaml:3:26: etcd endpoint 'http://127.0.0.1:2379' is plain HTTP, but 'tls' is "
            "given: with 'tls' every endpoint speaks TLS (write https://HOST:PORT or HOST:PORT)");
}

}  // namespace
}  // namespace fulcrum::config
