#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/message.h"

namespace fulcrum::http {
namespace {

using namespace std::string_literals;

// Owns the input, since the parsed head points into it; built in place, never moved.
struct Parsed {
  explicit Parsed(std::string in, const Limits& limits = {}) : input(std::move(in)) {
    result = parse_request_head(input, limits, head, error);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;

  std::string input;
  ParseResult result;
  ParseError error;
  RequestHead head;
};

// A valid request line and Host, then `fields` (each ending in CRLF), then the final CRLF.
std::string request_with(std::string_view fields) {
  return "GET / HTTP/1.1\r\nHost: a.example\r\n" + std::string(fields) + "\r\n";
}

// ---- Accepted requests ------------------------------------------------------------------------

TEST(RequestHead, ParsesSimpleGet) {
  const std::string in = "GET /index.html?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n";
  const Parsed p(in);
  ASSERT_EQ(p.result, ParseResult::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.target, "/index.html?q=1");
  EXPECT_EQ(p.head.version_minor, 1);
  ASSERT_EQ(p.head.header_count, 2u);
  EXPECT_EQ(p.head.headers[0].name, "Host");
  EXPECT_EQ(p.head.headers[0].value, "a.example");
  EXPECT_EQ(p.head.headers[1].name, "Accept");
  EXPECT_EQ(p.head.headers[1].value, "*/*");
  EXPECT_EQ(p.head.host, "a.example");
  EXPECT_EQ(p.head.framing, Framing::kNone);
  EXPECT_TRUE(p.head.keep_alive);
  EXPECT_FALSE(p.head.expect_continue);
  EXPECT_FALSE(p.head.upgrade);
  EXPECT_EQ(p.head.head_size, in.size());
}

TEST(RequestHead, ViewsPointIntoTheInput) {
  const Parsed p(request_with("X-A: b\r\n"));
  const std::string& in = p.input;
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.method.data(), in.data());
  EXPECT_EQ(p.head.target.data(), in.data() + 4);
  EXPECT_EQ(p.head.headers[1].value.data(), in.data() + in.find("b\r\n\r\n"));
}

TEST(RequestHead, HeaderLookupIsCaseInsensitiveAndReturnsFirstValue) {
  const Parsed p(request_with("X-Dup: one\r\nx-dup: two\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.header("X-DUP"), "one");
  EXPECT_EQ(p.head.header("host"), "a.example");
  EXPECT_EQ(p.head.header("absent"), "");
  EXPECT_EQ(p.head.header_list().size(), 3u);
}

TEST(RequestHead, TrimsOptionalWhitespaceAroundValues) {
  const Parsed p(request_with("X-A: \t b c \t\r\nX-Empty:\r\nX-Spaces:   \r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.header("x-a"), "b c");
  EXPECT_EQ(p.head.header("x-empty"), "");
  EXPECT_EQ(p.head.header("x-spaces"), "");
}

TEST(RequestHead, AcceptsObsTextInValues) {
  const Parsed p(request_with("X-Name: caf\xc3\xa9\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.header("x-name"), "caf\xc3\xa9");
}

TEST(RequestHead, AcceptsUnknownMethods) {
  const Parsed p("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.method, "PURGE");
}

TEST(RequestHead, ContentLengthFraming) {
  const Parsed p(request_with("Content-Length: 42\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kContentLength);
  EXPECT_EQ(p.head.content_length, 42u);
}

TEST(RequestHead, ZeroContentLengthIsContentLengthFraming) {
  const Parsed p(request_with("Content-Length: 0\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kContentLength);
  EXPECT_EQ(p.head.content_length, 0u);
}

TEST(RequestHead, LargestContentLength) {
  const Parsed p(request_with("Content-Length: 18446744073709551615\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.content_length, 18446744073709551615u);
}

TEST(RequestHead, ChunkedFraming) {
  const Parsed p(request_with("Transfer-Encoding: chunked\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kChunked);
}

TEST(RequestHead, ChunkedIsCaseInsensitive) {
  const Parsed p(request_with("transfer-encoding: ChUnKeD\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.framing, Framing::kChunked);
}

TEST(RequestHead, Http11KeepsAliveByDefault) {
  const Parsed p(request_with(""));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_TRUE(p.head.keep_alive);
}

TEST(RequestHead, Http11ConnectionCloseDisablesKeepAlive) {
  const Parsed p(request_with("Connection: Close\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(RequestHead, Http10ClosesByDefault) {
  const Parsed p("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.version_minor, 0);
  EXPECT_FALSE(p.head.keep_alive);
  EXPECT_EQ(p.head.host, "");
}

TEST(RequestHead, Http10KeepAliveToken) {
  const Parsed p("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_TRUE(p.head.keep_alive);
}

TEST(RequestHead, CloseWinsOverKeepAlive) {
  const Parsed p("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(RequestHead, ConnectionListWithEmptyElements) {
  const Parsed p(request_with("Connection: , foo ,, close\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.keep_alive);
}

TEST(RequestHead, ExpectContinue) {
  const Parsed p(request_with("Expect: 100-Continue\r\n"));
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_TRUE(p.head.expect_continue);
}

TEST(RequestHead, ExpectIgnoredInHttp10) {
  const Parsed p("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.expect_continue);
}

TEST(RequestHead, UpgradeNeedsTokenAndHeader) {
  const Parsed both(request_with("Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"));
  ASSERT_EQ(both.result, ParseResult::kComplete);
  EXPECT_TRUE(both.head.upgrade);
  const Parsed header_only(request_with("Upgrade: websocket\r\n"));
  ASSERT_EQ(header_only.result, ParseResult::kComplete);
  EXPECT_FALSE(header_only.head.upgrade);
  const Parsed token_only(request_with("Connection: upgrade\r\n"));
  ASSERT_EQ(token_only.result, ParseResult::kComplete);
  EXPECT_FALSE(token_only.head.upgrade);
}

TEST(RequestHead, UpgradeIgnoredInHttp10) {
  const Parsed p("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_FALSE(p.head.upgrade);
}

TEST(RequestHead, AbsoluteFormAuthorityWinsOverHost) {
  const Parsed p("GET http://b.example:8080/p?q HTTP/1.1\r\nHost: a.example\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.target, "http://b.example:8080/p?q");
  EXPECT_EQ(p.head.host, "b.example:8080");
  EXPECT_EQ(p.head.header("host"), "a.example");
}

TEST(RequestHead, AbsoluteFormWithQueryRightAfterAuthority) {
  const Parsed p("GET HTTPS://b.example?x=1 HTTP/1.1\r\nHost: b.example\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.host, "b.example");
}

TEST(RequestHead, ConnectAuthorityForm) {
  const Parsed p("CONNECT b.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.host, "b.example:443");
}

TEST(RequestHead, OptionsAsteriskForm) {
  const Parsed p("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.target, "*");
}

TEST(RequestHead, Ipv6HostWithPort) {
  const Parsed p("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.host, "[2001:db8::1]:8080");
}

TEST(RequestHead, AcceptsIpv4AndPercentEncodedHosts) {
  const Parsed v4("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n");
  ASSERT_EQ(v4.result, ParseResult::kComplete);
  EXPECT_EQ(v4.head.host, "192.0.2.1:80");
  const Parsed pct("GET / HTTP/1.1\r\nHost: a%2Db.example\r\n\r\n");
  ASSERT_EQ(pct.result, ParseResult::kComplete);
  EXPECT_EQ(pct.head.host, "a%2Db.example");
}

TEST(RequestHead, EmptyHostIsAllowed) {
  const Parsed p("GET / HTTP/1.1\r\nHost:\r\n\r\n");
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.host, "");
}

TEST(RequestHead, SkipsAnEmptyLineBeforeTheRequestLine) {
  const std::string in = "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const Parsed p(in);
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.method, "GET");
  EXPECT_EQ(p.head.head_size, in.size());
}

TEST(RequestHead, AcceptsExactlyMaxHeaders) {
  std::string fields;
  for (std::size_t k = 1; k < kMaxHeaders; ++k) fields += "X-" + std::to_string(k) + ": v\r\n";
  const Parsed p(request_with(fields), Limits{.max_head_bytes = 1 << 20});
  ASSERT_EQ(p.result, ParseResult::kComplete) << p.error.reason;
  EXPECT_EQ(p.head.header_count, kMaxHeaders);
}

TEST(RequestHead, AcceptsHeadOfExactlyMaxBytes) {
  const std::string in = request_with("X-Pad: " + std::string(100, 'p') + "\r\n");
  const Parsed p(in, Limits{.max_head_bytes = in.size()});
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.head_size, in.size());
}

TEST(RequestHead, BytesAfterTheHeadDoNotCountAgainstTheLimit) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
  const Parsed p(head + std::string(1000, 'b'), Limits{.max_head_bytes = head.size()});
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.head_size, head.size());
}

TEST(RequestHead, AcceptsTargetOfExactlyMaxUriBytes) {
  const std::string target = "/" + std::string(63, 'x');
  const Parsed p("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n", Limits{.max_uri_bytes = 64});
  ASSERT_EQ(p.result, ParseResult::kComplete);
  EXPECT_EQ(p.head.target, target);
}

TEST(RequestHead, ReusedHeadIsReset) {
  RequestHead head;
  ParseError error;
  ASSERT_EQ(parse_request_head(request_with("Content-Length: 3\r\nConnection: close\r\n"), {}, head,
                               error),
            ParseResult::kComplete);
  const std::string second = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  ASSERT_EQ(parse_request_head(second, {}, head, error), ParseResult::kComplete);
  EXPECT_EQ(head.header_count, 1u);
  EXPECT_EQ(head.framing, Framing::kNone);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.host, "b");
}

// ---- Rejected requests: one case per rule -----------------------------------------------------

struct RejectCase {
  const char* name;
  std::string input;
  int status;
  std::string_view reason;
  Limits limits = {};
};

class RequestReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RequestReject, IsRefusedWithStatusAndReason) {
  const RejectCase& c = GetParam();
  const Parsed p(c.input, c.limits);
  ASSERT_EQ(p.result, ParseResult::kError);
  EXPECT_EQ(p.error.status, c.status);
  EXPECT_EQ(p.error.reason, c.reason);
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t k = 0; k < n; ++k) out += s;
  return out;
}

std::string many_headers(std::size_t n) {
  std::string fields;
  for (std::size_t k = 0; k < n; ++k) fields += "X-" + std::to_string(k) + ": v\r\n";
  return fields;
}

const RejectCase kRejects[] = {
    // Content-Length.
    {"DuplicateContentLength", request_with("Content-Length: 5\r\nContent-Length: 5\r\n"), 400,
     "duplicate Content-Length"},
    {"ContentLengthList", request_with("Content-Length: 5, 5\r\n"), 400, "Content-Length list"},
    {"ContentLengthPlusSign", request_with("Content-Length: +5\r\n"), 400,
     "invalid Content-Length"},
    {"ContentLengthNegative", request_with("Content-Length: -1\r\n"), 400,
     "invalid Content-Length"},
    {"ContentLengthInnerSpace", request_with("Content-Length: 1 2\r\n"), 400,
     "invalid Content-Length"},
    {"ContentLengthHex", request_with("Content-Length: 0x10\r\n"), 400, "invalid Content-Length"},
    {"ContentLengthEmpty", request_with("Content-Length: \r\n"), 400, "empty Content-Length"},
    {"ContentLengthOverflow", request_with("Content-Length: 18446744073709551616\r\n"), 400,
     "Content-Length overflow"},
    // Transfer-Encoding.
    {"TransferEncodingIdentity", request_with("Transfer-Encoding: identity\r\n"), 400,
     "chunked is not the final transfer coding"},
    {"TransferEncodingChunkedNotLast", request_with("Transfer-Encoding: chunked, identity\r\n"),
     400, "chunked is not the final transfer coding"},
    {"TransferEncodingGzipChunked", request_with("Transfer-Encoding: gzip, chunked\r\n"), 501,
     "unsupported transfer coding"},
    {"TransferEncodingChunkedTwice", request_with("Transfer-Encoding: chunked, chunked\r\n"), 400,
     "chunked applied more than once"},
    {"TransferEncodingEmptyElement", request_with("Transfer-Encoding: chunked,\r\n"), 400,
     "invalid Transfer-Encoding"},
    {"TransferEncodingParameter", request_with("Transfer-Encoding: chunked;q=1\r\n"), 400,
     "invalid Transfer-Encoding"},
    {"TransferEncodingEmpty", request_with("Transfer-Encoding:\r\n"), 400,
     "invalid Transfer-Encoding"},
    {"TransferEncodingInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
     "Transfer-Encoding in HTTP/1.0 request"},
    {"ContentLengthWithTransferEncoding",
     request_with("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"), 400,
     "Content-Length with Transfer-Encoding"},
    {"MultipleTransferEncoding",
     request_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400,
     "multiple Transfer-Encoding headers"},
    // Line structure.
    {"ObsFold", request_with("X-A: b\r\n c\r\n"), 400, "obsolete line folding"},
    {"WhitespaceBeforeFirstField", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400,
     "obsolete line folding"},
    {"BareCrInValue", request_with("X-A: b\rc\r\n"), 400, "bare CR"},
    {"BareCrAtEndOfHead", "GET / HTTP/1.1\r\nHost: a\r\n\rX", 400, "bare CR"},
    {"BareCrInRequestLine", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR"},
    {"BareLfEndingField", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF"},
    {"BareLfEndingRequestLine", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF"},
    {"BareLfEndingHead", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF"},
    {"TooManyEmptyLinesFirst", repeat("\r\n", 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "too many empty lines before request line"},
    // Field names and values.
    {"NulInValue", request_with("X-A: b\0c\r\n"s), 400, "invalid character in field value"},
    {"ControlInValue", request_with("X-A: b\x01c\r\n"), 400, "invalid character in field value"},
    {"DelInValue", request_with("X-A: b\x7f\r\n"), 400, "invalid character in field value"},
    {"NulInName", request_with("X\0A: b\r\n"s), 400, "invalid character in field name"},
    {"SeparatorInName", request_with("X(A): b\r\n"), 400, "invalid character in field name"},
    {"NonAsciiInName", request_with("X\xc3\xa9: b\r\n"), 400, "invalid character in field name"},
    {"WhitespaceBeforeColon", request_with("X-A : b\r\n"), 400, "whitespace before colon"},
    {"EmptyFieldName", request_with(": b\r\n"), 400, "empty field name"},
    {"LineWithoutColon", request_with("X-A b\r\n"), 400, "whitespace before colon"},
    // Request line.
    {"InvalidMethodChar", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid character in method"},
    {"EmptyMethod", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "empty method"},
    {"MethodTooLong", std::string(33, 'M') + " / HTTP/1.1\r\nHost: a\r\n\r\n", 501,
     "method too long"},
    {"SpaceInTarget", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid HTTP version"},
    {"TabInTarget", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "invalid character in request target"},
    {"ControlInTarget", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "invalid character in request target"},
    {"FragmentInTarget", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "invalid character in request target"},
    {"NonAsciiInTarget", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "invalid character in request target"},
    {"DoubleSpaceBeforeTarget", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "empty request target"},
    {"RelativeTarget", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request target"},
    {"AsteriskWithoutOptions", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "asterisk-form is only for OPTIONS"},
    {"ConnectOriginForm", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
     "CONNECT requires authority-form"},
    {"ConnectWithoutPort", "CONNECT b.example HTTP/1.1\r\nHost: b.example\r\n\r\n", 400,
     "invalid CONNECT target"},
    {"AbsoluteFormUserinfo", "GET http://u:p@b.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", 400,
     "userinfo in request target"},
    {"AbsoluteFormOtherScheme", "GET ftp://b.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", 400,
     "unsupported URI scheme"},
    {"AbsoluteFormEmptyAuthority", "GET http:///p HTTP/1.1\r\nHost: b.example\r\n\r\n", 400,
     "missing authority in request target"},
    {"AbsoluteFormBadAuthority", "GET http://b.ex%zz/ HTTP/1.1\r\nHost: b.example\r\n\r\n", 400,
     "invalid authority in request target"},
    {"HttpVersion2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP version not supported"},
    {"HttpVersion12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "HTTP version not supported"},
    {"HttpVersion09", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "HTTP version not supported"},
    {"LowercaseVersion", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "invalid HTTP version"},
    {"TwoDigitMinor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "invalid HTTP version"},
    {"SpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "invalid HTTP version"},
    {"MissingVersion", "GET /\r\nHost: a\r\n\r\n", 400, "invalid character in request target"},
    // Host.
    {"MissingHost", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "missing Host header"},
    {"MultipleHost", request_with("Host: a.example\r\n"), 400, "multiple Host headers"},
    {"HostWithSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host header"},
    {"HostWithEmptyPort", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400, "invalid Host header"},
    {"HostWithLongPort", "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400, "invalid Host header"},
    {"HostIpv6Unclosed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "invalid Host header"},
    {"HostPortOnly", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, "invalid Host header"},
    // Connection.
    {"ConnectionNotAList", request_with("Connection: keep alive\r\n"), 400,
     "invalid Connection header"},
    // Limits.
    {"TargetLongerThanMaxUri", "GET /" + std::string(64, 'x') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
     "request target too long", Limits{.max_uri_bytes = 64}},
    {"HeadLargerThanMax", request_with("X-Pad: " + std::string(200, 'p') + "\r\n"), 431,
     "request head too large", Limits{.max_head_bytes = 128}},
    {"TooManyHeaders", request_with(many_headers(kMaxHeaders)), 431, "too many header fields",
     Limits{.max_head_bytes = 1 << 20}},
};

INSTANTIATE_TEST_SUITE_P(Rules, RequestReject, ::testing::ValuesIn(kRejects),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RequestHead, HeadOneByteOverMaxIs431) {
  const std::string in = request_with("X-Pad: " + std::string(100, 'p') + "\r\n");
  const Parsed p(in, Limits{.max_head_bytes = in.size() - 1});
  ASSERT_EQ(p.result, ParseResult::kError);
  EXPECT_EQ(p.error.status, 431);
}

TEST(RequestHead, OverlongTargetIsRefusedBeforeItEnds) {
  const Parsed p("GET /" + std::string(100, 'x'), Limits{.max_uri_bytes = 64});
  ASSERT_EQ(p.result, ParseResult::kError);
  EXPECT_EQ(p.error.status, 414);
}

TEST(RequestHead, GarbageIsRefusedBeforeTheHeadEnds) {
  EXPECT_EQ(Parsed("GET /a\x01").result, ParseResult::kError);
  EXPECT_EQ(Parsed("GET / HTTP/1.1\r\nX-A: b\x01").result, ParseResult::kError);
  EXPECT_EQ(Parsed("GET / HTTX").result, ParseResult::kError);
  EXPECT_EQ(Parsed("GET / HTTP/1.1\r\nHost: a\n").result, ParseResult::kError);
}

}  // namespace
}  // namespace fulcrum::http
