#pragma once

// Pieces shared by the request and response head parsers: the HTTP-version token, the field
// section, and the validation of the fields that decide framing and connection handling.
// Internal to src/http.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/message.h"

namespace fulcrum::http::detail {

/// Outcome of scanning one part of a head. kNeedMore means the bytes ran out before the part
/// ended; the caller turns it into kIncomplete or 431 depending on the head limit.
enum class Scan : uint8_t { kDone, kNeedMore, kError };

/// "HTTP/" DIGIT "." DIGIT at in[pos]. Any mismatch is kError, even before all 8 bytes arrived.
Scan parse_version(std::string_view in, std::size_t& pos, int& major, int& minor);

/// Field lines from in[pos] through the empty line that ends the head; pos ends past it.
/// Rejects obs-fold, bare CR/LF, invalid names and values (400) and too many fields (431).
Scan parse_field_lines(std::string_view in, std::size_t& pos,
                       std::array<Header, kMaxHeaders>& headers, std::size_t& count,
                       ParseError& error);

enum class Coding : uint8_t {
  kChunked,             ///< Exactly "chunked".
  kChunkedAfterOthers,  ///< A list whose final coding is chunked, e.g. "gzip, chunked".
  kNotFinalChunked,     ///< Well-formed, but chunked is absent or not last.
  kChunkedTwice,
  kInvalid,  ///< Empty, empty elements, parameters or non-token characters.
};

struct ConnectionOptions {
  bool close = false;
  bool keep_alive = false;
  bool upgrade = false;
};

/// What the framing- and connection-related fields of a head say.
struct FieldSummary {
  std::string_view host;
  int host_count = 0;
  int content_length_count = 0;
  uint64_t content_length = 0;
  int transfer_encoding_count = 0;
  Coding coding = Coding::kInvalid;
  ConnectionOptions connection;
  bool has_upgrade = false;
  bool expect_continue = false;
};

/// Fills `summary`; rejects (status 400) duplicate or invalid Content-Length, more than one
/// Transfer-Encoding field, and malformed Connection lists.
bool summarize_fields(std::span<const Header> headers, FieldSummary& summary, ParseError& error);

/// uri-host [":" port] (RFC 3986 §3.2.2): reg-name, IPv4 or "[IPv6]"; the port, when present,
/// is 1-5 digits. "" is valid unless require_port (RFC 9110 §7.2 allows an empty Host).
bool is_valid_host(std::string_view host, bool require_port);

/// For the hint overloads: can input hold the end of the head (or an error that ends the scan)
/// now that the bytes from `hint` on are new? `threshold` forces one full parse when the input
/// first grows past it (so that an over-long request target is answered 414 early).
bool head_may_be_ready(std::string_view input, std::size_t hint, std::size_t max_head,
                       std::size_t threshold);

}  // namespace fulcrum::http::detail
