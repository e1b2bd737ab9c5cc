// Incremental and pipelined input: what the proxy sees when a head arrives in pieces, or when
// several requests arrive in one read.
#include <gtest/gtest.h>

#include <string>

#include "http/message.h"

namespace fulcrum::http {
namespace {

const std::string kRequest =
    "\r\nPOST /upload?id=7 HTTP/1.1\r\nHost: a.example:8080\r\nUser-Agent: t/1.0\r\n"
    "Content-Length: 11\r\nConnection: keep-alive, x-trace\r\nX-Trace: 1\r\n\r\n";

void expect_same_head(const RequestHead& a, const RequestHead& b) {
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.version_minor, b.version_minor);
  ASSERT_EQ(a.header_count, b.header_count);
  for (std::size_t k = 0; k < a.header_count; ++k) {
    EXPECT_EQ(a.headers[k].name, b.headers[k].name);
    EXPECT_EQ(a.headers[k].value, b.headers[k].value);
  }
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.framing, b.framing);
  EXPECT_EQ(a.content_length, b.content_length);
  EXPECT_EQ(a.keep_alive, b.keep_alive);
  EXPECT_EQ(a.head_size, b.head_size);
}

TEST(RequestIncremental, EveryProperPrefixIsIncompleteAndTheWholeIsTheSame) {
  RequestHead whole;
  ParseError error;
  ASSERT_EQ(parse_request_head(kRequest, {}, whole, error), ParseResult::kComplete);
  for (std::size_t cut = 0; cut < kRequest.size(); ++cut) {
    RequestHead head;
    const std::string_view prefix(kRequest.data(), cut);
    ASSERT_EQ(parse_request_head(prefix, {}, head, error), ParseResult::kIncomplete) << cut;
    ASSERT_EQ(parse_request_head(kRequest, {}, head, error), ParseResult::kComplete) << cut;
    expect_same_head(head, whole);
  }
}

TEST(RequestIncremental, EverySplitWithHintGivesTheSameHead) {
  RequestHead whole;
  ParseError error;
  ASSERT_EQ(parse_request_head(kRequest, {}, whole, error), ParseResult::kComplete);
  for (std::size_t cut = 1; cut < kRequest.size(); ++cut) {
    RequestHead head;
    std::size_t hint = 0;
    ASSERT_EQ(parse_request_head(std::string_view(kRequest.data(), cut), {}, head, error, hint),
              ParseResult::kIncomplete)
        << cut;
    EXPECT_EQ(hint, cut);
    ASSERT_EQ(parse_request_head(kRequest, {}, head, error, hint), ParseResult::kComplete) << cut;
    EXPECT_EQ(hint, 0u);
    expect_same_head(head, whole);
  }
}

TEST(RequestIncremental, ByteByByteWithHint) {
  RequestHead head;
  ParseError error;
  std::size_t hint = 0;
  for (std::size_t len = 1; len < kRequest.size(); ++len) {
    ASSERT_EQ(parse_request_head(std::string_view(kRequest.data(), len), {}, head, error, hint),
              ParseResult::kIncomplete)
        << len;
  }
  ASSERT_EQ(parse_request_head(kRequest, {}, head, error, hint), ParseResult::kComplete);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.content_length, 11u);
  EXPECT_EQ(head.head_size, kRequest.size());
}

// With the hint, bytes in the middle of a line are not validated until the line can end the head;
// the error must still come out, and with the same status and reason.
TEST(RequestIncremental, ByteByByteWithHintStillRejects) {
  const std::string bad = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01 c\r\nX-B: d\r\n\r\n";
  RequestHead head;
  ParseError error;
  std::size_t hint = 0;
  ParseResult result = ParseResult::kIncomplete;
  std::size_t len = 0;
  while (result == ParseResult::kIncomplete && len < bad.size()) {
    result = parse_request_head(std::string_view(bad.data(), ++len), {}, head, error, hint);
  }
  ASSERT_EQ(result, ParseResult::kError);
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.reason, "invalid character in field value");
}

