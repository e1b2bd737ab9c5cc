#pragma once

// Certificates made at run time with the OpenSSL API, so tests never ship a key or start
// failing when a fixture expires: a CA, leaves signed by it with DNS and IP SANs (wildcards
// included), expired ones, and PEM files for them in a temporary directory.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/openssl.h"

namespace fulcrum::tls::testing {

enum class KeyType { kEcP256, kRsa2048 };

struct KeyAndCert {
  EvpPkeyPtr key;
  X509Ptr cert;
};

struct CertSpec {
  std::string common_name = "test";
  std::vector<std::string> dns;  ///< subjectAltName DNS entries ("*.example.com" allowed).
  std::vector<std::string> ips;  ///< subjectAltName IP entries ("127.0.0.1", "::1").
  /// Validity relative to now; an expired certificate has both in the past.
  std::chrono::seconds valid_from{-3600};
  std::chrono::seconds valid_until{30 * 24 * 3600};
  KeyType key_type = KeyType::kEcP256;
};

/// A self-signed CA certificate (basicConstraints CA:TRUE).
KeyAndCert make_ca(const std::string& common_name, KeyType key_type = KeyType::kEcP256);

/// A server certificate signed by `ca`.
KeyAndCert make_leaf(const KeyAndCert& ca, const CertSpec& spec);

/// A key that belongs to no certificate here.
EvpPkeyPtr make_key(KeyType key_type = KeyType::kEcP256);

std::string to_pem(X509* cert);
std::string to_pem(EVP_PKEY* key);

/// The certificate's subject common name.
std::string common_name(X509* cert);

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Writes `content` to `name` in the directory (replacing it) and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

struct PemFiles {
  std::string cert;
  std::string key;
};

/// Writes STEM.pem (the certificate, then `chain` if given) and STEM.key into `dir`.
PemFiles write_pem(const TempDir& dir, const std::string& stem, const KeyAndCert& pair,
                   X509* chain = nullptr);

}  // namespace fulcrum::tls::testing
