// Request heads and their body framing, as the proxy reads them: the head parsed on every arrival
// of bytes (with the scan hint), then the body framed by Content-Length or the chunked decoder,
// then the next pipelined request. Checked: the same result whatever the pieces, views inside the
// head, framing consistent with the fields. Run once with the default limits and once with small
// ones so that the 414 and 431 paths are reachable with short inputs.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "fuzz/head_checks.h"
#include "http/message.h"

namespace fulcrum::fuzz {
namespace {

constexpr int kMaxPipelined = 8;
// Byte-at-a-time costs one call per byte: only on inputs short enough to keep the target fast.
constexpr std::size_t kMaxDribbledBytes = 2048;

bool same_request(const http::RequestHead& a, const http::RequestHead& b) {
  return same_view(a.method, b.method) && same_view(a.target, b.target) &&
         a.version_minor == b.version_minor && same_headers(a.header_list(), b.header_list()) &&
         same_view(a.host, b.host) && a.framing == b.framing &&
         a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
         a.expect_continue == b.expect_continue && a.upgrade == b.upgrade &&
         a.head_size == b.head_size;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void check_request(std::string_view input, const http::RequestHead& head,
                   const http::Limits& limits) {
  check_head_bytes(input, head, limits.max_head_bytes);
  const std::string_view bytes = input.substr(0, head.head_size);
  check(!head.method.empty() && head.method.size() <= 32 && lies_within(head.method, bytes));
  check(!head.target.empty() && head.target.size() <= limits.max_uri_bytes &&
        lies_within(head.target, bytes));
  check(lies_within(head.host, bytes));
  switch (head.framing) {
    case http::Framing::kNone:
      check(head.content_length == 0);
      check(head.header("Transfer-Encoding").empty() && head.header("Content-Length").empty());
      break;
    case http::Framing::kContentLength:
      check(is_digits(head.header("Content-Length")));
      break;
    case http::Framing::kChunked:
      check(head.version_minor == 1 && head.content_length == 0);
      break;
    case http::Framing::kUntilClose:
      check(false);  // Requests never run until close (RFC 9112 §6.3).
  }
}

void check_error(const http::ParseError& error) {
  const int s = error.status;
  check(s == 400 || s == 414 || s == 431 || s == 501 || s == 505);
  check(!error.reason.empty());
}

// One connection's bytes: requests and bodies back to back, as long as each one is complete.
void check_connection(std::string_view input, const http::Limits& limits) {
  static http::RequestHead head;
  std::size_t offset = 0;
  for (int message = 0; message < kMaxPipelined && offset < input.size(); ++message) {
    const std::string_view rest = input.substr(offset);
    http::ParseError error;
    const http::ParseResult whole = http::parse_request_head(rest, limits, head, error);
    if (whole == http::ParseResult::kComplete) check_request(rest, head, limits);
    if (whole == http::ParseResult::kError) check_error(error);

    const auto retry = [&limits](std::string_view in, http::RequestHead& h, http::ParseError& e,
                                 std::size_t& hint) {
      return http::parse_request_head(in, limits, h, e, hint);
    };
    const auto random_pieces = split_points(rest.size(), hash_bytes(rest));
    check_incremental(rest, random_pieces, limits.max_head_bytes, whole, head, error, retry,
                      same_request);
    if (rest.size() <= kMaxDribbledBytes) {
      check_incremental(rest, byte_at_a_time(rest.size()), limits.max_head_bytes, whole, head,
                        error, retry, same_request);
    }
    if (whole != http::ParseResult::kComplete) return;

    const std::string_view body = rest.substr(head.head_size);
    std::size_t body_size = 0;
    if (head.framing == http::Framing::kContentLength) {
      if (head.content_length > body.size()) return;
      body_size = static_cast<std::size_t>(head.content_length);
    } else if (head.framing == http::Framing::kChunked) {
      std::vector<std::vector<std::size_t>> schedules{split_points(body.size(), hash_bytes(body))};
      if (body.size() <= kMaxDribbledBytes) schedules.push_back(byte_at_a_time(body.size()));
      const BodyOutcome outcome = check_chunked(body, schedules);
      if (!outcome.done) return;
      body_size = outcome.consumed;
    }
    offset += head.head_size + body_size;
  }
}

}  // namespace
}  // namespace fulcrum::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  fulcrum::fuzz::check_connection(input, fulcrum::http::Limits{});
  fulcrum::fuzz::check_connection(
      input, fulcrum::http::Limits{.max_head_bytes = 512, .max_uri_bytes = 64});
  return 0;
}
