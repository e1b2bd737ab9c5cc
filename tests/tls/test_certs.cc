#include "tls/test_certs.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <fstream>
#include <stdexcept>

namespace fulcrum::tls::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + take_openssl_errors());
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

X509Ptr new_certificate(EVP_PKEY* key, const std::string& common_name, std::chrono::seconds from,
                        std::chrono::seconds until) {
  X509Ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  // Random serials, so a reissued certificate is told apart from the one it replaces.
  BIGNUM* serial = BN_new();
  check(BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "BN_rand");
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(from.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(until.count()));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  // Empty: no Common Name, only the SANs (etcd's gateway refuses client certificates with one).
  const bool with_cn = !common_name.empty();
  X509_NAME_add_entry_by_txt(
      subject, with_cn ? "CN" : "O", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(with_cn ? common_name.c_str() : "fulcrum tests"), -1,
      -1, 0);
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  return cert;
}

}  // namespace

EvpPkeyPtr make_key(KeyType key_type) {
  EvpPkeyPtr key(key_type == KeyType::kEcP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048));
  check(key != nullptr, "key generation");
  return key;
}

KeyAndCert make_ca(const std::string& common_name, KeyType key_type) {
  KeyAndCert ca{make_key(key_type), nullptr};
  ca.cert = new_certificate(ca.key.get(), common_name, std::chrono::seconds(-3600),
                            std::chrono::seconds(365 * 24 * 3600));
  X509_set_issuer_name(ca.cert.get(), X509_get_subject_name(ca.cert.get()));
  add_extension(ca.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca.cert.get(), ca.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.cert.get(), ca.key.get(), EVP_sha256()) > 0, "X509_sign");
  return ca;
}

KeyAndCert make_leaf(const KeyAndCert& ca, const CertSpec& spec) {
  KeyAndCert leaf{make_key(spec.key_type), nullptr};
  leaf.cert = new_certificate(leaf.key.get(), spec.common_name, spec.valid_from, spec.valid_until);
  X509_set_issuer_name(leaf.cert.get(), X509_get_subject_name(ca.cert.get()));
  add_extension(leaf.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  // clientAuth too: etcd with --client-cert-auth takes a leaf as a client's certificate (and its
  // own gateway presents its server certificate to it).
  add_extension(leaf.cert.get(), ca.cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(leaf.cert.get(), ca.cert.get(), NID_authority_key_identifier, "keyid:always");
  std::string sans;
  for (const std::string& dns : spec.dns) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : spec.ips) sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  if (!sans.empty()) add_extension(leaf.cert.get(), ca.cert.get(), NID_subject_alt_name, sans);
  check(X509_sign(leaf.cert.get(), ca.key.get(), EVP_sha256()) > 0, "X509_sign");
  return leaf;
}

std::string to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string common_name(X509* cert) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, text, sizeof text);
  return text;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "fulcrum-tls-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::filesystem::path file = path_ / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file.string();
}

PemFiles write_pem(const TempDir& dir, const std::string& stem, const KeyAndCert& pair,
                   X509* chain) {
  std::string certs = to_pem(pair.cert.get());
  if (chain != nullptr) certs += to_pem(chain);
  return {dir.write(stem + ".pem", certs), dir.write(stem + ".key", to_pem(pair.key.get()))};
}

}  // namespace fulcrum::tls::testing
