// Parsing and checking of the `tls` sections.

#include "config/tls.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr std::string_view kVersions[] = {"1.2", "1.3"};
constexpr std::size_t kMaxProtocolBytes = 255;  // ALPN's one-byte length.
constexpr auto kMinRotation = std::chrono::seconds(1);
constexpr auto kMaxRotation = std::chrono::hours(24 * 7);  // RFC 8446's ticket lifetime cap.

std::vector<std::string> read_alpn(const Source& source, const Field& field) {
  std::vector<std::string> protocols;
  for (const Field& item : read_list(source, field, /*allow_empty=*/true)) {
    source.recover([&] {
      std::string protocol = read_string(source, item);
      const bool visible = std::all_of(protocol.begin(), protocol.end(),
                                       [](char c) { return c > 0x20 && c < 0x7f; });
      if (protocol.empty() || protocol.size() > kMaxProtocolBytes || !visible) {
        source.fail(item.mark(), fmt::format("expected an ALPN protocol name like http/1.1 (1 to "
                                             "255 visible characters), got '{}'",
                                             protocol));
      }
      protocols.push_back(std::move(protocol));
    });
  }
  return protocols;
}

// The files are loaded and checked above config, by tls::check_config_files, which reports a
// bad one at the position recorded here.
TlsCertificateFiles read_certificate(const Source& source, const Field& item) {
  const MapReader m(source, item, schema::kTlsCertificate);
  const Field& cert_field = m.require("cert");
  const Field& key_field = m.require("key");
  return {read_path(source, cert_field), read_path(source, key_field),
          position_of(cert_field.mark()), position_of(key_field.mark())};
}

}  // namespace

// Relative to the configuration file, so a configuration and its certificates move together.
std::string read_path(const Source& source, const Field& field) {
  const std::string text = read_string(source, field);
  if (text.empty()) source.fail(field.mark(), "expected a file path, got an empty string");
  std::filesystem::path path(text);
  if (path.is_relative()) path = std::filesystem::path(source.name()).parent_path() / path;
  return path.lexically_normal().string();
}

TlsListenerConfig read_listener_tls(const Source& source, const Field& field, ListenerMode mode) {
  const MapReader m(source, field, schema::kTlsListener);
  TlsListenerConfig tls;
  tls.enabled = true;
  source.recover([&] {
    for (const Field& item : read_list(source, m.require("certificates"))) {
      source.recover([&] { tls.certificates.push_back(read_certificate(source, item)); });
    }
  });
  if (const Field* f = m.find("min_version")) {
    source.recover([&] {
      tls.min_version =
          read_choice(source, *f, kVersions) == 0 ? TlsVersion::k1_2 : TlsVersion::k1_3;
    });
  }
  if (mode == ListenerMode::kHttp) tls.alpn = {"http/1.1"};
  if (const Field* f = m.find("alpn")) source.recover([&] { tls.alpn = read_alpn(source, *f); });
  if (const Field* f = m.find("session_tickets")) {
    source.recover([&] { tls.session_tickets = read_bool(source, *f); });
  }
  if (const Field* f = m.find("ticket_key_rotation")) {
    source.recover([&] {
      tls.ticket_key_rotation = read_duration(source, *f, /*allow_zero=*/false);
      if (tls.ticket_key_rotation < kMinRotation || tls.ticket_key_rotation > kMaxRotation) {
        source.fail(f->mark(), "ticket_key_rotation must be between 1s and 168h (7 days)");
      }
    });
  }
  return tls;
}

TlsClusterConfig read_cluster_tls(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kTlsCluster);
  TlsClusterConfig tls;
  tls.enabled = true;
  if (const Field* f = m.find("enabled")) {
    source.recover([&] { tls.enabled = read_bool(source, *f); });
  }
  if (const Field* f = m.find("verify")) {
    source.recover([&] { tls.verify = read_bool(source, *f); });
  }
  if (const Field* f = m.find("ca_file")) {
    source.recover([&] {
      tls.ca_file = read_path(source, *f);
      tls.ca_file_at = position_of(f->mark());
    });
  }
  if (const Field* f = m.find("sni")) {
    source.recover([&] {
      tls.sni = read_string(source, *f);
      std::transform(tls.sni.begin(), tls.sni.end(), tls.sni.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!is_valid_name(tls.sni) || tls.sni.find('.') == 0) {
        source.fail(f->mark(), fmt::format("expected a host name for sni, got '{}'", tls.sni));
      }
      if (is_ip_address(tls.sni)) {
        source.fail(f->mark(), fmt::format("sni must be a host name, not an IP address ('{}'); "
                                           "servers given by address are verified without one",
                                           tls.sni));
      }
    });
  }
  if (const Field* f = m.find("alpn")) source.recover([&] { tls.alpn = read_alpn(source, *f); });
  return tls;
}

}  // namespace fulcrum::config::detail
