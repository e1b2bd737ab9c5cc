#pragma once

#include <asio/error.hpp>
#include <string>
#include <system_error>

#include "core/passive.h"

namespace fulcrum::net {

/// Maps a connect error to the cause passive tracking records.
inline core::FailureCause classify_connect_error(const std::error_code& ec, bool timed_out) {
  if (timed_out) return core::FailureCause::kTimeout;
  if (ec == asio::error::connection_refused) return core::FailureCause::kRefused;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) {
    return core::FailureCause::kUnreachable;
  }
  return core::FailureCause::kReset;
}

/// An error's message as a reason in a sentence: lower-case first letter ("connection refused").
inline std::string describe_error(const std::error_code& ec) {
  std::string message = ec.message();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') message[0] += 'a' - 'A';
  return message;
}

}  // namespace fulcrum::net
