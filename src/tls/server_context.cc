#include "tls/server_context.h"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "tls/certificate.h"

namespace fulcrum::tls {
namespace {

constexpr std::size_t kMaxServerName = 255;  // RFC 1035's limit on a whole name.

struct NamedContext {
  std::string name;
  SSL_CTX* context;  // Owned by ContextData::others, or the default context itself.
};

// What a context's callbacks need, owned by the context through its ex_data and freed with it.
struct ContextData {
  std::vector<unsigned char> alpn;  // Wire format, in our order of preference.
  // The default context only: the SNI table, sorted by name, and the other contexts.
  std::vector<NamedContext> exact;
  std::vector<NamedContext> wildcard;  // Keyed by what follows "*.".
  std::vector<SslCtxPtr> others;
};

void free_data(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ContextData*>(ptr);
}

int data_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_data);
  return index;
}

ContextData& data_of(SSL_CTX* context) {
  return *static_cast<ContextData*>(SSL_CTX_get_ex_data(context, data_index()));
}

SSL_CTX* lookup(const std::vector<NamedContext>& table, std::string_view name) {
  const auto it = std::lower_bound(
      table.begin(), table.end(), name,
      [](const NamedContext& entry, std::string_view key) { return entry.name < key; });
  return it != table.end() && it->name == name ? it->context : nullptr;
}

// Runs during the ClientHello, before the certificate is chosen. Allocation-free: the name is
// lower-cased on the stack and looked up by binary search.
int select_certificate(SSL* ssl, int* alert, void* arg) {
  const auto* data = static_cast<const ContextData*>(arg);
  const char* requested = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (requested == nullptr) return SSL_TLSEXT_ERR_OK;  // No SNI: the default certificate.
  char buffer[kMaxServerName];
  std::size_t length = 0;
  for (; requested[length] != '\0'; ++length) {
    if (length == kMaxServerName) return SSL_TLSEXT_ERR_OK;
    buffer[length] = static_cast<char>(std::tolower(static_cast<unsigned char>(requested[length])));
  }
  if (length > 0 && buffer[length - 1] == '.') --length;  // "example.com." is example.com.
  const std::string_view name(buffer, length);
  SSL_CTX* target = lookup(data->exact, name);
  if (target == nullptr) {
    const std::size_t dot = name.find('.');
    if (dot != std::string_view::npos && dot > 0)
      target = lookup(data->wildcard, name.substr(dot + 1));
  }
  if (target != nullptr && target != SSL_get_SSL_CTX(ssl) &&
      SSL_set_SSL_CTX(ssl, target) == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// Our first protocol the client also offers. None in common: no ALPN at all rather than a fatal
// alert (as HAProxy does), so a client with an unusual list still gets HTTP/1.1.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* ours = static_cast<const std::vector<unsigned char>*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, ours->data(),
                            static_cast<unsigned int>(ours->size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

SslCtxPtr make_context(const CertifiedKey& certified, const config::TlsListenerConfig& config,
                       const std::shared_ptr<TicketKeyRing>& tickets,
                       const std::string& cert_path) {
  SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context) throw TlsError("cannot create a TLS context: " + take_openssl_errors());
  auto* data = new ContextData;
  if (SSL_CTX_set_ex_data(context.get(), data_index(), data) != 1) {
    delete data;
    throw TlsError("cannot attach context data: " + take_openssl_errors());
  }
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_min_proto_version(
      ctx, config.min_version == config::TlsVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Renegotiation only serves attacks on a proxy; the server's order picks the TLS 1.2 cipher.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ERR_clear_error();
  if (SSL_CTX_use_certificate(ctx, certified.leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, certified.key.get()) != 1) {
    throw TlsError(cert_path + ": cannot use the certificate: " + take_openssl_errors());
  }
  for (const X509Ptr& intermediate : certified.intermediates) {
    if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1) {
      throw TlsError(cert_path +
                     ": cannot use an intermediate certificate: " + take_openssl_errors());
    }
  }
  // Resumption is by tickets only: a server-side cache would be per process and need locking.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (config.session_tickets) {
    TicketKeyRing::install(ctx, tickets);
    // A ticket stays decryptable for one to two rotations; promise clients the lower bound.
    const auto lifetime =
        std::chrono::duration_cast<std::chrono::seconds>(config.ticket_key_rotation).count();
    SSL_CTX_set_timeout(ctx, std::max<long>(1, static_cast<long>(lifetime)));
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  if (!config.alpn.empty()) {
    data->alpn = alpn_wire_format(config.alpn);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &data->alpn);
  }
  return context;
}

}  // namespace

