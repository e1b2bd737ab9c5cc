#include "http/forward.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace fulcrum::http {
namespace {

std::string forward_request(const std::string& in, const ForwardInfo& info) {
  RequestHead head;
  ParseError error;
  EXPECT_EQ(parse_request_head(in, {}, head, error), ParseResult::kComplete) << error.reason;
  std::array<char, 4096> buffer;
  const std::size_t n = write_forwarded_request_head(head, info, buffer);
  EXPECT_GT(n, 0u);
  return std::string(buffer.data(), n);
}

std::string forward_response(const std::string& in, bool close, std::string_view method = "GET") {
  ResponseHead head;
  ParseError error;
  EXPECT_EQ(parse_response_head(in, method, head, error), ParseResult::kComplete) << error.reason;
  std::array<char, 4096> buffer;
  const std::size_t n = write_forwarded_response_head(head, close, buffer);
  EXPECT_GT(n, 0u);
  return std::string(buffer.data(), n);
}

const ForwardInfo kClient{.client_ip = "192.0.2.7", .proto = "http", .listener_host = "lb.local"};

TEST(ForwardRequest, AddsForwardingFieldsAndKeepAlive) {
  EXPECT_EQ(
      forward_request("GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n", kClient),
      "GET /p?q=1 HTTP/1.1\r\n"
      "Host: a.example\r\n"
      "Accept: */*\r\n"
      "X-Forwarded-For: 192.0.2.7\r\n"
      "X-Forwarded-Proto: http\r\n"
      "Forwarded: for=192.0.2.7;proto=http;host=a.example\r\n"
      "Connection: keep-alive\r\n"
      "\r\n");
}

TEST(ForwardRequest, DropsHopByHopFieldsAndThoseNamedInConnection) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n"
      "x-secret: 1\r\nX-Kept: 2\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET / HTTP/1.1\r\n"
            "Host: a\r\n"
            "X-Kept: 2\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, DropsUnderscoreAliasesOfFieldsItControls) {
  // CGI-style servers read Transfer_Encoding as Transfer-Encoding (HTTP_TRANSFER_ENCODING).
  const std::string in =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer_Encoding: chunked\r\n"
      "content_length: 99\r\nX_Forwarded_For: 10.0.0.1\r\nX_Request_Id: 7\r\nhost_: b\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "POST / HTTP/1.1\r\n"
            "Host: a\r\n"
            "Content-Length: 2\r\n"
            "X_Request_Id: 7\r\n"
            "host_: b\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, ConnectionCannotRemoveFramingOrHost) {
  const std::string in =
      "POST / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length, host\r\nContent-Length: 3\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "POST / HTTP/1.1\r\n"
            "Host: a\r\n"
            "Content-Length: 3\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, FramingFieldsAreWrittenCanonically) {
  const std::string chunked = "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: CHUNKED\r\n\r\n";
  EXPECT_NE(forward_request(chunked, kClient).find("\r\nTransfer-Encoding: chunked\r\n"),
            std::string::npos);
  const std::string length = "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 007\r\n\r\n";
  EXPECT_NE(forward_request(length, kClient).find("\r\nContent-Length: 7\r\n"), std::string::npos);
}

TEST(ForwardRequest, AppendsToAnExistingXForwardedFor) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
      "X-Forwarded-Proto: https\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET / HTTP/1.1\r\n"
            "Host: a\r\n"
            "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, MergesSeveralXForwardedForAndForwardedFields) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n"
      "x-forwarded-for: 10.0.0.2\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET / HTTP/1.1\r\n"
            "Host: a\r\n"
            "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=10.0.0.1, for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, EarlierHopsNamedInConnectionAreNotMerged) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For, forwarded\r\n"
      "X-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET / HTTP/1.1\r\n"
            "Host: a\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, QuotesIpv6AndHostWithPortInForwarded) {
  const ForwardInfo v6{.client_ip = "2001:db8::1", .proto = "https", .listener_host = ""};
  EXPECT_EQ(forward_request("GET / HTTP/1.1\r\nHost: a.example:8443\r\n\r\n", v6),
            "GET / HTTP/1.1\r\n"
            "Host: a.example:8443\r\n"
            "X-Forwarded-For: 2001:db8::1\r\n"
            "X-Forwarded-Proto: https\r\n"
            "Forwarded: for=\"[2001:db8::1]\";proto=https;host=\"a.example:8443\"\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, UpgradeKeepsUpgradeHeader) {
  const std::string in =
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET /ws HTTP/1.1\r\n"
            "Host: a\r\n"
            "Sec-WebSocket-Key: k\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=a\r\n"
            "Connection: upgrade\r\n"
            "Upgrade: websocket\r\n"
            "\r\n");
}

