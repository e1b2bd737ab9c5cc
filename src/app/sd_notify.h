#pragma once

// The service manager's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
// "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. systemd with Type=notify
// starts ordering dependent units on READY=1 and shows STATUS= in `systemctl status`.

#include <string_view>

namespace fulcrum::app {

/// Sends `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET. A path starting with '@'
/// is an abstract socket. Returns false when the variable is unset (not run by a service
/// manager) or the send failed; never throws, never blocks.
bool sd_notify(std::string_view state);

}  // namespace fulcrum::app