ServerTlsContext::ServerTlsContext(config::TlsListenerConfig config)
    : tickets_(std::make_shared<TicketKeyRing>()),
      config_(std::move(config)),
      current_(build(config_, tickets_)),
      next_rotation_(std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         config_.ticket_key_rotation)) {}

ServerTlsContext::ServerTlsContext(config::TlsListenerConfig config,
                                   const ServerTlsContext& previous)
    : tickets_(previous.tickets_),
      config_(std::move(config)),
      current_(build(config_, tickets_)),
      next_rotation_(previous.next_rotation()) {}

std::chrono::steady_clock::time_point ServerTlsContext::next_rotation() const {
  std::lock_guard lock(mutex_);
  return next_rotation_;
}

int ServerTlsContext::rotate_ticket_keys_if_due() const {
  using Clock = std::chrono::steady_clock;
  int due = 0;
  {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    if (now < next_rotation_) return 0;
    const auto period = std::max<Clock::duration>(
        std::chrono::duration_cast<Clock::duration>(config_.ticket_key_rotation),
        std::chrono::seconds(1));
    const auto periods = (now - next_rotation_) / period + 1;
    next_rotation_ += periods * period;
    due = periods >= 2 ? 2 : 1;  // Two rotations drop every key older than one period.
  }
  for (int i = 0; i < due; ++i) tickets_->rotate();
  return due;
}

SslPtr ServerTlsContext::new_session() const {
  rotate_ticket_keys_if_due();
  std::shared_ptr<SSL_CTX> context;
  {
    std::lock_guard lock(mutex_);
    context = current_;
  }
  SslPtr ssl(SSL_new(context.get()));
  if (!ssl) throw TlsError("cannot create a TLS session: " + take_openssl_errors());
  return ssl;
}

void ServerTlsContext::reload() {
  config::TlsListenerConfig config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  reload(std::move(config));
}

void ServerTlsContext::reload(config::TlsListenerConfig config) {
  std::lock_guard reloading(reload_mutex_);
  std::shared_ptr<SSL_CTX> fresh = build(config, tickets_);
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
  current_.swap(fresh);
  // `fresh` now holds the old set; handshakes under way and open connections hold their own
  // references to it.
}

core::Nanos ServerTlsContext::ticket_key_rotation() const {
  std::lock_guard lock(mutex_);
  return config_.ticket_key_rotation;
}

std::shared_ptr<SSL_CTX> ServerTlsContext::build(const config::TlsListenerConfig& config,
                                                 const std::shared_ptr<TicketKeyRing>& tickets) {
  if (config.certificates.empty()) throw TlsError("no certificates configured");
  std::vector<SslCtxPtr> contexts;
  std::map<std::string, SSL_CTX*> exact;
  std::map<std::string, SSL_CTX*> wildcard;
  for (const config::TlsCertificateFiles& files : config.certificates) {
    const CertifiedKey certified = load_certified_key(files.cert, files.key);
    contexts.push_back(make_context(certified, config, tickets, files.cert));
    // Earlier certificates win a name they share with later ones (emplace keeps the first).
    for (const std::string& name : certified.names) {
      if (name.starts_with("*.")) {
        wildcard.emplace(name.substr(2), contexts.back().get());
      } else if (name.find('*') == std::string::npos) {
        exact.emplace(name, contexts.back().get());
      }
    }
  }
  SSL_CTX* first = contexts.front().get();
  ContextData& table = data_of(first);
  for (auto& [name, context] : exact) table.exact.push_back({name, context});
  for (auto& [name, context] : wildcard) table.wildcard.push_back({name, context});
  for (std::size_t i = 1; i < contexts.size(); ++i) table.others.push_back(std::move(contexts[i]));
  SSL_CTX_set_tlsext_servername_callback(first, select_certificate);
  SSL_CTX_set_tlsext_servername_arg(first, &table);
  return std::shared_ptr<SSL_CTX>(contexts.front().release(), SSL_CTX_free);
}

}  // namespace fulcrum::tls