TEST(ForwardRequest, AbsoluteFormAuthorityReplacesHost) {
  const std::string in = "GET http://b.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n";
  EXPECT_EQ(forward_request(in, kClient),
            "GET http://b.example/x HTTP/1.1\r\n"
            "Host: b.example\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=b.example\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, Http10WithoutHostGetsListenerHostAndStaysHttp10) {
  EXPECT_EQ(forward_request("GET / HTTP/1.0\r\nUser-Agent: old\r\n\r\n", kClient),
            "GET / HTTP/1.0\r\n"
            "User-Agent: old\r\n"
            "Host: lb.local\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Forwarded: for=192.0.2.7;proto=http;host=lb.local\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardRequest, ReturnsZeroWhenTheBufferIsTooSmall) {
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead head;
  ParseError error;
  ASSERT_EQ(parse_request_head(in, {}, head, error), ParseResult::kComplete);
  std::array<char, 1024> buffer;
  const std::size_t needed = write_forwarded_request_head(head, kClient, buffer);
  ASSERT_GT(needed, 0u);
  for (std::size_t size = 0; size < needed; ++size) {
    EXPECT_EQ(write_forwarded_request_head(head, kClient, std::span(buffer.data(), size)), 0u)
        << size;
  }
  EXPECT_EQ(write_forwarded_request_head(head, kClient, std::span(buffer.data(), needed)), needed);
}

TEST(ForwardResponse, DropsHopByHopAndSetsKeepAlive) {
  const std::string in =
      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: "
      "timeout=5\r\nX-Hop: 1\r\nUpgrade: h2c\r\nServer: s\r\n\r\n";
  EXPECT_EQ(forward_response(in, false),
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 2\r\n"
            "Server: s\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardResponse, CloseKeepsChunkedFraming) {
  const std::string in = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(forward_response(in, true),
            "HTTP/1.1 500 Oops\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(ForwardResponse, EmptyReasonGetsTheStandardPhrase) {
  EXPECT_EQ(forward_response("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false),
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Length: 0\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ForwardResponse, SwitchingProtocolsKeepsUpgrade) {
  const std::string in =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: x\r\n\r\n";
  EXPECT_EQ(forward_response(in, false),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Sec-WebSocket-Accept: x\r\n"
            "Connection: upgrade\r\n"
            "\r\n");
}

TEST(ForwardResponse, ReturnsZeroWhenTheBufferIsTooSmall) {
  ResponseHead head;
  ParseError error;
  ASSERT_EQ(parse_response_head("HTTP/1.1 204 No Content\r\n\r\n", "GET", head, error),
            ParseResult::kComplete);
  std::array<char, 16> buffer;
  EXPECT_EQ(write_forwarded_response_head(head, false, buffer), 0u);
}

TEST(SimpleResponse, ErrorWithClose) {
  std::array<char, 256> buffer;
  const std::size_t n = write_simple_response(400, "bad request\n", true, buffer);
  EXPECT_EQ(std::string(buffer.data(), n),
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 12\r\n"
            "Connection: close\r\n"
            "\r\n"
            "bad request\n");
}

TEST(SimpleResponse, KeepAlive) {
  std::array<char, 256> buffer;
  const std::size_t n = write_simple_response(503, "", false, buffer);
  EXPECT_EQ(std::string(buffer.data(), n),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 0\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(SimpleResponse, ReturnsZeroWhenTheBufferIsTooSmall) {
  std::array<char, 64> buffer;
  EXPECT_EQ(write_simple_response(431, "request header fields too large\n", true, buffer), 0u);
}

TEST(SimpleResponse, OutputParsesAsAResponse) {
  std::array<char, 256> buffer;
  const std::size_t n = write_simple_response(414, "too long", true, buffer);
  ResponseHead head;
  ParseError error;
  const std::string_view out(buffer.data(), n);
  ASSERT_EQ(parse_response_head(out, "GET", head, error), ParseResult::kComplete);
  EXPECT_EQ(head.status, 414);
  EXPECT_EQ(head.reason, "URI Too Long");
  EXPECT_EQ(out.substr(head.head_size), "too long");
  EXPECT_FALSE(head.keep_alive);
}

}  // namespace
}  // namespace fulcrum::http
