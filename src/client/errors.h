#pragma once

// Errors of the client library: an error_code category for the error-code forms and the
// ConnectionLost exception for the throwing form.

#include <string>
#include <system_error>

namespace fulcrum::client {

enum class errc {
  /// Every connection attempt failed (max_retries + max_retries_alternative of them).
  connection_lost = 1,
  /// An attempt had no server to go to: the manager had no eligible server and on_reconnect set
  /// no address.
  no_server_available,
};

const std::error_category& client_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

/// What a connect that lost the connection knows about the attempts.
struct ConnectionLostInfo {
  int attempts = 0;
  std::string last_address;    ///< Target of the last attempt; empty when it had none.
  std::error_code last_error;  ///< Why the last attempt failed.
};

/// Thrown by Connector::connect() when every attempt failed and no on_connection_lost handler is
/// set. code() is errc::connection_lost; what() names the attempts, last address and last error.
class ConnectionLost : public std::system_error {
 public:
  explicit ConnectionLost(ConnectionLostInfo info);
  const ConnectionLostInfo& info() const noexcept { return info_; }
  /// "fulcrum: connection lost: 5 attempts failed, the last to 10.0.0.7:8300: Connection refused"
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ConnectionLostInfo info_;
  std::string message_;
};

}  // namespace fulcrum::client

template <>
struct std::is_error_code_enum<fulcrum::client::errc> : std::true_type {};
