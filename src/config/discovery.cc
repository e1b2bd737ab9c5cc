// Parsing of a cluster's `discovery` mapping (docs/configuration.md).

#include <fmt/format.h>

#include <array>
#include <filesystem>

#include "config/etcd.h"
#include "config/sections.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr std::string_view kTypes[] = {"static", "dns", "etcd", "file"};

// Which type each type-specific key belongs to, so a key given for another type is an error
// rather than silently ignored.
struct KeyOwner {
  std::string_view key;
  DiscoveryType type;
};
constexpr std::array kKeyOwners{
    KeyOwner{"name", DiscoveryType::kDns},      KeyOwner{"port", DiscoveryType::kDns},
    KeyOwner{"resolvers", DiscoveryType::kDns}, KeyOwner{"min_ttl", DiscoveryType::kDns},
    KeyOwner{"max_ttl", DiscoveryType::kDns},   KeyOwner{"endpoints", DiscoveryType::kEtcd},
    KeyOwner{"prefix", DiscoveryType::kEtcd},   KeyOwner{"path", DiscoveryType::kFile},
    KeyOwner{"tls", DiscoveryType::kEtcd},      KeyOwner{"auth", DiscoveryType::kEtcd}};

std::string type_name(DiscoveryType type) {
  return std::string(kTypes[static_cast<std::size_t>(type)]);
}

std::string read_address(const Source& source, const Field& field) {
  const std::string text = read_string(source, field);
  std::string reason;
  const auto host_port = parse_host_port(text, 1, &reason);
  if (!host_port) {
    source.fail(field.mark(), fmt::format("invalid address '{}': {}", text, reason));
  }
  return host_port->to_string();
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void read_dns(const Source& source, const MapReader& m, DiscoveryConfig& d) {
  const Field& name = m.require("name");
  d.name = read_string(source, name);
  if (!is_dns_name(d.name)) {
    source.fail(name.mark(), fmt::format("invalid DNS name '{}'", d.name));
  }
  if (const Field* f = m.find("port"))
    d.port = static_cast<uint16_t>(read_uint(source, *f, 1, 65535));
  const bool srv = d.name.starts_with('_');
  if (srv && d.port != 0) {
    source.fail(
        m.find("port")->mark(),
        "'port' is for A/AAAA names; an SRV name ('_service._proto.name') brings its ports");
  }
  if (!srv && d.port == 0) {
    source.fail(name.mark(), fmt::format("'{}' is not an SRV name ('_service._proto.name'): give "
                                         "'port' to use its A/AAAA records",
                                         d.name));
  }
  if (const Field* f = m.find("resolvers")) {
    for (const Field& item : read_list(source, *f)) {
      const std::string address = read_address(source, item);
      // c-ares takes resolvers by IP address; a name here would need a resolver of its own.
      const std::string host = address.substr(0, address.rfind(':'));
      if (host.find_first_not_of("0123456789.:abcdef[]") != std::string::npos) {
        source.fail(item.mark(),
                    fmt::format("resolver '{}' must be an IP address and port", address));
      }
      d.resolvers.push_back(address);
    }
  }
  if (const Field* f = m.find("min_ttl")) d.min_ttl = read_duration(source, *f, false);
  if (const Field* f = m.find("max_ttl")) d.max_ttl = read_duration(source, *f, false);
  if (d.max_ttl < d.min_ttl) {
    const Field* f = m.find("max_ttl") ? m.find("max_ttl") : m.find("min_ttl");
    source.fail(f->mark(), "'max_ttl' must not be below 'min_ttl'");
  }
}

void read_etcd(const Source& source, const MapReader& m, DiscoveryConfig& d) {
  if (const Field* f = m.find("tls")) d.etcd_tls = read_etcd_tls(source, *f);
  if (const Field* f = m.find("auth")) d.etcd_auth = read_etcd_auth(source, *f);
  for (const Field& item : read_list(source, m.require("endpoints"))) {
    d.endpoints.push_back(read_etcd_endpoint(source, item, d.etcd_tls));
  }
  const Field& prefix = m.require("prefix");
  d.prefix = read_string(source, prefix);
  if (!d.prefix.starts_with('/')) {
    source.fail(prefix.mark(), fmt::format("etcd prefix '{}' must start with '/'", d.prefix));
  }
}

void read_file_path(const Source& source, const MapReader& m, DiscoveryConfig& d) {
  const Field& field = m.require("path");
  std::filesystem::path path(read_string(source, field));
  if (path.empty()) source.fail(field.mark(), "'path' must not be empty");
  // Relative to the configuration file, so a config and its server list can move together.
  if (path.is_relative()) path = std::filesystem::path(source.name()).parent_path() / path;
  d.path = path.lexically_normal().string();
}

}  // namespace

DiscoveryConfig read_discovery(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kDiscovery);
  DiscoveryConfig d;
  d.type = static_cast<DiscoveryType>(read_choice(source, m.require("type"), kTypes));
  if (const Field* f = m.find("allow_empty")) d.allow_empty = read_bool(source, *f);
  for (const KeyOwner& owner : kKeyOwners) {
    if (owner.type == d.type) continue;
    if (const Field* f = m.find(owner.key)) {
      source.fail(f->key_mark(), fmt::format("'{}' applies to discovery type {}, not {}", owner.key,
                                             type_name(owner.type), type_name(d.type)));
    }
  }
  switch (d.type) {
    case DiscoveryType::kStatic:
      break;
    case DiscoveryType::kDns:
      read_dns(source, m, d);
      break;
    case DiscoveryType::kEtcd:
      read_etcd(source, m, d);
      break;
    case DiscoveryType::kFile:
      read_file_path(source, m, d);
      break;
  }
  return d;
}

}  // namespace fulcrum::config::detail
