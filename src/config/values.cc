#include "config/values.h"

#include <arpa/inet.h>

#include <limits>

namespace fulcrum::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Lower-cases a host; an IPv6 zone ("%eth0") keeps its case, as interface names are
// case-sensitive.
std::string lower_host(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '%') break;
    c = lower(c);
  }
  return out;
}

// Splits "123unit" at the first non-digit.
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  return {text.substr(0, i), text.substr(i)};
}

bool valid_ipv6(std::string_view s) {
  // Characters only, plus an optional zone ("fe80::1%eth0"); inet_pton decides the rest at bind.
  const std::size_t zone = s.find('%');
  const std::string_view addr = s.substr(0, zone);
  if (addr.find(':') == std::string_view::npos) return false;
  for (char c : addr) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  if (zone != std::string_view::npos) {
    const std::string_view id = s.substr(zone + 1);
    if (id.empty() || !is_valid_name(id)) return false;
  }
  return true;
}

bool valid_host(std::string_view s) {
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return !s.empty();
}

}  // namespace

std::optional<uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<core::Nanos> parse_duration(std::string_view text, DurationSyntax syntax) {
  struct Unit {
    std::string_view suffix;
    uint64_t nanos;
    bool fine_only;
  };
  static constexpr Unit kUnits[] = {{"ns", 1, true},
                                    {"us", 1'000, true},
                                    {"ms", 1'000'000, false},
                                    {"s", 1'000'000'000, false},
                                    {"m", 60'000'000'000, false},
                                    {"h", 3'600'000'000'000, false}};
  // 128 bits: no product of a 64-bit number and a unit can overflow, so the range check is one
  // comparison at the end.
  using Wide = unsigned __int128;

  if (text == "0") return core::Nanos{0};
  const bool fine = syntax == DurationSyntax::kFine;
  auto [whole_digits, unit] = split_number(text);
  const auto whole = parse_uint(whole_digits);
  if (!whole) return std::nullopt;
  uint64_t fraction = 0;
  uint64_t fraction_scale = 1;
  if (fine && unit.starts_with('.')) {
    const auto [digits, rest] = split_number(unit.substr(1));
    // At most 18 digits, so that the fraction fits in uint64_t; no one writes more.
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    fraction = *parse_uint(digits);
    for (std::size_t i = 0; i < digits.size(); ++i) fraction_scale *= 10;
    unit = rest;
  }
  for (const Unit& u : kUnits) {
    if (u.suffix != unit || (u.fine_only && !fine)) continue;
    const Wide scaled_fraction = Wide{fraction} * u.nanos;
    if (scaled_fraction % fraction_scale != 0) return std::nullopt;  // finer than 1ns
    const Wide total = Wide{*whole} * u.nanos + scaled_fraction / fraction_scale;
    if (total > static_cast<Wide>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return core::Nanos{static_cast<int64_t>(total)};
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  const auto [digits, unit] = split_number(text);
  const auto value = parse_uint(digits);
  if (!value) return std::nullopt;
  uint64_t multiplier = 1;
  if (unit == "k" || unit == "K") {
    multiplier = uint64_t{1} << 10;
  } else if (unit == "m" || unit == "M") {
    multiplier = uint64_t{1} << 20;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (*value > std::numeric_limits<uint64_t>::max() / multiplier) return std::nullopt;
  return *value * multiplier;
}

std::string format_size(uint64_t bytes) {
  constexpr uint64_t kKi = uint64_t{1} << 10;
  constexpr uint64_t kMi = uint64_t{1} << 20;
  if (bytes != 0 && bytes % kMi == 0) return std::to_string(bytes / kMi) + "m";
  if (bytes != 0 && bytes % kKi == 0) return std::to_string(bytes / kKi) + "k";
  return std::to_string(bytes);
}

std::string HostPort::to_string() const {
  const std::string port_text = std::to_string(port);
  if (is_ipv6()) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::optional<HostPort> parse_host_port(std::string_view text, uint16_t min_port,
                                        std::string* error) {
  if (text.find("://") != std::string_view::npos) {
    *error = "expected host:port, not a URL";
    return std::nullopt;
  }
  std::string_view host;
  std::string_view rest;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      *error = "missing ']' after IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    bracketed = true;
    if (!rest.empty() && rest.front() != ':') {
      *error = "expected ':' and a port after ']'";
      return std::nullopt;
    }
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      *error = "missing port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    rest = text.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      *error = "an IPv6 address needs brackets, like [::1]:8080";
      return std::nullopt;
    }
  }
  if (rest.size() <= 1) {
    *error = "missing port";
    return std::nullopt;
  }
  if (host.empty()) {
    *error = "missing host";
    return std::nullopt;
  }
  if (bracketed ? !valid_ipv6(host) : !valid_host(host)) {
    *error = bracketed ? "invalid IPv6 address" : "invalid host name";
    return std::nullopt;
  }
  const std::string_view port_text = rest.substr(1);
  const auto port = parse_uint(port_text);
  if (!port) {
    *error = "port is not a number";
    return std::nullopt;
  }
  if (*port < min_port || *port > 65535) {
    *error = "port out of range (" + std::to_string(min_port) + "..65535)";
    return std::nullopt;
  }
  return HostPort{lower_host(host), static_cast<uint16_t>(*port)};
}

bool is_ip_address(std::string_view host) {
  const std::string text(host);  // inet_pton wants a terminated string.
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), address) == 1 ||
         inet_pton(AF_INET6, text.c_str(), address) == 1;
}

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace fulcrum::config
