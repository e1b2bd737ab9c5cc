#pragma once

// Owning handles for OpenSSL objects and the one way errors leave this library: TlsError, whose
// message names the file or peer concerned and OpenSSL's reason.

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::tls {

namespace detail {
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
}  // namespace detail

using SslCtxPtr = std::unique_ptr<SSL_CTX, detail::Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, detail::Deleter<SSL_free>>;
using X509Ptr = std::unique_ptr<X509, detail::Deleter<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, detail::Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, detail::Deleter<BIO_free_all>>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, detail::Deleter<SSL_SESSION_free>>;

/// A certificate, key or context that cannot be used; what() says which file and why.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Empties this thread's OpenSSL error queue into one line of reasons ("key values mismatch"),
/// each reason once; `fallback` when the queue held nothing.
std::string take_openssl_errors(std::string_view fallback = "unknown OpenSSL error");

/// ALPN protocol names in the wire format (each prefixed by its length), as OpenSSL takes them.
/// Names must be 1..255 bytes (the configuration loader checks).
std::vector<unsigned char> alpn_wire_format(const std::vector<std::string>& protocols);

}  // namespace fulcrum::tls
