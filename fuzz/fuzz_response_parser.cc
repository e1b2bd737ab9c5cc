// Response heads and their body framing, as the proxy reads them from an upstream: the head
// parsed on every arrival of bytes (with the scan hint), then the body framed by the status, the
// request method, Content-Length or the chunked decoder. Each input is read as the answer to a
// GET, a HEAD and a CONNECT, since the method decides whether there is a body.
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
constexpr std::size_t kMaxDribbledBytes = 2048;

bool same_response(const http::ResponseHead& a, const http::ResponseHead& b) {
  return a.status == b.status && a.version_minor == b.version_minor &&
         same_view(a.reason, b.reason) && same_headers(a.header_list(), b.header_list()) &&
         a.framing == b.framing && a.content_length == b.content_length &&
         a.keep_alive == b.keep_alive && a.upgrade == b.upgrade && a.head_size == b.head_size;
}

void check_response(std::string_view input, std::string_view method, const http::ResponseHead& head,
                    const http::Limits& limits) {
  check_head_bytes(input, head, limits.max_head_bytes);
  check(head.status >= 100 && head.status <= 599);
  check(lies_within(head.reason, input.substr(0, head.head_size)));
  const bool bodiless = method == "HEAD" || head.status < 200 || head.status == 204 ||
                        head.status == 304 || (method == "CONNECT" && head.status / 100 == 2);
  if (bodiless) check(head.framing == http::Framing::kNone);
  if (head.framing == http::Framing::kUntilClose) check(!head.keep_alive);
  if (head.framing != http::Framing::kContentLength) check(head.content_length == 0);
  if (head.upgrade) check(head.status == 101);
}

void check_connection(std::string_view input, std::string_view method, const http::Limits& limits) {
  static http::ResponseHead head;
  const auto parse_retry = [&](std::string_view in, http::ResponseHead& h, http::ParseError& e,
                               std::size_t& hint) {
    return http::parse_response_head(in, method, limits, h, e, hint);
  };
  std::size_t offset = 0;
  for (int message = 0; message < kMaxPipelined && offset < input.size(); ++message) {
    const std::string_view rest = input.substr(offset);
    http::ParseError error;
    std::size_t fresh_hint = 0;
    const http::ParseResult whole = parse_retry(rest, head, error, fresh_hint);
    if (whole == http::ParseResult::kComplete) check_response(rest, method, head, limits);
    if (whole == http::ParseResult::kError) check(error.status == 502 && !error.reason.empty());

    check_incremental(rest, split_points(rest.size(), hash_bytes(rest)), limits.max_head_bytes,
                      whole, head, error, parse_retry, same_response);
    if (rest.size() <= kMaxDribbledBytes) {
      check_incremental(rest, byte_at_a_time(rest.size()), limits.max_head_bytes, whole, head,
                        error, parse_retry, same_response);
    }
    if (whole != http::ParseResult::kComplete) return;

    const std::string_view body = rest.substr(head.head_size);
    std::size_t body_size = 0;
    switch (head.framing) {
      case http::Framing::kNone:
        break;
      case http::Framing::kUntilClose:
        return;  // The rest of the connection is this body.
      case http::Framing::kContentLength:
        if (head.content_length > body.size()) return;
        body_size = static_cast<std::size_t>(head.content_length);
        break;
      case http::Framing::kChunked: {
        std::vector<std::vector<std::size_t>> schedules{
            split_points(body.size(), hash_bytes(body))};
        if (body.size() <= kMaxDribbledBytes) schedules.push_back(byte_at_a_time(body.size()));
        const BodyOutcome outcome = check_chunked(body, schedules);
        if (!outcome.done) return;
        body_size = outcome.consumed;
        break;
      }
    }
    offset += head.head_size + body_size;
  }
}

}  // namespace
}  // namespace fulcrum::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::string_view method : {"GET", "HEAD", "CONNECT"}) {
    fulcrum::fuzz::check_connection(input, method, fulcrum::http::Limits{});
  }
  fulcrum::fuzz::check_connection(
      input, "GET", fulcrum::http::Limits{.max_head_bytes = 512, .max_uri_bytes = 64});
  return 0;
}