TEST(RequestIncremental, ByteByByteWithHintRejectsBareLfAtOnce) {
  const std::string bad = "GET / HTTP/1.1\r\nHost: a\nX-B: d\r\n\r\n";
  RequestHead head;
  ParseError error;
  std::size_t hint = 0;
  const std::size_t lf = bad.find("a\n") + 2;
  for (std::size_t len = 1; len < lf; ++len) {
    ASSERT_EQ(parse_request_head(std::string_view(bad.data(), len), {}, head, error, hint),
              ParseResult::kIncomplete);
  }
  ASSERT_EQ(parse_request_head(std::string_view(bad.data(), lf), {}, head, error, hint),
            ParseResult::kError);
  EXPECT_EQ(error.reason, "bare LF");
}

TEST(RequestIncremental, ByteByByteWithHintAnswers414SoonAfterTheBudget) {
  const Limits limits{.max_head_bytes = 4096, .max_uri_bytes = 256};
  const std::string long_target = "GET /" + std::string(2000, 'x');
  RequestHead head;
  ParseError error;
  std::size_t hint = 0;
  std::size_t len = 0;
  ParseResult result = ParseResult::kIncomplete;
  while (result == ParseResult::kIncomplete && len < long_target.size()) {
    result =
        parse_request_head(std::string_view(long_target.data(), ++len), limits, head, error, hint);
  }
  ASSERT_EQ(result, ParseResult::kError);
  EXPECT_EQ(error.status, 414);
  // Within the method, separator and empty-line allowance past the URI limit.
  EXPECT_LT(len, 256u + 64u);
}

TEST(RequestIncremental, ByteByByteWithHintAnswers431AtTheLimit) {
  const Limits limits{.max_head_bytes = 512};
  const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(1000, 'p');
  RequestHead head;
  ParseError error;
  std::size_t hint = 0;
  std::size_t len = 0;
  ParseResult result = ParseResult::kIncomplete;
  while (result == ParseResult::kIncomplete && len < big.size()) {
    result = parse_request_head(std::string_view(big.data(), ++len), limits, head, error, hint);
  }
  ASSERT_EQ(result, ParseResult::kError);
  EXPECT_EQ(error.status, 431);
  EXPECT_EQ(len, 512u);
}

TEST(RequestIncremental, PipelinedRequestsAreFoundThroughHeadSize) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string third = "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string stream = first + second + third;

  RequestHead head;
  ParseError error;
  std::string_view rest = stream;
  ASSERT_EQ(parse_request_head(rest, {}, head, error), ParseResult::kComplete);
  EXPECT_EQ(head.target, "/a");
  EXPECT_EQ(rest.substr(head.head_size, head.content_length), "hello");
  rest.remove_prefix(head.head_size + head.content_length);

  ASSERT_EQ(parse_request_head(rest, {}, head, error), ParseResult::kComplete);
  EXPECT_EQ(head.target, "/b");
  EXPECT_EQ(head.head_size, second.size());
  rest.remove_prefix(head.head_size);

  ASSERT_EQ(parse_request_head(rest, {}, head, error), ParseResult::kComplete);
  EXPECT_EQ(head.target, "/c");
  EXPECT_FALSE(head.keep_alive);
  EXPECT_EQ(head.head_size, rest.size());
}

TEST(RequestIncremental, PipelinedSecondHeadMayBeIncomplete) {
  const std::string stream = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHo";
  RequestHead head;
  ParseError error;
  ASSERT_EQ(parse_request_head(stream, {}, head, error), ParseResult::kComplete);
  const std::string_view rest = std::string_view(stream).substr(head.head_size);
  EXPECT_EQ(parse_request_head(rest, {}, head, error), ParseResult::kIncomplete);
}

}  // namespace
}  // namespace fulcrum::http
