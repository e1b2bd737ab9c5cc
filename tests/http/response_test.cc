#include <gtest/gtest.h>

#include <string>

#include "http/message.h"

namespace fulcrum::http {
namespace {

// Owns the input, since the parsed head points into it; built in place, never moved.
struct Parsed {
  explicit Parsed(std::string in, std::string_view method = "GET") : input(std::move(in)) {
    result = parse_response_head(input, method, head, error);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;

  std::string input;
  ParseResult result;
  ParseError error;
  ResponseHead head;
};

std::string response_with(std::string_view status_line, std::string_view fields) {
  return std::string(status_line) + "\r\n" + std::string(fields) + "\r\n";
}

TEST(ResponseHead, ParsesStatusReasonAndContentLength) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Content-Length: 5\r\nX-A: b\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.status, 200);
  EXPECT_EQ(p.head.version_minor, 1);
  EXPECT_EQ(p.head.reason, "OK");
  EXPECT_EQ(p.head.header_count, 2u);
  EXPECT_EQ(p.head.header("x-a"), "b");
  EXPECT_EQ(p.head.framing, Framing::kContentLength);
  EXPECT_EQ(p.head.content_length, 5u);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_EQ(p.head.head_size, p.input.size());
}

TEST(ResponseHead, ReasonMayContainSpacesOrBeEmpty) {
  const Parsed spaced(response_with("HTTP/1.1 404 Not  Found here", "Content-Length: 0\r\n"));
  ASSERT_EQ(spaced.result, ParseResult::kComplete);
  EXPECT_EQ(spaced.head.reason, "Not  Found here");
  const Parsed empty(response_with("HTTP/1.1 404 ", "Content-Length: 0\r\n"));
  ASSERT_EQ(empty.result, ParseResult::kComplete);
  EXPECT_EQ(empty.head.reason, "");
  const Parsed missing(response_with("HTTP/1.1 404", "Content-Length: 0\r\n"));
  ASSERT_EQ(missing.result, ParseResult::kComplete);
  EXPECT_EQ(missing.head.status, 404);
  EXPECT_EQ(missing.head.reason, "");
}

TEST(ResponseHead, Chunked) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kChunked);
  EXPECT_TRUE(p.head.keep_alive);
}

TEST(ResponseHead, OtherCodingsBeforeChunkedAreForwarded) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kChunked);
}

TEST(ResponseHead, CodingWithoutFinalChunkedRunsUntilClose) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kUntilClose);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(ResponseHead, NoLengthRunsUntilClose) {
  const Parsed p(response_with("HTTP/1.1 200 OK", ""));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kUntilClose);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(ResponseHead, HeadResponseHasNoBodyDespiteContentLength) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Content-Length: 1234\r\n"), "HEAD");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kNone);
  EXPECT_TRUE(p.head.keep_alive);
}

TEST(ResponseHead, BodilessStatusesHaveNoBody) {
  for (const char* line : {"HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints",
                           "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"}) {
    const Parsed p(response_with(line, "Content-Length: 10\r\n"));
    ASSERT_EQ(p.result, ParseResult::kComplete) << line;
    EXPECT_EQ(p.head.framing, Framing::kNone) << line;
    EXPECT_TRUE(p.head.keep_alive) << line;
  }
}

TEST(ResponseHead, SuccessfulConnectHasNoBody) {
  const Parsed ok(response_with("HTTP/1.1 200 Connection Established", ""), "CONNECT");
  ASSERT_EQ(ok.result, ParseResult::kComplete);
  EXPECT_EQ(ok.head.framing, Framing::kNone);
  const Parsed refused(response_with("HTTP/1.1 403 Forbidden", "Content-Length: 3\r\n"), "CONNECT");
  ASSERT_EQ(refused.result, ParseResult::kComplete);
  EXPECT_EQ(refused.head.framing, Framing::kContentLength);
}

TEST(ResponseHead, Http10ClosesUnlessKeepAlive) {
  const Parsed plain(response_with("HTTP/1.0 200 OK", "Content-Length: 1\r\n"));
  ASSERT_EQ(plain.result, ParseResult::kComplete);
  EXPECT_EQ(plain.head.version_minor, 0);
  EXPECT_FALSE(plain.head.keep_alive);
  const Parsed kept(
      response_with("HTTP/1.0 200 OK", "Content-Length: 1\r\nConnection: keep-alive\r\n"));
  ASSERT_EQ(kept.result, ParseResult::kComplete);
  EXPECT_TRUE(kept.head.keep_alive);
}

