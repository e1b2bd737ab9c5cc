// Request heads (RFC 9112 §3, §6-7; RFC 9110 §7.2). One forward pass over the bytes: the request
// line, then the field lines, then a pass over the (at most 100) parsed fields to derive framing,
// Host and connection options. Errors are reported as soon as the bytes that break a rule have
// arrived, so that garbage is refused before the head is complete.
#include <algorithm>

#include "http/chars.h"
#include "http/fields.h"
#include "http/message.h"

namespace fulcrum::http {

namespace {

using detail::Scan;

// Long enough for every registered method (the longest, UPDATEREDIRECTREF, has 17 bytes).
constexpr std::size_t kMaxMethodBytes = 32;
// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
constexpr int kMaxLeadingEmptyLines = 8;

ParseResult fail(ParseError& error, int status, std::string_view reason) {
  error = {status, reason};
  return ParseResult::kError;
}

void reset(RequestHead& out) {
  // The headers array is left as is: only the first header_count entries are meaningful.
  out.method = out.target = out.host = {};
  out.version_minor = 1;
  out.header_count = 0;
  out.framing = Framing::kNone;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = out.upgrade = false;
  out.head_size = 0;
}

// Checks the form of the target against the method (RFC 9112 §3.2) and, for absolute- and
// authority-form, takes the authority as the host.
ParseResult check_target(RequestHead& out, ParseError& error) {
  const std::string_view t = out.target;
  const bool connect = out.method == "CONNECT";
  if (t.front() == '/') {
    if (connect) return fail(error, 400, "CONNECT requires authority-form");
    return ParseResult::kComplete;
  }
  if (t == "*") {
    if (out.method != "OPTIONS") return fail(error, 400, "asterisk-form is only for OPTIONS");
    return ParseResult::kComplete;
  }
  if (connect) {
    if (!detail::is_valid_host(t, /*require_port=*/true)) {
      return fail(error, 400, "invalid CONNECT target");
    }
    out.host = t;
    return ParseResult::kComplete;
  }
  const std::size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return fail(error, 400, "invalid request target");
  const std::string_view scheme = t.substr(0, scheme_end);
  if (!detail::iequals(scheme, "http") && !detail::iequals(scheme, "https")) {
    return fail(error, 400, "unsupported URI scheme");
  }
  const std::string_view rest = t.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty()) return fail(error, 400, "missing authority in request target");
  if (authority.find('@') != std::string_view::npos) {
    return fail(error, 400, "userinfo in request target");
  }
  if (!detail::is_valid_host(authority, /*require_port=*/false)) {
    return fail(error, 400, "invalid authority in request target");
  }
  out.host = authority;
  return ParseResult::kComplete;
}

// Everything decided from the fields once the head is complete.
ParseResult apply_fields(RequestHead& out, ParseError& error) {
  detail::FieldSummary f;
  if (!detail::summarize_fields(out.header_list(), f, error)) return ParseResult::kError;
  const bool http11 = out.version_minor == 1;

  if (f.host_count > 1) return fail(error, 400, "multiple Host headers");
  if (f.host_count == 0 && http11) return fail(error, 400, "missing Host header");
  if (f.host_count == 1 && !detail::is_valid_host(f.host, /*require_port=*/false)) {
    return fail(error, 400, "invalid Host header");
  }
  out.host = f.host;
  if (check_target(out, error) == ParseResult::kError) return ParseResult::kError;

  if (f.transfer_encoding_count > 0) {
    if (!http11) return fail(error, 400, "Transfer-Encoding in HTTP/1.0 request");
    if (f.content_length_count > 0)
      return fail(error, 400, "Content-Length with Transfer-Encoding");
    switch (f.coding) {
      case detail::Coding::kChunked:
        out.framing = Framing::kChunked;
        break;
      case detail::Coding::kChunkedAfterOthers:
        return fail(error, 501, "unsupported transfer coding");
      case detail::Coding::kNotFinalChunked:
        return fail(error, 400, "chunked is not the final transfer coding");
      case detail::Coding::kChunkedTwice:
        return fail(error, 400, "chunked applied more than once");
      case detail::Coding::kInvalid:
        return fail(error, 400, "invalid Transfer-Encoding");
    }
  } else if (f.content_length_count > 0) {
    out.framing = Framing::kContentLength;
    out.content_length = f.content_length;
  }

  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". RFC 9110 §10.1.1 and
  // §7.8: Expect and Upgrade are ignored in 1.0 requests.
  out.keep_alive = !f.connection.close && (http11 || f.connection.keep_alive);
  out.expect_continue = http11 && f.expect_continue;
  out.upgrade = http11 && f.connection.upgrade && f.has_upgrade;
  return ParseResult::kComplete;
}

}  // namespace

