#include "tls/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "tls/openssl.h"

namespace fulcrum::tls {
namespace {

void free_ring(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::shared_ptr<TicketKeyRing>*>(ptr);
}

int ring_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_ring);
  return index;
}

int ticket_callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                    EVP_MAC_CTX* mac, int encrypt) {
  const auto* ring = static_cast<const std::shared_ptr<TicketKeyRing>*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index()));
  if (ring == nullptr) return -1;
  const int result = (*ring)->handle(name, iv, cipher, mac, encrypt != 0);
  // A TLS 1.3 client uses a ticket once: unless told to renew, a client that resumed has no
  // ticket left and pays a full handshake on its next connection (nginx renews likewise).
  if (encrypt == 0 && result == 1 && SSL_version(ssl) >= TLS1_3_VERSION) return 2;
  return result;
}

}  // namespace

TicketKeyRing::TicketKeyRing()
    : cipher_(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr)), current_(random_key()) {
  if (cipher_ == nullptr) throw TlsError("AES-256-CBC unavailable: " + take_openssl_errors());
}

TicketKeyRing::~TicketKeyRing() {
  OPENSSL_cleanse(&current_, sizeof current_);
  OPENSSL_cleanse(&previous_, sizeof previous_);
  EVP_CIPHER_free(cipher_);
}

TicketKeyRing::Key TicketKeyRing::random_key() {
  Key key;
  if (RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) != 1 ||
      RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size())) != 1 ||
      RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) != 1) {
    throw TlsError("no random bytes for a ticket key: " + take_openssl_errors());
  }
  return key;
}

void TicketKeyRing::rotate() {
  Key fresh = random_key();
  std::lock_guard lock(mutex_);
  previous_ = current_;
  has_previous_ = true;
  current_ = fresh;
  OPENSSL_cleanse(&fresh, sizeof fresh);
}

int TicketKeyRing::handle(unsigned char name[kNameBytes], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac, bool encrypt) const {
  // The key is copied out under the lock (once per handshake, never per request), so the
  // cryptography runs without it.
  Key key;
  int found = 1;
  {
    std::lock_guard lock(mutex_);
    if (encrypt || std::equal(current_.name.begin(), current_.name.end(), name)) {
      key = current_;
    } else if (has_previous_ && std::equal(previous_.name.begin(), previous_.name.end(), name)) {
      key = previous_;
      found = 2;  // Still good, but the client should get a ticket under the current key.
    } else {
      return 0;
    }
  }
  const int iv_length = EVP_CIPHER_get_iv_length(cipher_);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  int result = found;
  if (encrypt) {
    std::copy(key.name.begin(), key.name.end(), name);
    if (RAND_bytes(iv, iv_length) != 1 ||
        EVP_EncryptInit_ex2(cipher, cipher_, key.aes.data(), iv, nullptr) != 1) {
      result = -1;
    }
  } else if (EVP_DecryptInit_ex2(cipher, cipher_, key.aes.data(), iv, nullptr) != 1) {
    result = -1;
  }
  if (result > 0 && EVP_MAC_CTX_set_params(mac, params) != 1) result = -1;
  OPENSSL_cleanse(&key, sizeof key);
  return result;
}

void TicketKeyRing::install(SSL_CTX* ctx, std::shared_ptr<TicketKeyRing> ring) {
  auto* held = new std::shared_ptr<TicketKeyRing>(std::move(ring));
  if (SSL_CTX_set_ex_data(ctx, ring_index(), held) != 1) {
    delete held;
    throw TlsError("cannot attach ticket keys: " + take_openssl_errors());
  }
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback);
}

}  // namespace fulcrum::tls
