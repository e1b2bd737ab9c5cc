// HTTP/2 requests written as HTTP/1.1 heads (and read back by the HTTP/1.1 parser the proxy
// uses), and HTTP/1.1 response heads as HTTP/2 fields.

#include "http2/http1_translation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fulcrum::http2 {
namespace {

RequestHead get(std::span<const Header> headers, std::string_view path = "/a?b=c") {
  return {"GET", "https", "example.test:8443", path, headers};
}

/// Parses `text` as the proxy would; fails the test unless it is one complete head.
http::RequestHead parse(const std::string& text) {
  http::RequestHead head;
  http::ParseError error;
  EXPECT_EQ(http::parse_request_head(text, http::Limits{}, head, error),
            http::ParseResult::kComplete)
      << error.reason << "\n"
      << text;
  EXPECT_EQ(head.head_size, text.size()) << "bytes beyond the head:\n" << text;
  return head;
}

TEST(WriteHttp1Request, RequestLineHostAndFields) {
  const std::vector<Header> fields{{"accept", "*/*"}, {"user-agent", "h2load"}};
  std::string out;
  ASSERT_EQ(write_http1_request(get(fields), false, out).status, 0);
  EXPECT_EQ(out,
            "GET /a?b=c HTTP/1.1\r\nhost: example.test:8443\r\naccept: */*\r\n"
            "user-agent: h2load\r\n\r\n");
  const http::RequestHead head = parse(out);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a?b=c");
  EXPECT_EQ(head.host, "example.test:8443");
  EXPECT_EQ(head.framing, http::Framing::kNone);
}

TEST(WriteHttp1Request, AuthorityWinsOverAHostField) {
  const std::vector<Header> fields{{"host", "other.test"}};
  std::string out;
  write_http1_request(get(fields), false, out);
  EXPECT_EQ(parse(out).host, "example.test:8443");
  EXPECT_EQ(out.find("other.test"), std::string::npos);
}

TEST(WriteHttp1Request, HostFieldServesWhenThereIsNoAuthority) {
  const std::vector<Header> fields{{"host", "only-host.test"}};
  RequestHead head = get(fields);
  head.authority = {};
  std::string out;
  write_http1_request(head, false, out);
  EXPECT_EQ(parse(out).host, "only-host.test");
}

TEST(WriteHttp1Request, CookiesAreJoined) {
  const std::vector<Header> fields{
      {"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "b=2"}, {"cookie", "c=3"}};
  std::string out;
  write_http1_request(get(fields), false, out);
  const http::RequestHead head = parse(out);
  EXPECT_EQ(head.header("cookie"), "a=1; b=2; c=3");
  std::size_t cookies = 0;
  for (const http::Header& h : head.header_list()) cookies += h.name == "cookie";
  EXPECT_EQ(cookies, 1u);
}

TEST(WriteHttp1Request, BodyWithoutLengthIsChunked) {
  RequestHead head = get({});
  head.method = "POST";
  std::string out;
  write_http1_request(head, true, out);
  const http::RequestHead parsed = parse(out);
  EXPECT_EQ(parsed.framing, http::Framing::kChunked);
}

TEST(WriteHttp1Request, DeclaredLengthIsKept) {
  const std::vector<Header> fields{{"content-length", "12"}};
  RequestHead head = get(fields);
  head.method = "POST";
  std::string out;
  write_http1_request(head, true, out);
  const http::RequestHead parsed = parse(out);
  EXPECT_EQ(parsed.framing, http::Framing::kContentLength);
  EXPECT_EQ(parsed.content_length, 12u);
}

TEST(WriteHttp1Request, ConnectIsRefused) {
  RequestHead head = get({}, "");
  head.method = "CONNECT";
  std::string out;
  EXPECT_EQ(write_http1_request(head, false, out).status, 501);
  EXPECT_TRUE(out.empty());
}

TEST(WriteHttp1Request, MissingPathIsRefused) {
  std::string out;
  EXPECT_EQ(write_http1_request(get({}, ""), false, out).status, 400);
}

TEST(WriteHttp1Request, AFieldThatWouldSplitTheRequestDoesNotParse) {
  // nghttp2 refuses such a value first; the HTTP/1.1 parser is the second line of defence.
  const std::vector<Header> fields{{"x-a", "1\r\n\r\nGET /smuggled HTTP/1.1"}};
  std::string out;
  write_http1_request(get(fields), false, out);
  http::RequestHead head;
  http::ParseError error;
  const auto result = http::parse_request_head(out, http::Limits{}, head, error);
  EXPECT_TRUE(result != http::ParseResult::kComplete || head.head_size != out.size())
      << "a field value ended the head early";
}

http::ResponseHead response(const std::string& text) {
  http::ResponseHead head;
  http::ParseError error;
  EXPECT_EQ(http::parse_response_head(text, "GET", head, error), http::ParseResult::kComplete)
      << error.reason;
  return head;
}

TEST(WriteHttp2ResponseFields, LowerCasesAndDropsConnectionSpecificFields) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Hop\r\n"
      "Keep-Alive: timeout=5\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\n"
      "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nProxy-Connection: close\r\n\r\n";
  const http::ResponseHead head = response(text);
  std::string storage;
  std::vector<Header> fields;
  write_http2_response_fields(head, storage, fields);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "content-type");
  EXPECT_EQ(fields[0].value, "text/plain");
  EXPECT_EQ(fields[1].name, "set-cookie");
  EXPECT_EQ(fields[1].value, "a=1");
  EXPECT_EQ(fields[2].name, "set-cookie");
  EXPECT_EQ(fields[2].value, "b=2");
}

}  // namespace
}  // namespace fulcrum::http2
