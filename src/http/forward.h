#pragma once

// Serialising heads for the next hop (RFC 9110 §7.6): hop-by-hop fields are removed, the
// forwarding fields are added, and the result is written into a caller-provided buffer. Bodies
// are forwarded verbatim, so the framing fields stay (normalised for requests, see docs/http.md).

#include <cstddef>
#include <span>
#include <string_view>

#include "http/message.h"

namespace fulcrum::http {

struct ForwardInfo {
  std::string_view client_ip;       ///< IPv4 dotted or IPv6 without brackets.
  std::string_view proto = "http";  ///< Scheme the client used to reach the proxy.
  std::string_view listener_host;   ///< Fallback host when the request carries none.
};

/// Writes the request head for the upstream; returns its size, or 0 if `out` is too small.
/// Order: request line (always HTTP/1.1), end-to-end fields in their original order, Host (only
/// if the request had none), X-Forwarded-For (earlier values merged, then client_ip),
/// X-Forwarded-Proto (replaced), Forwarded (earlier elements kept, ours appended), then
/// "Connection: upgrade" + Upgrade, or "Connection: keep-alive".
std::size_t write_forwarded_request_head(const RequestHead& head, const ForwardInfo& info,
                                         std::span<char> out);

/// Writes the response head for the client; returns its size, or 0 if `out` is too small.
/// Hop-by-hop fields are removed except Upgrade on a 101, which gets "Connection: upgrade";
/// otherwise "Connection: close" or "Connection: keep-alive" (explicit for HTTP/1.0 clients).
std::size_t write_forwarded_response_head(const ResponseHead& head, bool close,
                                          std::span<char> out);

/// A complete small response with a text/plain body, e.g. for errors. 0 if `out` is too small.
std::size_t write_simple_response(int status, std::string_view body, bool close,
                                  std::span<char> out);

/// The RFC 9110 reason phrase of `status`, or "Unknown".
std::string_view reason_phrase(int status);

}  // namespace fulcrum::http
