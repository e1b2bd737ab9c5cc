#include "agent/options.h"

#include <arpa/inet.h>

#include <charconv>

namespace fulcrum::agent {
namespace {

bool is_ip_address(const std::string& host, int family) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(family, host.c_str(), buffer) == 1;
}

std::optional<uint64_t> parse_number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = quoted + ": expected HOST:PORT, [IPV6]:PORT or :PORT";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  const auto port = parse_number(text.substr(colon + 1));
  if (!port || *port > 65535) {
    error = quoted + ": the port must be a number from 0 to 65535";
    return std::nullopt;
  }
  ListenAddress address{.port = static_cast<uint16_t>(*port)};
  if (host.empty()) {
    address.host = "0.0.0.0";
  } else if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    address.host = std::string(host.substr(1, host.size() - 2));
    if (!is_ip_address(address.host, AF_INET6)) {
      error = quoted + ": '" + address.host + "' is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    address.host = std::string(host);
    if (!is_ip_address(address.host, AF_INET)) {
      error = quoted + ": '" + address.host +
              "' is not an IPv4 address (write IPv6 addresses in brackets, as [::1]:1510)";
      return std::nullopt;
    }
  }
  return address;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
  uint64_t scale = 1;
  std::string_view number = text;
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
    scale = 1000;
  }
  const auto value = parse_number(number);
  constexpr uint64_t kHourMs = 3600 * 1000;
  if (!value || *value == 0 || *value > kHourMs / scale) {
    error = "'" + std::string(text) + "': expected a duration from 1ms to 3600s, as 500ms or 2s";
    return std::nullopt;
  }
  return std::chrono::milliseconds(*value * scale);
}

bool parse_register_target(std::string_view url, RegistrationOptions& out, std::string& error) {
  const std::string quoted = "'" + std::string(url) + "'";
  constexpr std::string_view kScheme = "etcd://";
  if (!url.starts_with(kScheme)) {
    error = quoted + ": expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX/CLUSTER";
    return false;
  }
  url.remove_prefix(kScheme.size());
  const std::size_t slash = url.find('/');
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.empty()) {
    error = quoted + ": no key prefix after the endpoints (as etcd://127.0.0.1:2379/fulcrum/api)";
    return false;
  }
  if (path.find("//") != std::string_view::npos) {
    error = quoted + ": empty segment in the key prefix";
    return false;
  }
  auto endpoints = discovery::parse_etcd_endpoints(url.substr(0, slash), error);
  if (!endpoints) {
    error = quoted + ": " + error;
    return false;
  }
  out.endpoints = std::move(*endpoints);
  out.key_prefix = std::string(path) + "/";
  return true;
}

bool set_etcd_access(discovery::EtcdAccess access, bool tls, RegistrationOptions& out,
                     std::string& error) {
  if (access.cert.empty() != access.key.empty()) {
    error = "--etcd-cert and --etcd-key go together (a client certificate and its key)";
    return false;
  }
  if (access.username.empty() != access.password_file.empty()) {
    error = "--etcd-username and --etcd-password-file go together";
    return false;
  }
  if (!access.password_file.empty() &&
      !discovery::read_etcd_password(access.password_file, error)) {
    error = "--etcd-password-file: " + error;
    return false;
  }
  tls = tls || !access.ca_file.empty() || !access.cert.empty() || !access.sni.empty();
  for (discovery::EtcdEndpoint& endpoint : out.endpoints) endpoint.tls = tls;
  out.access = std::move(access);
  return true;
}

std::optional<std::string> parse_advertise_address(std::string_view text, std::string& error) {
  auto endpoint = discovery::parse_etcd_endpoint(text, error);
  if (!endpoint) {
    error = "'" + std::string(text) + "': expected HOST:PORT (IPv6 as [::1]:8080), port 1..65535";
    return std::nullopt;
  }
  return endpoint->to_string();
}

}  // namespace fulcrum::agent
