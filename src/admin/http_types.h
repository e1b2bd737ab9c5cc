#pragma once

// The admin API's requests and responses as plain values. The connection code (admin_server.cc)
// parses bytes with the proxy's own HTTP parser into a Request and writes a Response back; the
// router and handlers never see a socket, so they stay small and testable.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fulcrum::admin {

struct Request {
  std::string method;
  std::string path;   ///< Target before '?', still percent-encoded.
  std::string query;  ///< After '?', still percent-encoded; empty when absent.
  std::string authorization;
  std::string body;
  std::string peer;  ///< "address:port" of the client, for logs.

  /// The decoded value of query parameter `name`, or nullopt when absent (or undecodable).
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< Extra headers.
};

/// A JSON document, pretty-printed so that curl output reads well.
Response json_response(int status, const nlohmann::ordered_json& body);
/// {"error": message} with `status`.
Response error_response(int status, std::string_view message);

/// Decodes %XX escapes (and '+' as space when `plus_is_space`, for query strings). nullopt on a
/// malformed escape or a decoded NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

std::string_view reason_phrase(int status);

/// Status line, headers and body, ready to write.
std::string serialize(const Response& response, bool keep_alive);

}  // namespace fulcrum::admin
