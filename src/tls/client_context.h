#pragma once

// TLS origination for one cluster: the settings every connection to its servers shares, and
// a fresh SSL object per connection carrying the name to send (SNI) and to verify.

#include <string>
#include <string_view>

#include "config/config.h"
#include "tls/openssl.h"

namespace fulcrum::tls {

class ClientTlsContext {
 public:
  /// Throws TlsError when the CA file cannot be used (naming it and the reason). With
  /// `client_certificate`, every handshake offers that certificate, for servers that ask for one
  /// (etcd's --client-cert-auth); a file that cannot be used throws TlsError naming it.
  explicit ClientTlsContext(const config::TlsClusterConfig& config,
                            const config::TlsCertificateFiles* client_certificate = nullptr);

  /// A fresh SSL object for the client side of a handshake with the server `host` (a name or
  /// an IP address, without port or brackets). The name checked against the certificate, and
  /// sent as SNI, is the cluster's `sni` when set, else `host` when it is a name; an IP address
  /// is checked against the certificate's IP SANs and sends no SNI (RFC 6066 forbids one).
  /// Thread-safe.
  SslPtr new_session(std::string_view host) const;

  bool verifies() const { return verify_; }

 private:
  void use_client_certificate(const config::TlsCertificateFiles& files);

  SslCtxPtr context_;
  std::string sni_;
  bool verify_;
};

/// The host of a canonical "host:port" or "[v6]:port" address, without brackets.
std::string_view host_of(std::string_view address);

/// True for an IPv4 or IPv6 address literal (no brackets).
bool is_ip_address(std::string_view host);

/// Why a handshake on `ssl` failed, for logs: the certificate verification result when that is
/// what failed ("certificate verify failed: hostname mismatch"), otherwise `error`'s message.
std::string describe_handshake_error(SSL* ssl, const std::error_code& error);

}  // namespace fulcrum::tls