ParseResult parse_request_head(std::string_view input, const Limits& limits, RequestHead& out,
                               ParseError& error) {
  reset(out);
  const std::string_view in = input.substr(0, std::min(input.size(), limits.max_head_bytes));
  const char* const s = in.data();
  const std::size_t n = in.size();
  auto need_more = [&] {
    if (input.size() >= limits.max_head_bytes) return fail(error, 431, "request head too large");
    return ParseResult::kIncomplete;
  };

  std::size_t i = 0;
  for (int empty_lines = 0;; ++empty_lines) {
    if (i >= n) return need_more();
    if (s[i] != '\r') break;
    if (i + 1 >= n) return need_more();
    if (s[i + 1] != '\n') return fail(error, 400, "bare CR");
    if (empty_lines == kMaxLeadingEmptyLines) {
      return fail(error, 400, "too many empty lines before request line");
    }
    i += 2;
  }

  const std::size_t method_start = i;
  while (i < n && detail::has_class(s[i], detail::kToken)) {
    if (++i - method_start > kMaxMethodBytes) return fail(error, 501, "method too long");
  }
  if (i >= n) return need_more();
  if (s[i] != ' ') return fail(error, 400, "invalid character in method");
  if (i == method_start) return fail(error, 400, "empty method");
  out.method = std::string_view(s + method_start, i - method_start);
  ++i;

  const std::size_t target_start = i;
  const std::size_t target_stop = n - i > limits.max_uri_bytes ? i + limits.max_uri_bytes + 1 : n;
  while (i < target_stop && detail::has_class(s[i], detail::kTarget)) ++i;
  if (i - target_start > limits.max_uri_bytes) return fail(error, 414, "request target too long");
  if (i >= n) return need_more();
  if (s[i] != ' ') return fail(error, 400, "invalid character in request target");
  if (i == target_start) return fail(error, 400, "empty request target");
  out.target = std::string_view(s + target_start, i - target_start);
  ++i;

  int major = 0;
  int minor = 0;
  switch (detail::parse_version(in, i, major, minor)) {
    case Scan::kNeedMore:
      return need_more();
    case Scan::kError:
      return fail(error, 400, "invalid HTTP version");
    case Scan::kDone:
      break;
  }
  if (i >= n || (s[i] == '\r' && i + 1 >= n)) return need_more();
  if (s[i] == '\n') return fail(error, 400, "bare LF");
  if (s[i] != '\r') return fail(error, 400, "invalid HTTP version");
  if (s[i + 1] != '\n') return fail(error, 400, "bare CR");
  if (major != 1 || minor > 1) return fail(error, 505, "HTTP version not supported");
  out.version_minor = static_cast<uint8_t>(minor);
  i += 2;

  switch (detail::parse_field_lines(in, i, out.headers, out.header_count, error)) {
    case Scan::kNeedMore:
      return need_more();
    case Scan::kError:
      return ParseResult::kError;
    case Scan::kDone:
      break;
  }
  out.head_size = i;
  return apply_fields(out, error);
}

ParseResult parse_request_head(std::string_view input, const Limits& limits, RequestHead& out,
                               ParseError& error, std::size_t& scanned_hint) {
  // Past this size the request line must have ended, or its target is too long (414).
  const std::size_t request_line_budget =
      2 * kMaxLeadingEmptyLines + kMaxMethodBytes + 2 + limits.max_uri_bytes;
  if (scanned_hint != 0 && scanned_hint <= input.size() &&
      !detail::head_may_be_ready(input, scanned_hint, limits.max_head_bytes, request_line_budget)) {
    scanned_hint = input.size();
    return ParseResult::kIncomplete;
  }
  const ParseResult result = parse_request_head(input, limits, out, error);
  scanned_hint = result == ParseResult::kIncomplete ? input.size() : 0;
  return result;
}

}  // namespace fulcrum::http
