#include "http2/http1_translation.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace fulcrum::http2 {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::string_view, 5> kConnectionSpecific = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};

/// A field HTTP/2 may not carry: one of the above, or one the Connection field names.
bool connection_specific(std::string_view name, std::string_view connection_tokens) {
  for (const std::string_view fixed : kConnectionSpecific) {
    if (equals_ignoring_case(name, fixed)) return true;
  }
  while (!connection_tokens.empty()) {
    const std::size_t comma = connection_tokens.find(',');
    std::string_view token = connection_tokens.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && equals_ignoring_case(name, token)) return true;
    if (comma == std::string_view::npos) break;
    connection_tokens.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

Untranslatable write_http1_request(const RequestHead& head, bool has_body, std::string& out) {
  // CONNECT (a tunnel, no :path) and extended CONNECT are not proxied over HTTP/2 yet.
  if (head.method == "CONNECT") return {501, "CONNECT over HTTP/2 is not supported"};
  if (head.path.empty()) return {400, "missing :path"};
  out.append(head.method).append(" ").append(head.path).append(" HTTP/1.1\r\n");
  if (!head.authority.empty()) out.append("host: ").append(head.authority).append("\r\n");
  bool has_length = false;
  bool cookie_written = false;
  for (const Header& field : head.headers) {
    if (field.name == "host") {
      if (head.authority.empty()) out.append("host: ").append(field.value).append("\r\n");
      continue;
    }
    if (field.name == "cookie") {
      if (cookie_written) continue;
      cookie_written = true;
      out.append("cookie: ");
      bool first = true;
      for (const Header& cookie : head.headers) {
        if (cookie.name != "cookie") continue;
        if (!first) out.append("; ");
        out.append(cookie.value);
        first = false;
      }
      out.append("\r\n");
      continue;
    }
    has_length = has_length || field.name == "content-length";
    out.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  if (has_body && !has_length) out.append("transfer-encoding: chunked\r\n");
  out.append("\r\n");
  return {};
}

void write_http2_response_fields(const http::ResponseHead& head, std::string& storage,
                                 std::vector<Header>& out) {
  const std::string_view connection = head.header("connection");
  std::size_t name_bytes = 0;
  for (const http::Header& field : head.header_list()) name_bytes += field.name.size();
  storage.clear();
  storage.reserve(name_bytes);  // The views below stay valid: no reallocation.
  out.clear();
  for (const http::Header& field : head.header_list()) {
    if (connection_specific(field.name, connection)) continue;
    const std::size_t start = storage.size();
    for (const char c : field.name) {
      storage.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    out.push_back({std::string_view(storage).substr(start, field.name.size()), field.value});
  }
}

}  // namespace fulcrum::http2
