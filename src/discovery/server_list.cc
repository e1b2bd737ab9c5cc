#include "discovery/server_list.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "config/yaml_reader.h"

namespace fulcrum::discovery {
namespace {

using config::detail::Field;
using config::detail::MapReader;

constexpr std::string_view kKeys[] = {"address", "weight", "backup", "drain"};
constexpr config::schema::Section kServerSection{"discovered server", kKeys};
constexpr uint64_t kMaxWeight = 10000;  // As the configuration's `servers`.

}  // namespace

Membership parse_server_list(std::string_view text, const std::string& name) {
  const config::detail::Source source(name);
  const auto document = config::detail::load_document(source, text);
  if (!document) {
    source.fail(YAML::Mark(), "the file is empty (write [] for no servers)");
  }
  const Field root{"servers", *document, std::nullopt};
  Membership servers;
  std::map<std::string, int> first_line;
  for (const Field& item : config::detail::read_list(source, root, /*allow_empty=*/true)) {
    const MapReader m(source, item, kServerSection);
    const Field& address = m.require("address");
    DiscoveredServer server;
    const std::string text_address = config::detail::read_string(source, address);
    std::string reason;
    const auto host_port = config::parse_host_port(text_address, 1, &reason);
    if (!host_port) {
      source.fail(address.mark(),
                  fmt::format("invalid server address '{}': {}", text_address, reason));
    }
    server.spec.address = host_port->to_string();
    const auto [it, inserted] =
        first_line.emplace(server.spec.address, config::detail::line_of(address.mark()));
    if (!inserted) {
      source.fail(address.mark(), fmt::format("duplicate server address '{}' (first at line {})",
                                              server.spec.address, it->second));
    }
    if (const Field* f = m.find("weight")) {
      server.spec.weight =
          static_cast<uint32_t>(config::detail::read_uint(source, *f, 0, kMaxWeight));
    }
    if (const Field* f = m.find("backup"))
      server.spec.backup = config::detail::read_bool(source, *f);
    if (const Field* f = m.find("drain")) server.draining = config::detail::read_bool(source, *f);
    servers.push_back(std::move(server));
  }
  std::sort(servers.begin(), servers.end(),
            [](const auto& a, const auto& b) { return a.spec.address < b.spec.address; });
  return servers;
}

}  // namespace fulcrum::discovery
