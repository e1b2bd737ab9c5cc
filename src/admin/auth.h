#pragma once

// Who may call the admin API. With a token configured, every state-changing call needs
// "Authorization: Bearer <token>"; reads need it too unless the listener is on loopback. A
// loopback listener without a token lets anyone on the machine change state (the config loader
// refuses a non-loopback listener without a token). A wrong token is refused even where none
// is needed: the caller believes it is authenticated and should learn it is not.

#include <string>

#include "admin/http_types.h"

namespace fulcrum::admin {

struct Caller {
  bool allowed = false;
  /// For change logs: "PEER (token)" or "PEER (loopback)".
  std::string origin;
  /// Why the call was refused, for the 401 body and the log line.
  std::string refusal;
};

class Auth {
 public:
  Auth(std::string token, bool loopback_listener)
      : token_(std::move(token)), loopback_(loopback_listener) {}

  /// Decides for `request`; `changes_state` for anything but GET and HEAD.
  Caller check(const Request& request, bool changes_state) const;

  bool has_token() const { return !token_.empty(); }

 private:
  std::string token_;
  bool loopback_;
};

/// Compares in time independent of where the strings differ, so response timing does not leak
/// how much of a guessed token was right.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace fulcrum::admin
