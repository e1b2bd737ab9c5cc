#include "admin/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <vector>

#include "admin/handlers.h"

namespace fulcrum::admin {
namespace {

/// Path segments, each percent-decoded; nullopt for a malformed escape.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 1;  // After the leading '/'.
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty()) {
      auto decoded = percent_decode(part);
      if (!decoded) return std::nullopt;
      segments.push_back(std::move(*decoded));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

Response method_not_allowed(std::string_view allowed) {
  Response response =
      error_response(405, fmt::format("method not allowed here (allowed: {})", allowed));
  response.headers.emplace_back("Allow", allowed);
  return response;
}

}  // namespace

asio::awaitable<Response> route(Context& context, const Auth& auth, const Request& request) {
  const std::string& method = request.method;
  const bool read = method == "GET" || method == "HEAD";
  if (request.path.empty() || request.path.front() != '/') {
    co_return error_response(400, "expected an origin-form target (/path)");
  }
  const auto parsed = segments_of(request.path);
  if (!parsed) co_return error_response(400, "malformed percent-encoding in the path");
  const std::vector<std::string>& s = *parsed;

  // The status page is a static shell without data: it must load in a browser, which cannot
  // send the token before the operator has typed it. Everything it shows comes from the API.
  if (s.empty()) {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return status_page();
  }

  const Caller caller = auth.check(request, !read);
  if (!caller.allowed) {
    spdlog::warn("admin: 401 for {} {} from {}: {}", method, request.path, request.peer,
                 caller.refusal);
    Response response = error_response(401, caller.refusal);
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"fulcrum\"");
    co_return response;
  }

  if (s.size() == 1 && s[0] == "metrics") {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return metrics(context);
  }
  if (s.size() < 3 || s[0] != "api" || s[1] != "v1") {
    co_return error_response(404, "no such endpoint (see docs/admin.md)");
  }
  if (s.size() == 3 && s[2] == "reload") {
    if (method != "POST") co_return method_not_allowed("POST");
    co_return reload(context, caller);
  }
  if (s.size() == 3 && s[2] == "explain") {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return explain(context, request);
  }
  if (s[2] != "clusters") co_return error_response(404, "no such endpoint (see docs/admin.md)");
  if (s.size() == 3) {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return get_clusters(context);
  }
  const std::string& name = s[3];
  if (s.size() == 4) {
    if (!read) co_return method_not_allowed("GET, HEAD");
    co_return get_cluster(context, name);
  }
  if (s[4] != "servers" || s.size() > 6) {
    co_return error_response(404, "no such endpoint (see docs/admin.md)");
  }
  if (s.size() == 5) {
    if (method != "POST") co_return method_not_allowed("POST");
    co_return add_server(context, request, caller, name);
  }
  const std::string& address = s[5];
  if (read) co_return get_server(context, name, address);
  if (method == "PATCH") co_return patch_server(context, request, caller, name, address);
  if (method == "DELETE") {
    co_return co_await delete_server(context, request, caller, name, address);
  }
  co_return method_not_allowed("GET, HEAD, PATCH, DELETE");
}

}  // namespace fulcrum::admin
