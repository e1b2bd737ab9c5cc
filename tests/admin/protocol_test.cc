// The admin listener's HTTP handling: keep-alive and pipelining, HEAD, framing limits, bad
// requests, unknown paths and methods, and the status page.
#include "admin/http_types.h"
#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

class AdminProtocolTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    start("{ listen: 127.0.0.1:0 }");
  }
};

TEST_F(AdminProtocolTest, AnswersPipelinedRequestsInOrderOnOneConnection) {
  const std::string text =
      exchange_raw(port_,
                   "GET /api/v1/clusters/web HTTP/1.1\r\nHost: a\r\n\r\n"
                   "PATCH /api/v1/clusters/web/servers/127.0.0.1:9001 HTTP/1.1\r\nHost: a\r\n"
                   "Content-Length: 13\r\n\r\n{\"weight\": 9}"
                   "GET /api/v1/clusters/api HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  std::size_t used = 0;
  const Reply first = parse_reply(text, &used);
  EXPECT_EQ(first.header("connection"), "keep-alive");
  EXPECT_EQ(first.json()["name"], "web");
  std::size_t more = 0;
  const Reply second = parse_reply(std::string_view(text).substr(used), &more);
  EXPECT_EQ(second.json()["weight"]["configured"], 9);
  const Reply third = parse_reply(std::string_view(text).substr(used + more));
  EXPECT_EQ(third.json()["name"], "api");
  EXPECT_EQ(third.header("connection"), "close");
}

TEST_F(AdminProtocolTest, HeadAnswersWithoutABody) {
  const std::string text =
      exchange_raw(port_, "HEAD /api/v1/clusters HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const Reply reply = parse_reply(text);
  EXPECT_EQ(reply.status, 200);
  EXPECT_GT(std::stoul(reply.header("content-length")), 0u);
  EXPECT_TRUE(text.ends_with("\r\n\r\n")) << "no body bytes after the head";
}

TEST_F(AdminProtocolTest, RefusesChunkedOversizedAndMalformedRequests) {
  EXPECT_EQ(parse_reply(exchange_raw(port_,
                                     "POST /api/v1/clusters/web/servers HTTP/1.1\r\nHost: a\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
                .status,
            411);
  EXPECT_EQ(parse_reply(exchange_raw(port_,
                                     "POST /api/v1/clusters/web/servers HTTP/1.1\r\nHost: a\r\n"
                                     "Content-Length: 70000\r\n\r\n"))
                .status,
            413);
  EXPECT_EQ(parse_reply(exchange_raw(port_, "GET /x HTTP/1.1\r\nHost a\r\n\r\n")).status, 400);
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/%zz").status, 400);
}

TEST_F(AdminProtocolTest, AnswersUnknownPathsAndMethodsPrecisely) {
  EXPECT_EQ(request(port_, "GET", "/api/v2/clusters").status, 404);
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/web/nodes").status, 404);
  const Reply reply = request(port_, "POST", "/api/v1/clusters", "{}");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.header("allow"), "GET, HEAD");
  EXPECT_EQ(request(port_, "PUT", "/api/v1/clusters/web/servers/127.0.0.1:9001", "{}").status, 405);
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/web/servers").status, 405);
}

TEST_F(AdminProtocolTest, ServesTheSelfContainedStatusPage) {
  const Reply reply = request(port_, "GET", "/");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(reply.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(reply.body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(reply.body.find("/api/v1/clusters"), std::string::npos);
  // Self-contained: nothing is loaded from elsewhere.
  EXPECT_EQ(reply.body.find("src=\"http"), std::string::npos);
  EXPECT_EQ(reply.body.find("href=\"http"), std::string::npos);
}

TEST_F(AdminProtocolTest, ABusyPortFailsStartNamingTheAdminListener) {
  config::AdminConfig taken = runtime_->config().admin;
  taken.port = port_;
  AdminServer second(*runtime_, taken, std::chrono::seconds(1));
  try {
    second.start();
    ADD_FAILURE() << "bound a port already in use";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("admin listener 127.0.0.1:" + std::to_string(port_), 0),
              0u)
        << e.what();
  }
}

TEST(HttpTypes, DecodesPercentEscapesAndQueryParameters) {
  EXPECT_EQ(percent_decode("%5B%3A%3A1%5D:80"), "[::1]:80");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%00"));
  const Request request{.query = "listener=web&path=%2Fa%20b&flag&host="};
  EXPECT_EQ(request.query_param("listener"), "web");
  EXPECT_EQ(request.query_param("path"), "/a b");
  EXPECT_EQ(request.query_param("flag"), "");
  EXPECT_EQ(request.query_param("host"), "");
  EXPECT_FALSE(request.query_param("missing"));
}

}  // namespace
}  // namespace fulcrum::admin::testing
