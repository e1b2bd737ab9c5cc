#include "tls/client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <system_error>
#include <vector>

#include "tls/certificate.h"

namespace fulcrum::tls {

ClientTlsContext::ClientTlsContext(const config::TlsClusterConfig& config,
                                   const config::TlsCertificateFiles* client_certificate)
    : context_(SSL_CTX_new(TLS_client_method())), sni_(config.sni), verify_(config.verify) {
  if (!context_) throw TlsError("cannot create a TLS context: " + take_openssl_errors());
  SSL_CTX* ctx = context_.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_verify(ctx, verify_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (verify_) {
    ERR_clear_error();
    if (!config.ca_file.empty()) {
      if (SSL_CTX_load_verify_file(ctx, config.ca_file.c_str()) != 1) {
        throw TlsError(config.ca_file + ": cannot load CA certificates: " + take_openssl_errors());
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      throw TlsError("cannot load the system's CA certificates: " + take_openssl_errors());
    }
  }
  if (!config.alpn.empty()) {
    const std::vector<unsigned char> wire = alpn_wire_format(config.alpn);
    // Unlike most of OpenSSL, 0 means success here.
    if (SSL_CTX_set_alpn_protos(ctx, wire.data(), static_cast<unsigned int>(wire.size())) != 0) {
      throw TlsError("cannot set ALPN protocols: " + take_openssl_errors());
    }
  }
  if (client_certificate != nullptr) use_client_certificate(*client_certificate);
}

void ClientTlsContext::use_client_certificate(const config::TlsCertificateFiles& files) {
  const std::vector<X509Ptr> chain = load_certificate_chain(files.cert);
  const EvpPkeyPtr key = load_private_key(files.key);
  check_key_matches(chain.front().get(), key.get(), files.cert, files.key);
  SSL_CTX* ctx = context_.get();
  ERR_clear_error();
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    throw TlsError(files.cert + ": cannot use the client certificate: " + take_openssl_errors());
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      throw TlsError(files.cert +
                     ": cannot use an intermediate certificate: " + take_openssl_errors());
    }
  }
}

SslPtr ClientTlsContext::new_session(std::string_view host) const {
  SslPtr ssl(SSL_new(context_.get()));
  if (!ssl) throw TlsError("cannot create a TLS session: " + take_openssl_errors());
  const std::string name(sni_.empty() ? host : std::string_view(sni_));
  const bool by_address = sni_.empty() && is_ip_address(name);
  if (!by_address && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1) {
    throw TlsError("invalid server name '" + name + "': " + take_openssl_errors());
  }
  if (!verify_) return ssl;
  // RFC 6125: wildcards cover exactly one whole left-most label.
  SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = by_address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str())
                            : SSL_set1_host(ssl.get(), name.c_str());
  if (ok != 1) throw TlsError("cannot verify server name '" + name + "': " + take_openssl_errors());
  return ssl;
}

std::string_view host_of(std::string_view address) {
  if (address.starts_with('[')) {
    const std::size_t close = address.find(']');
    return close == std::string_view::npos ? address.substr(1) : address.substr(1, close - 1);
  }
  const std::size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

bool is_ip_address(std::string_view host) {
  const std::string text(host);
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string describe_handshake_error(SSL* ssl, const std::error_code& error) {
  if (ssl != nullptr) {
    const long result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK) {
      return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
    }
  }
  return error.message();
}

}  // namespace fulcrum::tls
