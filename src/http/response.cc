// Response heads (RFC 9112 §4, §6.3). Same field strictness as requests; every error carries
// status 502 because the proxy answers a broken upstream response with Bad Gateway. The body
// length follows RFC 9112 §6.3 in order: no body for HEAD, 1xx, 204, 304 and 2xx to CONNECT;
// then chunked; then Content-Length; otherwise until the upstream closes.
#include <algorithm>
#include <limits>

#include "http/chars.h"
#include "http/fields.h"
#include "http/message.h"

namespace fulcrum::http {

namespace {

using detail::Scan;

constexpr int kBadGateway = 502;

ParseResult fail(ParseError& error, std::string_view reason) {
  error = {kBadGateway, reason};
  return ParseResult::kError;
}

void reset(ResponseHead& out) {
  out.status = 0;
  out.version_minor = 1;
  out.reason = {};
  out.header_count = 0;
  out.framing = Framing::kNone;
  out.content_length = 0;
  out.keep_alive = true;
  out.upgrade = false;
  out.head_size = 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

ParseResult apply_fields(ResponseHead& out, std::string_view request_method, ParseError& error) {
  detail::FieldSummary f;
  if (!detail::summarize_fields(out.header_list(), f, error)) return fail(error, error.reason);
  const bool http11 = out.version_minor == 1;
  const int status = out.status;
  const bool bodiless = request_method == "HEAD" || status < 200 || status == 204 ||
                        status == 304 || (request_method == "CONNECT" && status / 100 == 2);

  // The framing fields are validated even when the status says there is no body: a response that
  // carries contradictory framing is not trusted with the connection.
  if (f.transfer_encoding_count > 0) {
    if (!http11) return fail(error, "Transfer-Encoding in HTTP/1.0 response");
    if (f.content_length_count > 0) return fail(error, "Content-Length with Transfer-Encoding");
    if (f.coding == detail::Coding::kInvalid) return fail(error, "invalid Transfer-Encoding");
    if (f.coding == detail::Coding::kChunkedTwice)
      return fail(error, "chunked applied more than once");
  }
  if (bodiless) {
    out.framing = Framing::kNone;
  } else if (f.transfer_encoding_count > 0) {
    // The proxy forwards the coded body verbatim, so "gzip, chunked" is as good as "chunked".
    out.framing =
        f.coding == detail::Coding::kNotFinalChunked ? Framing::kUntilClose : Framing::kChunked;
  } else if (f.content_length_count > 0) {
    out.framing = Framing::kContentLength;
    out.content_length = f.content_length;
  } else {
    out.framing = Framing::kUntilClose;
  }
  out.keep_alive = !f.connection.close && (http11 || f.connection.keep_alive) &&
                   out.framing != Framing::kUntilClose;
  out.upgrade = status == 101 && f.has_upgrade;
  return ParseResult::kComplete;
}

}  // namespace

ParseResult parse_response_head(std::string_view input, std::string_view request_method,
                                const Limits& limits, ResponseHead& out, ParseError& error,
                                std::size_t& scanned_hint) {
  if (scanned_hint != 0 && scanned_hint <= input.size() &&
      !detail::head_may_be_ready(input, scanned_hint, limits.max_head_bytes,
                                 std::numeric_limits<std::size_t>::max())) {
    scanned_hint = input.size();
    return ParseResult::kIncomplete;
  }
  scanned_hint = 0;
  reset(out);
  const std::string_view in = input.substr(0, std::min(input.size(), limits.max_head_bytes));
  const char* const s = in.data();
  const std::size_t n = in.size();
  auto need_more = [&] {
    if (input.size() >= limits.max_head_bytes) return fail(error, "response head too large");
    scanned_hint = input.size();
    return ParseResult::kIncomplete;
  };

  std::size_t i = 0;
  int major = 0;
  int minor = 0;
  switch (detail::parse_version(in, i, major, minor)) {
    case Scan::kNeedMore:
      return need_more();
    case Scan::kError:
      return fail(error, "invalid HTTP version");
    case Scan::kDone:
      break;
  }
  if (major != 1 || minor > 1) return fail(error, "unsupported HTTP version");
  out.version_minor = static_cast<uint8_t>(minor);

  if (i >= n) return need_more();
  if (s[i++] != ' ') return fail(error, "invalid status line");
  for (int k = 0; k < 3; ++k, ++i) {
    if (i >= n) return need_more();
    if (!is_digit(s[i])) return fail(error, "invalid status code");
    out.status = out.status * 10 + (s[i] - '0');
  }
  if (out.status < 100 || out.status > 599) return fail(error, "invalid status code");

  if (i >= n) return need_more();
  if (s[i] == ' ') {
    const std::size_t reason_start = ++i;
    while (i < n && detail::has_class(s[i], detail::kFieldValue)) ++i;
    out.reason = std::string_view(s + reason_start, i - reason_start);
    if (i >= n) return need_more();
  } else if (s[i] != '\r' && s[i] != '\n') {
    // "HTTP/1.1 200\r\n" (no SP, no reason) is accepted: the reason is never used for framing.
    return fail(error, "invalid status code");
  }
  if (s[i] == '\n') return fail(error, "bare LF");
  if (s[i] != '\r') return fail(error, "invalid character in reason phrase");
  if (i + 1 >= n) return need_more();
  if (s[i + 1] != '\n') return fail(error, "bare CR");
  i += 2;

  switch (detail::parse_field_lines(in, i, out.headers, out.header_count, error)) {
    case Scan::kNeedMore:
      return need_more();
    case Scan::kError:
      return fail(error, error.reason);
    case Scan::kDone:
      break;
  }
  out.head_size = i;
  return apply_fields(out, request_method, error);
}

ParseResult parse_response_head(std::string_view input, std::string_view request_method,
                                ResponseHead& out, ParseError& error) {
  std::size_t hint = 0;
  return parse_response_head(input, request_method, Limits{}, out, error, hint);
}

}  // namespace fulcrum::http
