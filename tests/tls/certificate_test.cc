// Loading certificates and keys: each way a file can be unusable is reported with the file's
// name and the reason.

#include "tls/certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::make_ca("Test CA");
    testing::CertSpec spec;
    spec.common_name = "Server";
    spec.dns = {"Server.Test", "*.example.com"};
    spec.ips = {"127.0.0.1"};
    files_ = testing::write_pem(dir_, "server", testing::make_leaf(ca_, spec), ca_.cert.get());
  }

  // The message load_certified_key fails with; empty when it succeeds.
  static std::string error_of(const std::string& cert, const std::string& key) {
    try {
      load_certified_key(cert, key);
      return "";
    } catch (const TlsError& e) {
      return e.what();
    }
  }

  testing::TempDir dir_;
  testing::KeyAndCert ca_;
  testing::PemFiles files_;
};

TEST_F(CertificateTest, LoadsChainKeyAndNames) {
  const CertifiedKey certified = load_certified_key(files_.cert, files_.key);
  EXPECT_EQ(testing::common_name(certified.leaf.get()), "Server");
  ASSERT_EQ(certified.intermediates.size(), 1u);
  EXPECT_EQ(testing::common_name(certified.intermediates[0].get()), "Test CA");
  // DNS SANs only, lower-cased; the IP SAN is not a name to select by.
  EXPECT_EQ(certified.names, (std::vector<std::string>{"server.test", "*.example.com"}));
}

TEST_F(CertificateTest, CommonNameStandsInWhenThereAreNoSans) {
  testing::CertSpec spec;
  spec.common_name = "Legacy.Test";
  const auto pair = testing::make_leaf(ca_, spec);
  EXPECT_EQ(certificate_names(pair.cert.get()), std::vector<std::string>{"legacy.test"});
}

TEST_F(CertificateTest, MissingFileIsNamed) {
  const std::string missing = (dir_.path() / "missing.pem").string();
  EXPECT_EQ(error_of(missing, files_.key), missing + ": cannot open: No such file or directory");
  EXPECT_EQ(error_of(files_.cert, missing), missing + ": cannot open: No such file or directory");
}

TEST_F(CertificateTest, FileThatNeverEndsIsRefusedNotReadForever) {
  EXPECT_EQ(error_of("/dev/zero", files_.key),
            "/dev/zero: larger than 8 MiB: not a PEM certificate or key file");
  EXPECT_EQ(error_of(files_.cert, "/dev/zero"),
            "/dev/zero: larger than 8 MiB: not a PEM certificate or key file");
}

TEST_F(CertificateTest, FileWithoutCertificateIsNamed) {
  const std::string text = dir_.write("text.pem", "hello\n");
  EXPECT_EQ(error_of(text, files_.key),
            text + ": no PEM certificate found (expected BEGIN CERTIFICATE)");
}

TEST_F(CertificateTest, CorruptCertificateIsNamedWithOpenSslReason) {
  std::string pem = testing::to_pem(ca_.cert.get());
  pem[pem.size() / 2] = '!';  // Not base64.
  const std::string corrupt = dir_.write("corrupt.pem", pem);
  const std::string error = error_of(corrupt, files_.key);
  EXPECT_TRUE(error.starts_with(corrupt + ": not a valid PEM certificate: ")) << error;
}

TEST_F(CertificateTest, KeyOfAnotherCertificateIsNamedWithOpenSslReason) {
  const std::string other = dir_.write("other.key", testing::to_pem(testing::make_key().get()));
  EXPECT_EQ(error_of(files_.cert, other), other + ": the key does not match the certificate in " +
                                              files_.cert + ": key values mismatch");
}

TEST_F(CertificateTest, KeyFileWithACertificateInsteadIsNamed) {
  const std::string error = error_of(files_.cert, files_.cert);
  EXPECT_TRUE(error.starts_with(files_.cert + ": no usable PEM private key: ")) << error;
}

TEST_F(CertificateTest, EncryptedKeyIsRefusedWithoutPrompting) {
  const testing::KeyAndCert pair = testing::make_leaf(ca_, {});
  BioPtr bio(BIO_new(BIO_s_mem()));
  char passphrase[] = "secret";
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), pair.key.get(), EVP_aes_256_cbc(), nullptr, 0,
                                     nullptr, passphrase),
            1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  const std::string key = dir_.write("encrypted.key", std::string(data, length));
  const std::string cert = dir_.write("plain.pem", testing::to_pem(pair.cert.get()));
  EXPECT_EQ(error_of(cert, key), key + ": the private key is encrypted; give an unencrypted key");
}

TEST_F(CertificateTest, ExpiredCertificateIsNamedWithItsDate) {
  testing::CertSpec spec;
  spec.valid_from = std::chrono::hours(-48);
  spec.valid_until = std::chrono::hours(-24);
  const auto files = testing::write_pem(dir_, "expired", testing::make_leaf(ca_, spec));
  const std::string error = error_of(files.cert, files.key);
  EXPECT_TRUE(error.starts_with(files.cert + ": the certificate expired on ")) << error;
  EXPECT_TRUE(error.ends_with(" UTC")) << error;
}

TEST_F(CertificateTest, NotYetValidCertificateIsAccepted) {
  testing::CertSpec spec;
  spec.valid_from = std::chrono::minutes(5);
  const auto files = testing::write_pem(dir_, "future", testing::make_leaf(ca_, spec));
  EXPECT_EQ(error_of(files.cert, files.key), "");
}

TEST_F(CertificateTest, CaFileMustHoldCertificates) {
  EXPECT_NO_THROW(check_ca_file(files_.cert));
  const std::string empty = dir_.write("empty.pem", "");
  EXPECT_THROW(check_ca_file(empty), TlsError);
}

}  // namespace
}  // namespace fulcrum::tls
