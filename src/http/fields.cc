// Field section parsing (RFC 9112 §5) and validation of the framing fields (RFC 9112 §6). Every
// rule that lets two parsers disagree on where a message ends is an error here: see docs/http.md.
#include "http/fields.h"

#include <cstring>
#include <limits>

#include "http/chars.h"

namespace fulcrum::http::detail {

namespace {

Scan fail(ParseError& error, int status, std::string_view reason) {
  error = {status, reason};
  return Scan::kError;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

enum class FieldKind : uint8_t {
  kOther,
  kHost,
  kContentLength,
  kTransferEncoding,
  kConnection,
  kExpect,
  kUpgrade,
};

FieldKind classify(std::string_view name) {
  // Dispatch on length first: most fields are none of these and fail on one comparison.
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) return FieldKind::kHost;
      break;
    case 6:
      if (iequals(name, "expect")) return FieldKind::kExpect;
      break;
    case 7:
      if (iequals(name, "upgrade")) return FieldKind::kUpgrade;
      break;
    case 10:
      if (iequals(name, "connection")) return FieldKind::kConnection;
      break;
    case 14:
      if (iequals(name, "content-length")) return FieldKind::kContentLength;
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) return FieldKind::kTransferEncoding;
      break;
    default:
      break;
  }
  return FieldKind::kOther;
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6). Lists, even of equal values, are refused rather than
// merged: a downstream parser that takes the other value would see a different message.
bool parse_content_length(std::string_view value, uint64_t& length, std::string_view& reason) {
  if (value.empty()) {
    reason = "empty Content-Length";
    return false;
  }
  if (value.find(',') != std::string_view::npos) {
    reason = "Content-Length list";
    return false;
  }
  uint64_t v = 0;
  for (char c : value) {
    if (!is_digit(c)) {
      reason = "invalid Content-Length";
      return false;
    }
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      reason = "Content-Length overflow";
      return false;
    }
    v = v * 10 + d;
  }
  length = v;
  return true;
}

// Codings must be bare tokens: parameters and empty list elements are legal in RFC 9112 but are
// exactly where parsers disagree, and no coding we accept takes parameters.
Coding classify_transfer_encoding(std::string_view value) {
  int count = 0;
  int chunked = 0;
  bool last_chunked = false;
  const bool well_formed = for_each_list_element(value, [&](std::string_view coding) {
    if (!is_token(coding)) return false;
    ++count;
    last_chunked = iequals(coding, "chunked");
    chunked += last_chunked ? 1 : 0;
    return true;
  });
  if (!well_formed) return Coding::kInvalid;
  if (chunked > 1) return Coding::kChunkedTwice;
  if (!last_chunked) return Coding::kNotFinalChunked;
  return count == 1 ? Coding::kChunked : Coding::kChunkedAfterOthers;
}

bool add_connection_options(std::string_view value, ConnectionOptions& options) {
  return for_each_list_element(value, [&](std::string_view option) {
    if (option.empty()) return true;  // "a, , b" is a legal list.
    if (!is_token(option)) return false;
    if (iequals(option, "close")) options.close = true;
    if (iequals(option, "keep-alive")) options.keep_alive = true;
    if (iequals(option, "upgrade")) options.upgrade = true;
    return true;
  });
}

}  // namespace

Scan parse_version(std::string_view in, std::size_t& pos, int& major, int& minor) {
  static constexpr std::string_view kPattern = "HTTP/0.0";  // '0' stands for any digit.
  for (std::size_t k = 0; k < kPattern.size(); ++k) {
    if (pos + k >= in.size()) return Scan::kNeedMore;
    const char c = in[pos + k];
    if (kPattern[k] == '0' ? !is_digit(c) : c != kPattern[k]) return Scan::kError;
  }
  major = in[pos + 5] - '0';
  minor = in[pos + 7] - '0';
  pos += kPattern.size();
  return Scan::kDone;
}

