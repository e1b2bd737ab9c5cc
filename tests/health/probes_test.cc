// One probe of each kind against real loopback servers: what counts as success, and the reason
// given for each kind of failure.

#include "health/probes.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include "loopback.h"

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
using testing::BlackHole;
using testing::LoopbackServers;
using testing::ReadFirst;

asio::ip::tcp::endpoint local(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

/// Runs one probe to completion on a fresh io_context.
template <typename T>
T run(asio::awaitable<T> probe) {
  asio::io_context io;
  auto result = asio::co_spawn(io, std::move(probe), asio::use_future);
  io.run();
  return result.get();
}

uint16_t closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, local(0));
  return acceptor.local_endpoint().port();  // Closed when `acceptor` goes.
}

config::HealthCheckConfig http_config() {
  config::HealthCheckConfig c;
  c.type = config::HealthCheckType::kHttp;
  c.path = "/health";
  return c;
}

TEST(TcpCheck, SucceedsAgainstAListener) {
  LoopbackServers servers;
  const auto i = servers.add(std::string());
  servers.start();
  const CheckResult r = run(tcp_check(local(servers.port(i)), milliseconds(1000)));
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(TcpCheck, RefusedPortFailsWithTheReason) {
  const CheckResult r = run(tcp_check(local(closed_port()), milliseconds(1000)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "connection refused");
}

TEST(TcpCheck, BlackHoleTimesOut) {
  BlackHole hole;
  const auto started = std::chrono::steady_clock::now();
  const CheckResult r = run(tcp_check(local(hole.port()), milliseconds(300)));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "timeout after 300ms");
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(2000));
}

TEST(HttpCheck, SendsTheConfiguredRequest) {
  LoopbackServers servers;
  const auto i = servers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ReadFirst::kHeadEnd);
  servers.start();
  config::HealthCheckConfig c = http_config();
  c.method = "HEAD";
  c.host = "app.internal";
  c.reuse_connection = false;  // Kept connections (no "Connection: close"): http_reuse_test.cc.
  const CheckResult r =
      run(http_check(local(servers.port(i)), HttpCheck::make(c, "ignored:1"), milliseconds(1000)));
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(servers.last_request(i),
            "HEAD /health HTTP/1.1\r\nHost: app.internal\r\nUser-Agent: fulcrum-health-check\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
}

TEST(HttpCheck, HostDefaultsToTheServerAddress) {
  LoopbackServers servers;
  const auto i = servers.add("HTTP/1.1 204 No Content\r\n\r\n", ReadFirst::kHeadEnd);
  servers.start();
  const CheckResult r =
      run(http_check(local(servers.port(i)), HttpCheck::make(http_config(), servers.host_port(i)),
                     milliseconds(1000)));
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_NE(servers.last_request(i).find("\r\nHost: " + servers.host_port(i) + "\r\n"),
            std::string::npos);
}

