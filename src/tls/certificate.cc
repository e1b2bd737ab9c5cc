#include "tls/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace fulcrum::tls {
namespace {

// Far above any certificate chain or CA bundle; bounds what a wrong path (/dev/zero, a log)
// can make the loader read.
constexpr std::size_t kMaxPemFileBytes = 8 << 20;

std::string read_whole_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw TlsError(path + ": cannot open: " + std::strerror(errno));
  std::string content;
  char chunk[4096];
  std::size_t n = 0;
  while (content.size() <= kMaxPemFileBytes && (n = std::fread(chunk, 1, sizeof chunk, file)) > 0) {
    content.append(chunk, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) throw TlsError(path + ": cannot read: " + std::strerror(error));
  if (content.size() > kMaxPemFileBytes) {
    throw TlsError(path + ": larger than 8 MiB: not a PEM certificate or key file");
  }
  return content;
}

BioPtr memory_bio(const std::string& content) {
  return BioPtr(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
}

// Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase.
int refuse_passphrase(char*, int, int, void*) { return -1; }

std::string format_time(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "an unreadable date";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<X509Ptr> load_certificate_chain(const std::string& path) {
  const std::string content = read_whole_file(path);
  ERR_clear_error();
  BioPtr bio = memory_bio(content);
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, nullptr)) {
    chain.emplace_back(cert);
  }
  // The loop ends on "no start line" at the end of the input; anything else is a broken PEM.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  }
  if (ERR_peek_error() != 0) {
    throw TlsError(path + ": not a valid PEM certificate: " + take_openssl_errors());
  }
  if (chain.empty())
    throw TlsError(path + ": no PEM certificate found (expected BEGIN CERTIFICATE)");
  return chain;
}

EvpPkeyPtr load_private_key(const std::string& path) {
  const std::string content = read_whole_file(path);
  ERR_clear_error();
  BioPtr bio = memory_bio(content);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    if (content.find("ENCRYPTED") != std::string::npos) {
      ERR_clear_error();
      throw TlsError(path + ": the private key is encrypted; give an unencrypted key");
    }
    throw TlsError(
        path + ": no usable PEM private key: " + take_openssl_errors("expected BEGIN PRIVATE KEY"));
  }
  return key;
}

void check_key_matches(X509* leaf, EVP_PKEY* key, const std::string& cert_path,
                       const std::string& key_path) {
  ERR_clear_error();
  if (X509_check_private_key(leaf, key) != 1) {
    throw TlsError(key_path + ": the key does not match the certificate in " + cert_path + ": " +
                   take_openssl_errors());
  }
}

void check_not_expired(X509* leaf, const std::string& cert_path) {
  const ASN1_TIME* not_after = X509_get0_notAfter(leaf);
  if (X509_cmp_current_time(not_after) < 0) {
    throw TlsError(cert_path + ": the certificate expired on " + format_time(not_after));
  }
}

CertifiedKey load_certified_key(const std::string& cert_path, const std::string& key_path) {
  std::vector<X509Ptr> chain = load_certificate_chain(cert_path);
  EvpPkeyPtr key = load_private_key(key_path);
  check_key_matches(chain.front().get(), key.get(), cert_path, key_path);
  check_not_expired(chain.front().get(), cert_path);
  CertifiedKey out;
  out.leaf = std::move(chain.front());
  for (std::size_t i = 1; i < chain.size(); ++i) out.intermediates.push_back(std::move(chain[i]));
  out.key = std::move(key);
  out.names = certificate_names(out.leaf.get());
  return out;
}

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const auto* bytes = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
      names.push_back(
          lower({bytes, static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))}));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return names;
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  const auto* bytes = reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn));
  names.push_back(lower({bytes, static_cast<std::size_t>(ASN1_STRING_length(cn))}));
  return names;
}

void check_ca_file(const std::string& path) {
  // Every certificate must parse; unlike a server chain, none has to be a leaf.
  load_certificate_chain(path);
}

}  // namespace fulcrum::tls
