#pragma once

// Byte classes of the HTTP and URI grammars (RFC 9110 §5.5-5.6, RFC 3986 §3.2.2), as one
// 256-entry table so that every scan is a single lookup per byte. Internal to src/http.

#include <array>
#include <cstdint>
#include <string_view>

namespace fulcrum::http::detail {

enum CharClass : uint8_t {
  kToken = 1 << 0,       ///< tchar: method, field names, codings, parameter names.
  kFieldValue = 1 << 1,  ///< field-vchar / SP / HTAB / obs-text: anything a field value may hold.
  kTarget = 1 << 2,      ///< VCHAR except '#': what a request-target may hold.
  kHex = 1 << 3,
  kRegName = 1 << 4,    ///< unreserved / sub-delims / '%': reg-name and IPv4address.
  kQdText = 1 << 5,     ///< qdtext: inside a quoted-string, besides quoted-pair.
  kIpLiteral = 1 << 6,  ///< Inside "[...]": HEXDIG, ':' and '.' (no IPvFuture).
};

constexpr std::array<uint8_t, 256> make_char_table() {
  std::array<uint8_t, 256> t{};
  auto add = [&t](std::string_view chars, uint8_t cls) {
    for (char c : chars) t[static_cast<uint8_t>(c)] |= cls;
  };
  constexpr std::string_view kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  add(kAlnum, kToken | kRegName);
  add("!#$%&'*+-.^_`|~", kToken);
  add("-._~!$&'()*+,;=%", kRegName);
  add("0123456789abcdefABCDEF", kHex | kIpLiteral);
  add(":.", kIpLiteral);
  for (int c = 0x21; c <= 0x7e; ++c) t[c] |= kFieldValue | kTarget | kQdText;
  for (int c = 0x80; c <= 0xff; ++c) t[c] |= kFieldValue | kQdText;
  t['\t'] |= kFieldValue | kQdText;
  t[' '] |= kFieldValue | kQdText;
  t['#'] &= static_cast<uint8_t>(~kTarget);
  t['"'] &= static_cast<uint8_t>(~kQdText);
  t['\\'] &= static_cast<uint8_t>(~kQdText);
  return t;
}

inline constexpr std::array<uint8_t, 256> kCharTable = make_char_table();

constexpr bool has_class(char c, uint8_t cls) {
  return (kCharTable[static_cast<uint8_t>(c)] & cls) != 0;
}

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

/// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!has_class(c, kToken)) return false;
  }
  return true;
}

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

/// Calls f(element) for each element of a comma-separated list (RFC 9110 §5.6.1), trimmed of
/// OWS. Empty elements are passed too (as ""), so that callers can decide whether to allow them.
/// Stops early and returns false when f returns false.
template <class F>
constexpr bool for_each_list_element(std::string_view list, F&& f) {
  while (true) {
    const std::size_t comma = list.find(',');
    if (!f(trim_ows(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace fulcrum::http::detail
