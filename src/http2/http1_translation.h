#pragma once

// HTTP/2 requests as HTTP/1.1 heads and HTTP/1.1 responses as HTTP/2 fields. A request from an
// HTTP/2 stream is written as an HTTP/1.1 head and parsed by the same parser as any HTTP/1.1
// request, so routing, limits and the head rewrite are one code path for both protocols; a field
// nghttp2 let through that HTTP/1.1 would read differently is refused again by that parser.

#include <string>
#include <vector>

#include "http/message.h"
#include "http2/server_connection.h"

namespace fulcrum::http2 {

/// Why a request cannot be written as HTTP/1.1; empty when it can.
struct Untranslatable {
  int status = 0;  ///< The answer: 0 when translated.
  const char* reason = "";
};

/// Appends `head` to `out` as an HTTP/1.1 request head: the request line, `Host` from
/// :authority (a `host` field is dropped: RFC 9113 §8.3.1 makes :authority win), the fields in
/// order with `cookie` fields joined by "; " (§8.2.3), and `Transfer-Encoding: chunked` when a
/// body of undeclared length follows (`has_body` and no content-length). The caller parses the
/// result and refuses the request unless that parse takes the whole text: a field value that
/// ended the head early must never become a second request.
Untranslatable write_http1_request(const RequestHead& head, bool has_body, std::string& out);

/// The fields of `head` as HTTP/2 response fields: names lower-cased (into `storage`, which the
/// views in `out` point into), connection-specific fields left out (RFC 9113 §8.2.2: Connection
/// and the fields it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade).
void write_http2_response_fields(const http::ResponseHead& head, std::string& storage,
                                 std::vector<Header>& out);

}  // namespace fulcrum::http2
