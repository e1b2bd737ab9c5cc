#pragma once

// Parsers for the scalar notations the configuration uses: durations ("500ms", "10s"), sizes
// ("16k") and addresses ("host:port", "[::1]:8080"). Pure functions, so the proxy and tools can
// reuse them and tests can cover them without YAML.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace fulcrum::config {

/// Which duration notations parse_duration accepts.
enum class DurationSyntax : uint8_t {
  /// A whole number of ms, s, m or h: the proxy's timeouts need nothing finer.
  kWhole,
  /// Also ns and us, and decimals ("1.5s", "0.25ms"): the simulator's latencies and event times.
  kFine,
};

/// A number and a unit ("500ms", "10s", "2m", "1h"), or a bare "0"; kFine also takes "7ns",
/// "250us" and "1.5s". Computed in integer nanoseconds, so "0.1s" is exactly 100ms. nullopt when
/// malformed, finer than a nanosecond or beyond what Nanos can hold.
std::optional<core::Nanos> parse_duration(std::string_view text,
                                          DurationSyntax syntax = DurationSyntax::kWhole);

/// A whole number of bytes, optionally followed by k or m (binary: 1k = 1024), either case.
std::optional<uint64_t> parse_size(std::string_view text);

/// Decimal digits only, no sign; nullopt on overflow.
std::optional<uint64_t> parse_uint(std::string_view text);

/// The shortest size notation for `bytes`, for messages: 16384 -> "16k".
std::string format_size(uint64_t bytes);

struct HostPort {
  std::string host;  ///< Lower-cased; IPv6 without brackets.
  uint16_t port = 0;

  bool is_ipv6() const { return host.find(':') != std::string::npos; }
  /// Canonical "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};

/// Parses "host:port" or "[ipv6]:port" with port in [min_port, 65535]. Host is a name or an
/// address; names are resolved later, by the proxy. On failure returns nullopt and sets *error to
/// a short reason ("missing port", ...).
std::optional<HostPort> parse_host_port(std::string_view text, uint16_t min_port,
                                        std::string* error);

/// True for an IPv4 or IPv6 address literal (no brackets, no port): the admin listener and a
/// cluster's `sni` tell addresses from names with it.
bool is_ip_address(std::string_view host);

/// Names of listeners and clusters: letters, digits, '_', '-' and '.', as they end up in logs
/// and metric labels.
bool is_valid_name(std::string_view name);

}  // namespace fulcrum::config
