#pragma once

// Strict, zero-copy parsing of HTTP/1.1 message heads (RFC 9112). A head is parsed from the start
// of the caller's buffer; every string_view in the result points into that buffer, so the buffer
// must outlive the head and must not move. Nothing here allocates. The strictness decisions (what
// is rejected, with which status, and why) are listed in docs/http.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace fulcrum::http {

struct Header {
  std::string_view name;   ///< As received (original case).
  std::string_view value;  ///< Leading and trailing whitespace removed.
};

inline constexpr std::size_t kMaxHeaders = 100;

/// How the body of a message is delimited (RFC 9112 §6.3).
enum class Framing : uint8_t {
  kNone,           ///< No body.
  kContentLength,  ///< Exactly content_length bytes (possibly 0).
  kChunked,        ///< Chunked transfer coding: feed the bytes to a ChunkedDecoder.
  kUntilClose,     ///< Responses only: the body ends when the upstream closes.
};

struct Limits {
  std::size_t max_head_bytes = 16 * 1024;  ///< Start line + fields + final CRLF; beyond -> 431.
  std::size_t max_uri_bytes = 8 * 1024;    ///< Request target; beyond -> 414.
};

struct ParseError {
  /// Status to answer with: 4xx/5xx for requests; always 502 for responses (the upstream erred).
  int status = 400;
  std::string_view reason;  ///< Static string naming the rule that was broken.
};

enum class ParseResult : uint8_t { kComplete, kIncomplete, kError };

/// First value of header `name` (ASCII case-insensitive), "" if absent.
std::string_view find_header(std::span<const Header> headers, std::string_view name);

struct RequestHead {
  std::string_view method;  ///< Case-sensitive token, e.g. "GET".
  std::string_view target;  ///< As received: origin-, absolute-, authority- or asterisk-form.
  uint8_t version_minor = 1;
  std::array<Header, kMaxHeaders> headers;
  std::size_t header_count = 0;
  /// Host header value; for absolute-form and CONNECT targets, the target's authority instead
  /// (RFC 9112 §3.2.2: the authority wins over a differing Host header). "" if absent.
  std::string_view host;
  Framing framing = Framing::kNone;  ///< kNone, kContentLength or kChunked.
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
  bool upgrade = false;       ///< Connection lists "upgrade" and an Upgrade header is present.
  std::size_t head_size = 0;  ///< Bytes from the start of the input to the end of the head.

  std::span<const Header> header_list() const { return {headers.data(), header_count}; }
  std::string_view header(std::string_view name) const { return find_header(header_list(), name); }
};

struct ResponseHead {
  int status = 0;
  uint8_t version_minor = 1;
  std::string_view reason;
  std::array<Header, kMaxHeaders> headers;
  std::size_t header_count = 0;
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool upgrade = false;  ///< 101 Switching Protocols carrying an Upgrade header.
  std::size_t head_size = 0;

  std::span<const Header> header_list() const { return {headers.data(), header_count}; }
  std::string_view header(std::string_view name) const { return find_header(header_list(), name); }
};

/// Parses a request head from the start of `input`. On kIncomplete, call again with the same
/// bytes plus more. Each call scans from the start: use the overload below when the peer may
/// dribble bytes.
ParseResult parse_request_head(std::string_view input, const Limits& limits, RequestHead& out,
                               ParseError& error);

/// Same, linear over any sequence of retries: `scanned_hint` must be 0 for a new message and be
/// passed back unchanged with each retry. A retry only looks at the new bytes until they can end
/// the head (or break a rule that forces an early answer), then parses once.
ParseResult parse_request_head(std::string_view input, const Limits& limits, RequestHead& out,
                               ParseError& error, std::size_t& scanned_hint);

/// Parses a response head. `request_method` is the method of the request it answers: responses
/// to HEAD, 1xx, 204, 304 and 2xx to CONNECT have no body; without a length or chunked coding the
/// body runs until the upstream closes. Uses Limits{} (16 KiB heads).
ParseResult parse_response_head(std::string_view input, std::string_view request_method,
                                ResponseHead& out, ParseError& error);
ParseResult parse_response_head(std::string_view input, std::string_view request_method,
                                const Limits& limits, ResponseHead& out, ParseError& error,
                                std::size_t& scanned_hint);

}  // namespace fulcrum::http
