#include "admin/auth.h"

#include <algorithm>
#include <cctype>

namespace fulcrum::admin {

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const std::string_view& longer = a.size() >= b.size() ? a : b;
  for (std::size_t i = 0; i < longer.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

Caller Auth::check(const Request& request, bool changes_state) const {
  Caller caller;
  const bool needed = !token_.empty() && (changes_state || !loopback_);
  const std::string_view header = request.authorization;
  if (header.empty()) {
    if (needed) {
      caller.refusal = "missing Authorization: Bearer token";
      return caller;
    }
    caller.allowed = true;
    caller.origin = request.peer + " (loopback)";
    return caller;
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
      })) {
    caller.refusal = "Authorization header is not 'Bearer <token>'";
    return caller;
  }
  if (token_.empty() || !constant_time_equal(header.substr(kScheme.size()), token_)) {
    caller.refusal = token_.empty() ? "a token was sent but none is configured" : "wrong token";
    return caller;
  }
  caller.allowed = true;
  caller.origin = request.peer + " (token)";
  return caller;
}

}  // namespace fulcrum::admin
