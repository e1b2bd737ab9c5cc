#pragma once

// TLS termination for one listener: the certificates it serves, chosen by SNI, and everything
// a new client handshake needs. Reloadable while connections are open.
//
// Each certificate gets its own SSL_CTX with the same settings; every handshake starts on the
// first one (the default), whose server-name callback switches to the certificate the client
// asked for: an exact name first, then a one-label wildcard ("*.example.com" serves
// "a.example.com" but not "a.b.example.com"), otherwise the default. The name table and the
// other contexts hang off the default context's ex_data, so one reference to it (an SSL holds
// one from SSL_new until it is freed) keeps the whole set alive: a reload publishes a new set
// and connections keep theirs, by OpenSSL's reference counting.

#include <chrono>
#include <memory>
#include <mutex>

#include "config/config.h"
#include "tls/openssl.h"
#include "tls/ticket_keys.h"

namespace fulcrum::tls {

class ServerTlsContext {
 public:
  /// Loads every certificate and key; throws TlsError naming the file and OpenSSL's reason.
  explicit ServerTlsContext(config::TlsListenerConfig config);
  /// The context of a reloaded listener: new certificates, `previous`'s session ticket keys (so
  /// clients resume across the reload) and rotation schedule. `previous` is left untouched, so
  /// a reload that fails at a later step keeps serving exactly what it served.
  ServerTlsContext(config::TlsListenerConfig config, const ServerTlsContext& previous);

  /// A fresh SSL object, ready for the server side of a handshake, on the certificates current
  /// now. Thread-safe; called once per accepted connection (a short lock, no lock per request).
  /// Rotates the ticket keys first when a rotation is due (rotate_ticket_keys_if_due).
  SslPtr new_session() const;

  /// Loads the certificate files again (a certificate renewed in place) and publishes the result
  /// for new handshakes; connections already open keep the set they started with. On error
  /// throws TlsError and the current set stays. Thread-safe. Ticket keys are kept, so sessions
  /// resume across a reload.
  void reload();
  /// The same with new settings (a changed configuration file).
  void reload(config::TlsListenerConfig config);

  /// Rotates the session ticket keys (see TicketKeyRing). The owner calls it every
  /// ticket_key_rotation(), from any thread; this class runs no timer of its own.
  void rotate_ticket_keys() { tickets_->rotate(); }
  /// Rotates the ticket keys when ticket_key_rotation() has passed since the last scheduled
  /// rotation: once, or twice when two periods or more went by, so that an idle listener drops
  /// its old keys at its next connection. The proxy calls it through new_session(), so every
  /// ticket is issued and checked under keys on schedule without a timer; an owner with a
  /// timer may call it too. Returns how many rotations it made (0, 1 or 2). Thread-safe.
  int rotate_ticket_keys_if_due() const;
  core::Nanos ticket_key_rotation() const;

 private:
  std::chrono::steady_clock::time_point next_rotation() const;
  static std::shared_ptr<SSL_CTX> build(const config::TlsListenerConfig& config,
                                        const std::shared_ptr<TicketKeyRing>& tickets);

  const std::shared_ptr<TicketKeyRing> tickets_;
  std::mutex reload_mutex_;  // One reload at a time; held while files load, not by handshakes.
  mutable std::mutex mutex_;
  config::TlsListenerConfig config_;
  std::shared_ptr<SSL_CTX> current_;
  mutable std::chrono::steady_clock::time_point next_rotation_;
};

}  // namespace fulcrum::tls
