#include "discovery/srv_mapping.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

namespace fulcrum::discovery {
namespace {

constexpr uint32_t kMaxWeight = 10000;

void sort_by_address(Membership& members) {
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.spec.address < b.spec.address; });
}

}  // namespace

uint32_t server_weight_of_srv(uint16_t srv_weight) {
  return std::clamp<uint32_t>(srv_weight, 1, kMaxWeight);
}

std::string ip_text(const core::NetAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.family == 6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
  return text;
}

Membership map_srv(const std::vector<SrvRecord>& records,
                   const std::map<std::string, ResolvedName>& targets) {
  Membership members;
  if (records.empty()) return members;
  uint16_t primary = records.front().priority;
  for (const SrvRecord& record : records) primary = std::min(primary, record.priority);
  std::set<std::string> seen;
  for (const SrvRecord& record : records) {
    const auto it = targets.find(record.target);
    if (it == targets.end() || it->second.addresses.empty()) continue;
    DiscoveredServer server;
    server.spec.address = record.target + ":" + std::to_string(record.port);
    if (!seen.insert(server.spec.address).second) continue;
    server.spec.weight = server_weight_of_srv(record.weight);
    server.spec.backup = record.priority != primary;
    server.spec.resolved = it->second.addresses.front();
    server.spec.resolved.port = record.port;
    members.push_back(std::move(server));
  }
  sort_by_address(members);
  return members;
}

Membership map_addresses(const std::vector<core::NetAddress>& addresses, uint16_t port) {
  Membership members;
  std::set<std::string> seen;
  for (const core::NetAddress& address : addresses) {
    DiscoveredServer server;
    const std::string ip = ip_text(address);
    server.spec.address = address.family == 6 ? "[" + ip + "]:" + std::to_string(port)
                                              : ip + ":" + std::to_string(port);
    if (!seen.insert(server.spec.address).second) continue;
    server.spec.resolved = address;
    server.spec.resolved.port = port;
    members.push_back(std::move(server));
  }
  sort_by_address(members);
  return members;
}

std::chrono::nanoseconds refresh_after(uint32_t ttl_seconds, std::chrono::nanoseconds min_ttl,
                                       std::chrono::nanoseconds max_ttl) {
  return std::clamp<std::chrono::nanoseconds>(std::chrono::seconds(ttl_seconds), min_ttl, max_ttl);
}

}  // namespace fulcrum::discovery
