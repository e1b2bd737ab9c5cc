// The certificate, key and CA files of a configuration, checked after it is parsed: each bad
// file is reported at the position of the value naming it ("FILE:LINE:COLUMN: reason"), as
// `fulcrum --check`, a start and a reload report it. Certificates are made by the test and
// written next to the configuration file, so relative paths are exercised too.

#include "tls/config_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

class ConfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::make_ca("Test CA");
    testing::CertSpec spec;
    spec.dns = {"www.example.com"};
    testing::write_pem(dir_, "server", testing::make_leaf(ca_, spec));
    dir_.write("ca.pem", testing::to_pem(ca_.cert.get()));
  }

  // Line 1 is `listeners:`, line 2 the listener, line 3 `tls:`, and `listener_tls` follows from
  // line 4 (each line indented by 6 spaces); the cluster's `cluster_extra` lines (4 spaces) come
  // after its servers, from line 9.
  std::string write(const std::string& listener_tls, const std::string& cluster_extra) const {
    return dir_.write("fulcrum.yaml",
                      "listeners:\n"
                      "  - { name: web, listen: 127.0.0.1:0, cluster: app,\n"
                      "      tls: {\n" +
                          listener_tls + "} }\n" +
                          "clusters:\n"
                          "  - name: app\n"
                          "    servers: [{ address: backend.test:443 }]\n" +
                          cluster_extra);
  }

  std::string error_of(const std::string& listener_tls, const std::string& cluster_extra = "") {
    try {
      load_checked_config_file(write(listener_tls, cluster_extra));
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "(loaded without error)";
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string at(const std::string& position) const {
    return path("fulcrum.yaml") + ":" + position + ": ";
  }

  static constexpr const char* kServerPair =
      "      certificates: [{ cert: server.pem, key: server.key }]\n";

  testing::TempDir dir_;
  testing::KeyAndCert ca_;
};

TEST_F(ConfigFilesTest, GoodFilesLoad) {
  const config::Config c =
      load_checked_config_file(write(kServerPair, "    tls: { ca_file: ca.pem }\n"));
  ASSERT_EQ(c.listeners[0].tls.certificates.size(), 1u);
  EXPECT_EQ(c.listeners[0].tls.certificates[0].cert, path("server.pem"));
  EXPECT_EQ(c.clusters[0].tls.ca_file, path("ca.pem"));
}

TEST_F(ConfigFilesTest, MissingCertificateFileIsNamedAtItsPosition) {
  EXPECT_EQ(error_of("      certificates: [{ cert: missing.pem, key: server.key }]\n"),
            at("4:30") + path("missing.pem") + ": cannot open: No such file or directory");
}

TEST_F(ConfigFilesTest, MissingKeyFileIsNamedAtTheKey) {
  EXPECT_EQ(error_of("      certificates: [{ cert: server.pem, key: missing.key }]\n"),
            at("4:47") + path("missing.key") + ": cannot open: No such file or directory");
}

TEST_F(ConfigFilesTest, KeyOfAnotherCertificateIsNamedAtTheKey) {
  dir_.write("other.key", testing::to_pem(testing::make_key().get()));
  EXPECT_EQ(error_of("      certificates: [{ cert: server.pem, key: other.key }]\n"),
            at("4:47") + path("other.key") + ": the key does not match the certificate in " +
                path("server.pem") + ": key values mismatch");
}

TEST_F(ConfigFilesTest, ExpiredCertificateIsNamedAtTheCertificate) {
  testing::CertSpec spec;
  spec.valid_from = std::chrono::hours(-48);
  spec.valid_until = std::chrono::hours(-24);
  testing::write_pem(dir_, "old", testing::make_leaf(ca_, spec));
  const std::string error = error_of("      certificates: [{ cert: old.pem, key: old.key }]\n");
  EXPECT_TRUE(error.starts_with(at("4:30") + path("old.pem") + ": the certificate expired on "))
      << error;
}

TEST_F(ConfigFilesTest, EachCertificateOfAListenerIsChecked) {
  const std::string error = error_of(
      "      certificates: [{ cert: server.pem, key: server.key },\n"
      "                     { cert: server.pem, key: ca.pem }]\n");
  EXPECT_TRUE(error.starts_with(at("5:47") + path("ca.pem") + ": no usable PEM private key: "))
      << error;
}

TEST_F(ConfigFilesTest, CaFileErrors) {
  EXPECT_EQ(error_of(kServerPair, "    tls: { ca_file: nowhere.pem }\n"),
            at("9:21") + path("nowhere.pem") + ": cannot open: No such file or directory");
  dir_.write("empty.pem", "");
  EXPECT_EQ(
      error_of(kServerPair, "    tls: { ca_file: empty.pem }\n"),
      at("9:21") + path("empty.pem") + ": no PEM certificate found (expected BEGIN CERTIFICATE)");
  // Checked even where it is not used yet: turning verification on must not be what breaks.
  EXPECT_EQ(
      error_of(kServerPair, "    tls: { enabled: false, verify: false, ca_file: empty.pem }\n"),
      at("9:52") + path("empty.pem") + ": no PEM certificate found (expected BEGIN CERTIFICATE)");
}

TEST_F(ConfigFilesTest, EtcdTlsFilesAreCheckedAtTheirPositions) {
  const std::string sharing = "health_sharing: { etcd: [127.0.0.1:2379], tls: { ";
  EXPECT_EQ(error_of(kServerPair, sharing + "ca_file: nowhere.pem } }\n"),
            at("9:59") + path("nowhere.pem") + ": cannot open: No such file or directory");
  EXPECT_EQ(error_of(kServerPair, sharing + "cert: server.pem, key: ca.pem } }\n"),
            at("9:73") + path("ca.pem") +
                ": no usable PEM private key: unsupported (No supported data to decode. Input "
                "type: PEM)");
  EXPECT_EQ(
      error_of(kServerPair, sharing + "ca_file: ca.pem, cert: server.pem, key: server.key } }\n"),
      "(loaded without error)");
}

TEST_F(ConfigFilesTest, ParseErrorsAndFileErrorsAreListedTogetherInFileOrder) {
  EXPECT_EQ(error_of("      certificates: [{ cert: missing.pem, key: server.key }]\n",
                     "    retries: many\n"),
            at("4:30") + path("missing.pem") + ": cannot open: No such file or directory\n" +
                at("9:14") + "expected a whole number from 0 to 10, got 'many'");
}

TEST_F(ConfigFilesTest, EveryBadFileIsReported) {
  dir_.write("empty.pem", "");
  const std::string error = error_of(
      "      certificates: [{ cert: missing.pem, key: missing.key },\n"
      "                     { cert: server.pem, key: ca.pem }]\n",
      "    tls: { ca_file: empty.pem }\n");
  const std::string expected_start =
      at("4:30") + path("missing.pem") + ": cannot open: No such file or directory\n" + at("4:48") +
      path("missing.key") + ": cannot open: No such file or directory\n" + at("5:47") +
      path("ca.pem") + ": no usable PEM private key: ";
  EXPECT_TRUE(error.starts_with(expected_start)) << error;
  EXPECT_NE(error.find("\n" + at("10:21") + path("empty.pem") + ": no PEM certificate found"),
            std::string::npos)
      << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 3) << error;
}

TEST_F(ConfigFilesTest, ConfigurationGivenAsTextIsCheckedUnderItsName) {
  const std::string yaml =
      "listeners: [{ name: web, listen: 127.0.0.1:0, cluster: app,\n"
      "              tls: { certificates: [{ cert: missing.pem, key: server.key }] } }]\n"
      "clusters: [{ name: app, servers: [{ address: 127.0.0.1:1 }] }]\n";
  const std::string name = path("given.yaml");
  try {
    load_checked_config_string(yaml, name);
    FAIL() << "loaded without error";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.file(), name);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 45);
    EXPECT_EQ(e.message(), path("missing.pem") + ": cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace fulcrum::tls
