#pragma once

// Invariants shared by the request and response head targets: a head parsed from the whole input
// and from the same bytes arriving in pieces (the proxy's retry loop with its scan hint) must
// agree, and a body must frame the same whether it is decoded in one piece or many.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "http/chunked.h"
#include "http/message.h"

namespace fulcrum::fuzz {

/// Heads and errors compare by position too: every view must point at the same input bytes.
inline bool same_view(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

inline bool same_headers(std::span<const http::Header> a, std::span<const http::Header> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_view(a[i].name, b[i].name) || !same_view(a[i].value, b[i].value)) return false;
  }
  return true;
}

inline bool same_error(const http::ParseError& a, const http::ParseError& b) {
  return a.status == b.status && a.reason == b.reason;
}

/// Views of a complete head lie in its bytes, which end with the empty line.
template <class Head>
void check_head_bytes(std::string_view input, const Head& head, std::size_t max_head) {
  check(head.head_size >= 4 && head.head_size <= input.size() && head.head_size <= max_head);
  const std::string_view bytes = input.substr(0, head.head_size);
  check(bytes.substr(bytes.size() - 4) == "\r\n\r\n");
  check(head.header_count <= http::kMaxHeaders);
  for (const http::Header& h : head.header_list()) {
    check(!h.name.empty() && lies_within(h.name, bytes) && lies_within(h.value, bytes));
  }
  check(head.version_minor <= 1);
}

/// Bytes after which the hint overloads may still answer "incomplete" although a full parse
/// already fails: errors are only looked for once a line end or the size limit arrives.
inline bool error_may_be_deferred(std::string_view input, std::size_t max_head) {
  if (input.size() >= max_head) return false;
  // Empty lines before a request line do not end a head (RFC 9112 §2.2).
  while (input.substr(0, 2) == "\r\n") input.remove_prefix(2);
  if (input.find("\r\n\r\n") != std::string_view::npos) return false;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) return false;
  }
  return true;
}

/// Feeds growing prefixes of `input` (ending at `ends`) to `parse_retry` as the proxy does,
/// and checks the outcome against `whole` (the one-shot parse of all of `input`).
/// ParseFn: (std::string_view, Head&, ParseError&, std::size_t& hint) -> ParseResult.
template <class Head, class ParseFn, class SameFn>
void check_incremental(std::string_view input, const std::vector<std::size_t>& ends,
                       std::size_t max_head, http::ParseResult whole, const Head& whole_head,
                       const http::ParseError& whole_error, ParseFn parse_retry, SameFn same) {
  static Head head;  // ~3 KiB of headers: keep off the stack of every call.
  http::ParseError error;
  std::size_t hint = 0;
  http::ParseResult result = http::ParseResult::kIncomplete;
  for (const std::size_t end : ends) {
    result = parse_retry(input.substr(0, end), head, error, hint);
    if (result != http::ParseResult::kIncomplete) break;
  }
  if (result == http::ParseResult::kIncomplete) {
    // Never miss the end of a head; an error may wait for its line end.
    check(whole == http::ParseResult::kIncomplete ||
          (whole == http::ParseResult::kError && error_may_be_deferred(input, max_head)));
    return;
  }
  // A decision taken on a prefix is the decision on the whole input.
  check(result == whole);
  if (result == http::ParseResult::kError) {
    check(same_error(error, whole_error));
  } else {
    check(same(head, whole_head));
  }
}

struct BodyOutcome {
  std::size_t consumed = 0;
  bool done = false;
  bool error = false;
  std::string_view reason;
  std::string payload;
};

/// Decodes a chunked body from `input` delivered in pieces ending at `ends`.
inline BodyOutcome decode_chunked(std::string_view input, const std::vector<std::size_t>& ends) {
  http::ChunkedDecoder decoder;
  BodyOutcome out;
  const std::function<void(std::string_view)> on_data = [&](std::string_view data) {
    check(lies_within(data, input));
    out.payload.append(data);
  };
  std::size_t start = 0;
  for (const std::size_t end : ends) {
    const std::string_view piece = input.substr(start, end - start);
    const auto step = decoder.feed(piece, &on_data);
    check(step.consumed <= piece.size());
    out.consumed += step.consumed;
    if (step.done || step.error) {
      out.done = step.done;
      out.error = step.error;
      out.reason = step.error_reason;
      check(step.done != step.error);
      check(step.error == !step.error_reason.empty());
      // Finished: nothing more belongs to this body.
      check(decoder.feed(input.substr(end)).consumed == 0);
      break;
    }
    check(step.consumed == piece.size());  // Not finished: every byte is the body's.
    start = end;
  }
  check(decoder.payload_bytes() == out.payload.size());
  check(out.payload.size() <= out.consumed);
  return out;
}

/// The chunked body at the start of `input`, in one piece and in the given pieces: same result.
inline BodyOutcome check_chunked(std::string_view input,
                                 const std::vector<std::vector<std::size_t>>& schedules) {
  const BodyOutcome whole = decode_chunked(input, {input.size()});
  for (const auto& ends : schedules) {
    const BodyOutcome pieces = decode_chunked(input, ends);
    check(pieces.consumed == whole.consumed && pieces.done == whole.done &&
          pieces.error == whole.error && pieces.reason == whole.reason &&
          pieces.payload == whole.payload);
  }
  return whole;
}

}  // namespace fulcrum::fuzz
