// Parsing of the etcd connection settings (config/etcd.h).

#include "config/etcd.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "config/tls.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr std::string_view kHttp = "http://";
constexpr std::string_view kHttps = "https://";

std::string read_sni(const Source& source, const Field& field) {
  std::string sni = read_string(source, field);
  std::transform(sni.begin(), sni.end(), sni.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!is_valid_name(sni) || sni.starts_with('.') || is_ip_address(sni)) {
    source.fail(field.mark(), fmt::format("expected a host name for sni, got '{}'", sni));
  }
  return sni;
}

}  // namespace

EtcdTlsConfig read_etcd_tls(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kEtcdTls);
  EtcdTlsConfig tls;
  tls.enabled = true;
  if (const Field* f = m.find("ca_file")) {
    tls.ca_file = read_path(source, *f);
    tls.ca_file_at = position_of(f->mark());
  }
  const Field* cert = m.find("cert");
  const Field* key = m.find("key");
  if ((cert == nullptr) != (key == nullptr)) {
    const Field* given = cert != nullptr ? cert : key;
    source.fail(given->key_mark(), "a client certificate needs both 'cert' and 'key'");
  }
  if (cert != nullptr) {
    tls.client_certificate = {read_path(source, *cert), read_path(source, *key),
                              position_of(cert->mark()), position_of(key->mark())};
  }
  if (const Field* f = m.find("sni")) tls.sni = read_sni(source, *f);
  return tls;
}

EtcdAuthConfig read_etcd_auth(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kEtcdAuth);
  EtcdAuthConfig auth;
  const Field& username = m.require("username");
  auth.username = read_string(source, username);
  if (auth.username.empty()) source.fail(username.mark(), "'username' must not be empty");
  const Field& password_file = m.require("password_file");
  auth.password_file = read_path(source, password_file);
  // Read again at each authentication (a new password needs no reload); checked here so that a
  // missing file fails `fulcrum --check` rather than the first authentication.
  std::ifstream in(auth.password_file, std::ios::binary);
  if (!in) {
    source.fail(password_file.mark(),
                fmt::format("cannot read password file '{}'", auth.password_file));
  }
  std::string first_line;
  std::getline(in, first_line);
  if (first_line.find_first_not_of("\r") == std::string::npos) {
    source.fail(password_file.mark(),
                fmt::format("password file '{}' is empty", auth.password_file));
  }
  return auth;
}

std::string read_etcd_endpoint(const Source& source, const Field& field, const EtcdTlsConfig& tls) {
  const std::string text = read_string(source, field);
  std::string_view address = text;
  bool https = tls.enabled;
  if (address.starts_with(kHttps)) {
    address.remove_prefix(kHttps.size());
    https = true;
  } else if (address.starts_with(kHttp)) {
    if (tls.enabled) {
      source.fail(field.mark(),
                  fmt::format("etcd endpoint '{}' is plain HTTP, but 'tls' is given: with 'tls' "
                              "every endpoint speaks TLS (write https://HOST:PORT or HOST:PORT)",
                              text));
    }
    address.remove_prefix(kHttp.size());
  } else if (address.find("://") != std::string_view::npos) {
    source.fail(field.mark(), fmt::format("etcd endpoint '{}': the scheme must be http:// or "
                                          "https://",
                                          text));
  }
  std::string reason;
  const auto host_port = parse_host_port(address, 1, &reason);
  if (!host_port) {
    source.fail(field.mark(), fmt::format("invalid etcd address '{}': {}", text, reason));
  }
  return (https ? std::string(kHttps) : std::string()) + host_port->to_string();
}

}  // namespace fulcrum::config::detail
