#pragma once

#include <asio/error.hpp>
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

}  // namespace fulcrum::net