TEST(ResponseHead, Http11ConnectionClose) {
  const Parsed p(response_with("HTTP/1.1 200 OK", "Content-Length: 1\r\nConnection: close\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(ResponseHead, SwitchingProtocolsWithUpgrade) {
  const Parsed p(response_with("HTTP/1.1 101 Switching Protocols",
                               "Connection: Upgrade\r\nUpgrade: websocket\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_TRUE(p.head.upgrade);
  EXPECT_EQ(p.head.framing, Framing::kNone);
}

TEST(ResponseHead, EveryProperPrefixIsIncomplete) {
  const std::string in = response_with("HTTP/1.1 200 OK", "Content-Length: 5\r\nServer: x\r\n");
  ResponseHead head;
  ParseError error;
  for (std::size_t cut = 0; cut < in.size(); ++cut) {
    ASSERT_EQ(parse_response_head(std::string_view(in.data(), cut), "GET", head, error),
              ParseResult::kIncomplete)
        << cut;
  }
  ASSERT_EQ(parse_response_head(in, "GET", head, error), ParseResult::kComplete);
  EXPECT_EQ(head.head_size, in.size());
}

TEST(ResponseHead, ByteByByteWithHint) {
  const std::string in = response_with("HTTP/1.1 200 OK", "Content-Length: 5\r\nServer: x\r\n");
  ResponseHead head;
  ParseError error;
  std::size_t hint = 0;
  for (std::size_t len = 1; len < in.size(); ++len) {
    ASSERT_EQ(
        parse_response_head(std::string_view(in.data(), len), "GET", Limits{}, head, error, hint),
        ParseResult::kIncomplete)
        << len;
  }
  ASSERT_EQ(parse_response_head(in, "GET", Limits{}, head, error, hint), ParseResult::kComplete);
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_EQ(head.header("server"), "x");
}

TEST(ResponseHead, PipelinedResponsesAreFoundThroughHeadSize) {
  const std::string stream = response_with("HTTP/1.1 100 Continue", "") +
                             response_with("HTTP/1.1 200 OK", "Content-Length: 2\r\n") + "hi";
  ResponseHead head;
  ParseError error;
  ASSERT_EQ(parse_response_head(stream, "POST", head, error), ParseResult::kComplete);
  EXPECT_EQ(head.status, 100);
  const std::string_view rest = std::string_view(stream).substr(head.head_size);
  ASSERT_EQ(parse_response_head(rest, "POST", head, error), ParseResult::kComplete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(rest.substr(head.head_size), "hi");
}

struct RejectCase {
  const char* name;
  std::string input;
  std::string_view reason;
};

class ResponseReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(ResponseReject, IsRefusedAsBadGateway) {
  const Parsed p(GetParam().input);
  ASSERT_EQ(p.result, ParseResult::kError);
  EXPECT_EQ(p.error.status, 502);
  EXPECT_EQ(p.error.reason, GetParam().reason);
}

const RejectCase kRejects[] = {
    {"DuplicateContentLength",
     response_with("HTTP/1.1 200 OK", "Content-Length: 1\r\nContent-Length: 1\r\n"),
     "duplicate Content-Length"},
    {"ContentLengthList", response_with("HTTP/1.1 200 OK", "Content-Length: 1,1\r\n"),
     "Content-Length list"},
    {"InvalidContentLength", response_with("HTTP/1.1 200 OK", "Content-Length: 1a\r\n"),
     "invalid Content-Length"},
    {"DuplicateContentLengthOn304",
     response_with("HTTP/1.1 304 Not Modified", "Content-Length: 1\r\nContent-Length: 2\r\n"),
     "duplicate Content-Length"},
    {"ContentLengthWithTransferEncoding",
     response_with("HTTP/1.1 200 OK", "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"),
     "Content-Length with Transfer-Encoding"},
    {"TransferEncodingInHttp10", response_with("HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\n"),
     "Transfer-Encoding in HTTP/1.0 response"},
    {"MultipleTransferEncoding",
     response_with("HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
     "multiple Transfer-Encoding headers"},
    {"InvalidTransferEncoding", response_with("HTTP/1.1 200 OK", "Transfer-Encoding: chunked,\r\n"),
     "invalid Transfer-Encoding"},
    {"ChunkedTwice", response_with("HTTP/1.1 200 OK", "Transfer-Encoding: chunked, chunked\r\n"),
     "chunked applied more than once"},
    {"TwoDigitStatus", response_with("HTTP/1.1 20 OK", ""), "invalid status code"},
    {"FourDigitStatus", response_with("HTTP/1.1 2000 OK", ""), "invalid status code"},
    {"StatusBelow100", response_with("HTTP/1.1 099 X", ""), "invalid status code"},
    {"StatusAbove599", response_with("HTTP/1.1 600 X", ""), "invalid status code"},
    {"NonDigitStatus", response_with("HTTP/1.1 2x0 OK", ""), "invalid status code"},
    {"Version2", response_with("HTTP/2.0 200 OK", ""), "unsupported HTTP version"},
    {"NotHttp", response_with("HTTPS/1.1 200 OK", ""), "invalid HTTP version"},
    {"TwoSpacesBeforeStatus", response_with("HTTP/1.1  200 OK", ""), "invalid status code"},
    {"ControlInReason", response_with("HTTP/1.1 200 O\x01K", ""),
     "invalid character in reason phrase"},
    {"BareLfAfterStatusLine", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF"},
    {"BareCrInStatusLine", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", "bare CR"},
    {"ObsFold", response_with("HTTP/1.1 200 OK", "X-A: b\r\n\tc\r\n"), "obsolete line folding"},
    {"WhitespaceBeforeColon", response_with("HTTP/1.1 200 OK", "Content-Length : 0\r\n"),
     "whitespace before colon"},
    {"NulInValue", response_with("HTTP/1.1 200 OK", std::string("X-A: \0\r\n", 8)),
     "invalid character in field value"},
    {"HeadTooLarge", response_with("HTTP/1.1 200 OK", "X-Pad: " + std::string(17000, 'p') + "\r\n"),
     "response head too large"},
};

INSTANTIATE_TEST_SUITE_P(Rules, ResponseReject, ::testing::ValuesIn(kRejects),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace fulcrum::http
