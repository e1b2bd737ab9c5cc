#pragma once

// Session ticket keys: the server encrypts each session into a ticket the client keeps, so a
// returning client resumes without a full handshake and the server stores nothing. The keys
// rotate: tickets are issued under the current key and accepted under the current and the
// previous one, so a ticket lives between one and two rotation periods and a stolen key stops
// mattering after two rotations.

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

namespace fulcrum::tls {

class TicketKeyRing {
 public:
  static constexpr std::size_t kNameBytes = 16;  ///< As OpenSSL's ticket callback fixes it.

  /// Starts with a fresh random current key and no previous one.
  TicketKeyRing();
  ~TicketKeyRing();
  TicketKeyRing(const TicketKeyRing&) = delete;
  TicketKeyRing& operator=(const TicketKeyRing&) = delete;

  /// The current key becomes the previous one (the previous one is dropped) and a new random
  /// key becomes current. Thread-safe; the owner calls it on its own timer.
  void rotate();

  /// OpenSSL's ticket key callback contract (SSL_CTX_set_tlsext_ticket_key_evp_cb): with
  /// `encrypt`, fills `name` and `iv` and keys both contexts with the current key, returns 1;
  /// otherwise looks `name` up and returns 1 (current), 2 (previous: accept, issue a fresh
  /// ticket) or 0 (unknown: full handshake); -1 on an internal error. Thread-safe.
  int handle(unsigned char name[kNameBytes], unsigned char* iv, EVP_CIPHER_CTX* cipher,
             EVP_MAC_CTX* mac, bool encrypt) const;

  /// Installs the callback on `ctx`; it finds this ring through the context's ex_data, which
  /// holds a reference, so the ring lives as long as any context using it.
  static void install(SSL_CTX* ctx, std::shared_ptr<TicketKeyRing> ring);

 private:
  struct Key {
    std::array<unsigned char, kNameBytes> name;
    std::array<unsigned char, 32> aes;   // AES-256-CBC
    std::array<unsigned char, 32> hmac;  // HMAC-SHA256
  };
  static Key random_key();

  EVP_CIPHER* cipher_;  // Fetched once: an implicit fetch per handshake takes a global lock.
  mutable std::mutex mutex_;
  Key current_;
  Key previous_{};  // Meaningful once has_previous_.
  bool has_previous_ = false;
};

}  // namespace fulcrum::tls
