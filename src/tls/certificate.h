#pragma once

// Loading a certificate chain and its private key from PEM files, with the checks that make a
// broken pair fail at start (or at `fulcrum --check`) instead of at the first handshake: the
// files parse, the key belongs to the certificate, and the certificate has not expired.

#include <string>
#include <vector>

#include "tls/openssl.h"

namespace fulcrum::tls {

/// A server certificate ready to be installed in a context.
struct CertifiedKey {
  X509Ptr leaf;
  std::vector<X509Ptr> intermediates;  ///< In file order, after the leaf.
  EvpPkeyPtr key;
  /// DNS names the certificate serves, lower-cased: its subjectAltName DNS entries, or its
  /// common name when it has none. Wildcards ("*.example.com") are kept as written.
  std::vector<std::string> names;
};

/// The certificates of a PEM file, leaf first. Throws TlsError "FILE: reason" when the file
/// cannot be read or holds no certificate.
std::vector<X509Ptr> load_certificate_chain(const std::string& path);

/// The private key of a PEM file (unencrypted). Throws TlsError "FILE: reason".
EvpPkeyPtr load_private_key(const std::string& path);

/// Throws TlsError naming `key_path` when `key` does not belong to `leaf`.
void check_key_matches(X509* leaf, EVP_PKEY* key, const std::string& cert_path,
                       const std::string& key_path);

/// Throws TlsError naming `cert_path` when `leaf` has expired (its notAfter is in the past).
/// A certificate not yet valid is accepted: clocks of freshly issued certificates and of the
/// machine may disagree by a little, and clients decide for themselves.
void check_not_expired(X509* leaf, const std::string& cert_path);

/// All of the above: chain, key, match, expiry, and the names. Throws TlsError.
CertifiedKey load_certified_key(const std::string& cert_path, const std::string& key_path);

/// The names a certificate serves, as CertifiedKey::names.
std::vector<std::string> certificate_names(X509* cert);

/// Checks that `path` is a PEM file of at least one CA certificate. Throws TlsError.
void check_ca_file(const std::string& path);

}  // namespace fulcrum::tls