TEST(HttpCheck, StatusOutsideTheExpectedRangesFails) {
  LoopbackServers servers;
  const auto i = servers.add("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", ReadFirst::kHeadEnd);
  servers.start();
  config::HealthCheckConfig c = http_config();
  CheckResult r =
      run(http_check(local(servers.port(i)), HttpCheck::make(c, "h"), milliseconds(1000)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "status 500");
  c.expect_status = {{200, 200}, {500, 503}};
  r = run(http_check(local(servers.port(i)), HttpCheck::make(c, "h"), milliseconds(1000)));
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(HttpCheck, ExpectedBodyIsFoundInLengthChunkedAndCloseDelimitedBodies) {
  LoopbackServers servers;
  const auto length =
      servers.add("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nstatus: OK\n", ReadFirst::kHeadEnd);
  const auto chunked = servers.add(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nstatus: "
      "\r\n3\r\nOK\n\r\n0\r\n\r\n",
      ReadFirst::kHeadEnd);
  const auto until_close = servers.add("HTTP/1.1 200 OK\r\n\r\nall OK here", ReadFirst::kHeadEnd);
  const auto missing =
      servers.add("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nBUSY", ReadFirst::kHeadEnd);
  servers.start();
  config::HealthCheckConfig c = http_config();
  c.expect_body = "OK";
  const HttpCheck check = HttpCheck::make(c, "h");
  for (const auto i : {length, chunked, until_close}) {
    const CheckResult r = run(http_check(local(servers.port(i)), check, milliseconds(1000)));
    EXPECT_TRUE(r.ok) << "listener " << i << ": " << r.reason;
  }
  const CheckResult r = run(http_check(local(servers.port(missing)), check, milliseconds(1000)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "status 200 but the body lacks \"OK\"");
}

TEST(HttpCheck, MalformedSilentAndClosingServersFailWithTheirReasons) {
  LoopbackServers servers;
  const auto garbage = servers.add("SSH-2.0-OpenSSH\r\n\r\n", ReadFirst::kHeadEnd);
  const auto silent = servers.add(std::nullopt, ReadFirst::kHeadEnd);
  const auto closes = servers.add(std::string(), ReadFirst::kHeadEnd);
  servers.start();
  const HttpCheck check = HttpCheck::make(http_config(), "h");
  CheckResult r = run(http_check(local(servers.port(garbage)), check, milliseconds(1000)));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.reason.starts_with("invalid response: ")) << r.reason;
  r = run(http_check(local(servers.port(silent)), check, milliseconds(200)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "timeout after 200ms");
  r = run(http_check(local(servers.port(closes)), check, milliseconds(1000)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "connection closed without a response");
  r = run(http_check(local(closed_port()), check, milliseconds(1000)));
  EXPECT_EQ(r.reason, "connection refused");
}

TEST(QueryAgent, SendsTheProbeStringAndReadsOneLine) {
  LoopbackServers servers;
  const auto i = servers.add("75%  drain\nignored second line\n", ReadFirst::kLine);
  servers.start();
  const AgentReply reply = run(query_agent(local(servers.port(i)), "load\n", milliseconds(1000)));
  EXPECT_TRUE(reply.answered) << reply.failure;
  EXPECT_TRUE(reply.text.starts_with("75%  drain\n")) << reply.text;
  EXPECT_EQ(servers.last_request(i), "load\n");
}

TEST(QueryAgent, AnswerWithoutLineEndEndsAtClose) {
  LoopbackServers servers;
  const auto i = servers.add("-1");
  servers.start();
  const AgentReply reply = run(query_agent(local(servers.port(i)), "", milliseconds(1000)));
  EXPECT_TRUE(reply.answered) << reply.failure;
  EXPECT_EQ(reply.text, "-1");
}

TEST(QueryAgent, SilenceRefusalAndEmptyCloseAreNotAnswers) {
  LoopbackServers servers;
  const auto silent = servers.add(std::nullopt);
  const auto empty = servers.add(std::string());
  servers.start();
  AgentReply reply = run(query_agent(local(servers.port(silent)), "", milliseconds(200)));
  EXPECT_FALSE(reply.answered);
  EXPECT_EQ(reply.failure, "timeout after 200ms");
  reply = run(query_agent(local(servers.port(empty)), "", milliseconds(1000)));
  EXPECT_FALSE(reply.answered);
  EXPECT_EQ(reply.failure, "closed without answering");
  reply = run(query_agent(local(closed_port()), "", milliseconds(1000)));
  EXPECT_FALSE(reply.answered);
  EXPECT_EQ(reply.failure, "connection refused");
}

TEST(QueryAgent, EndlessAnswerIsCutAtTheLimit) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(5000, '7'));
  servers.start();
  const AgentReply reply = run(query_agent(local(servers.port(i)), "", milliseconds(1000)));
  EXPECT_TRUE(reply.answered);
  EXPECT_EQ(reply.text.size(), AgentReply::kMaxAnswerBytes);
}

TEST(FormatDuration, WholeSecondsOrMilliseconds) {
  EXPECT_EQ(format_duration(std::chrono::seconds(2)), "2s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
}

}  // namespace
}  // namespace fulcrum::health
