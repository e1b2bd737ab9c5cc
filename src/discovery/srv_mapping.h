#pragma once

// How DNS answers become cluster members. Pure functions, so the rules are tested without DNS.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/server.h"
#include "discovery/source.h"

namespace fulcrum::discovery {

/// One SRV record (RFC 2782) with its time to live.
struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  ///< Lower-cased, without the trailing dot.
  uint32_t ttl_seconds = 0;
};

/// The addresses a name resolved to, first preferred, and their smallest TTL.
struct ResolvedName {
  std::vector<core::NetAddress> addresses;  ///< Ports 0: the SRV record gives the port.
  uint32_t ttl_seconds = 0;
};

/// SRV weight -> server weight: 0 becomes 1 (in SRV a 0 is "rarely", not "never", and a Fulcrum
/// weight 0 takes no requests at all); above 10000 is capped there, the configuration's limit.
uint32_t server_weight_of_srv(uint16_t srv_weight);

/// SRV records -> members. The lowest priority present is the primary tier; every higher one is
/// the backup tier (Fulcrum has two tiers). A target is one server, "target:port", at its first
/// address; a target that did not resolve is left out; a target listed twice with the same port
/// keeps its first record. Sorted by address.
Membership map_srv(const std::vector<SrvRecord>& records,
                   const std::map<std::string, ResolvedName>& targets);

/// A/AAAA addresses -> members: one server per address, "ip:port" (IPv6 in brackets), weight 1.
/// Duplicates dropped, sorted by address.
Membership map_addresses(const std::vector<core::NetAddress>& addresses, uint16_t port);

/// "10.0.0.1" or "::1" for an address.
std::string ip_text(const core::NetAddress& address);

/// How long to keep an answer: its TTL clamped to [min_ttl, max_ttl].
std::chrono::nanoseconds refresh_after(uint32_t ttl_seconds, std::chrono::nanoseconds min_ttl,
                                       std::chrono::nanoseconds max_ttl);

}  // namespace fulcrum::discovery