Scan parse_field_lines(std::string_view in, std::size_t& pos,
                       std::array<Header, kMaxHeaders>& headers, std::size_t& count,
                       ParseError& error) {
  const char* const s = in.data();
  const std::size_t n = in.size();
  std::size_t i = pos;
  while (true) {
    if (i >= n) return Scan::kNeedMore;
    if (s[i] == '\r') {
      if (i + 1 >= n) return Scan::kNeedMore;
      if (s[i + 1] != '\n') return fail(error, 400, "bare CR");
      pos = i + 2;
      return Scan::kDone;
    }
    if (s[i] == '\n') return fail(error, 400, "bare LF");
    // A line starting with whitespace is obs-fold (RFC 9112 §5.2), or whitespace between the
    // start line and the first field (§2.2): both are rejected.
    if (is_ows(s[i])) return fail(error, 400, "obsolete line folding");
    if (count == kMaxHeaders) return fail(error, 431, "too many header fields");

    const std::size_t name_start = i;
    while (i < n && has_class(s[i], kToken)) ++i;
    if (i >= n) return Scan::kNeedMore;
    if (s[i] != ':') {
      if (is_ows(s[i])) return fail(error, 400, "whitespace before colon");
      return fail(error, 400, "invalid character in field name");
    }
    if (i == name_start) return fail(error, 400, "empty field name");
    const std::string_view name(s + name_start, i - name_start);
    ++i;
    while (i < n && is_ows(s[i])) ++i;
    const std::size_t value_start = i;
    while (i < n && has_class(s[i], kFieldValue)) ++i;
    if (i >= n) return Scan::kNeedMore;
    if (s[i] == '\n') return fail(error, 400, "bare LF");
    if (s[i] != '\r') return fail(error, 400, "invalid character in field value");
    if (i + 1 >= n) return Scan::kNeedMore;
    if (s[i + 1] != '\n') return fail(error, 400, "bare CR");
    std::size_t value_end = i;
    while (value_end > value_start && is_ows(s[value_end - 1])) --value_end;
    headers[count++] = {name, std::string_view(s + value_start, value_end - value_start)};
    i += 2;
  }
}

bool summarize_fields(std::span<const Header> headers, FieldSummary& summary, ParseError& error) {
  for (const Header& h : headers) {
    switch (classify(h.name)) {
      case FieldKind::kOther:
        break;
      case FieldKind::kHost:
        if (summary.host_count++ == 0) summary.host = h.value;
        break;
      case FieldKind::kContentLength: {
        if (summary.content_length_count++ > 0) {
          error = {400, "duplicate Content-Length"};
          return false;
        }
        std::string_view reason;
        if (!parse_content_length(h.value, summary.content_length, reason)) {
          error = {400, reason};
          return false;
        }
        break;
      }
      case FieldKind::kTransferEncoding:
        if (summary.transfer_encoding_count++ > 0) {
          error = {400, "multiple Transfer-Encoding headers"};
          return false;
        }
        summary.coding = classify_transfer_encoding(h.value);
        break;
      case FieldKind::kConnection:
        if (!add_connection_options(h.value, summary.connection)) {
          error = {400, "invalid Connection header"};
          return false;
        }
        break;
      case FieldKind::kExpect:
        if (iequals(h.value, "100-continue")) summary.expect_continue = true;
        break;
      case FieldKind::kUpgrade:
        summary.has_upgrade = true;
        break;
    }
  }
  return true;
}

bool is_valid_host(std::string_view host, bool require_port) {
  const std::size_t n = host.size();
  std::size_t i = 0;
  if (n > 0 && host[0] == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    bool colon = false;
    for (std::size_t k = 1; k < close; ++k) {
      if (!has_class(host[k], kIpLiteral)) return false;
      colon |= host[k] == ':';
    }
    if (!colon) return false;  // Not an IPv6 address; IPvFuture is not accepted.
    i = close + 1;
  } else {
    while (i < n && has_class(host[i], kRegName)) {
      if (host[i] == '%') {
        if (i + 2 >= n || !has_class(host[i + 1], kHex) || !has_class(host[i + 2], kHex)) {
          return false;
        }
        i += 2;
      }
      ++i;
    }
    if (i == 0) return n == 0 && !require_port;
  }
  if (i == n) return !require_port;
  if (host[i] != ':') return false;
  const std::size_t digits = n - i - 1;
  if (digits == 0 || digits > 5) return false;
  for (++i; i < n; ++i) {
    if (!is_digit(host[i])) return false;
  }
  return true;
}

bool head_may_be_ready(std::string_view input, std::size_t hint, std::size_t max_head,
                       std::size_t threshold) {
  const char* const s = input.data();
  const std::size_t n = input.size();
  if (n >= max_head) return true;
  if (hint <= threshold && threshold < n) return true;
  for (std::size_t i = hint; i < n;) {
    const void* hit = std::memchr(s + i, '\n', n - i);
    if (hit == nullptr) return false;
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - s);
    if (lf == 0 || s[lf - 1] != '\r') return true;                       // Bare LF: an error.
    if (lf >= 3 && s[lf - 2] == '\n' && s[lf - 3] == '\r') return true;  // CRLF CRLF.
    i = lf + 1;
  }
  return false;
}

}  // namespace fulcrum::http::detail
