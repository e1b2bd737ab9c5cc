// http checks on a kept connection (reuse_connection): one connection carries many checks, a
// connection the server gave up on is replaced within the same check, and nothing is kept that
// the response does not allow. Real loopback servers count the connections they accept.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <vector>

#include "health/probes.h"
#include "loopback.h"

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
using testing::AfterReply;
using testing::LoopbackServers;
using testing::ReadFirst;

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

asio::ip::tcp::endpoint local(uint16_t port) { return {asio::ip::make_address("127.0.0.1"), port}; }

config::HealthCheckConfig http_config(bool reuse) {
  config::HealthCheckConfig c;
  c.type = config::HealthCheckType::kHttp;
  c.path = "/health";
  c.reuse_connection = reuse;
  return c;
}

/// `count` checks in a row against one server, as a server's check loop runs them: one
/// io_context, one KeptConnection (or none).
class Checker {
 public:
  Checker(uint16_t port, const config::HealthCheckConfig& config)
      : port_(port), check_(HttpCheck::make(config, "h")), reuse_(config.reuse_connection) {}

  std::vector<CheckResult> run(int count, milliseconds timeout = milliseconds(1000)) {
    auto loop = [&]() -> asio::awaitable<std::vector<CheckResult>> {
      std::vector<CheckResult> results;
      for (int i = 0; i < count; ++i) {
        results.push_back(
            co_await http_check(local(port_), check_, timeout, reuse_ ? &kept_ : nullptr));
      }
      co_return results;
    };
    auto results = asio::co_spawn(io_, loop(), asio::use_future);
    io_.restart();
    io_.run();
    return results.get();
  }
  const KeptConnection& kept() const { return kept_; }

 private:
  asio::io_context io_;  // Before kept_: the kept socket goes first.
  uint16_t port_;
  HttpCheck check_;
  bool reuse_;
  KeptConnection kept_;
};

void expect_all_ok(const std::vector<CheckResult>& results) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].ok) << "check " << i << ": " << results[i].reason;
  }
}

TEST(HttpCheckReuse, ManyChecksShareOneConnection) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(kOk), ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  expect_all_ok(checker.run(20));
  EXPECT_EQ(servers.replies(i), 20u);
  EXPECT_EQ(servers.connections(i), 1u);
  EXPECT_EQ(checker.kept().connections_opened, 1u);
  EXPECT_EQ(servers.last_request(i).find("Connection:"), std::string::npos)
      << servers.last_request(i);
}

TEST(HttpCheckReuse, OffMeansOneConnectionPerCheckAskingToClose) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(kOk), ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);
  servers.start();
  Checker checker(servers.port(i), http_config(false));
  expect_all_ok(checker.run(20));
  EXPECT_EQ(servers.replies(i), 20u);
  EXPECT_EQ(servers.connections(i), 20u);
  EXPECT_NE(servers.last_request(i).find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(HttpCheckReuse, ServerClosingAfterEachResponseNeverFailsACheck) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(kOk), ReadFirst::kHeadEnd);  // AfterReply::kClose
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  expect_all_ok(checker.run(15));
  EXPECT_EQ(servers.replies(i), 15u);
  EXPECT_EQ(servers.connections(i), 15u);
}

TEST(HttpCheckReuse, ConnectionDroppedOnTheNextRequestIsRetriedOnAFreshOne) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(kOk), ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kDropNextRequest);
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  // Every check after the first finds its kept connection alive, sends, and sees it closed
  // without an answer: retried at once on a new connection, which answers.
  expect_all_ok(checker.run(10));
  EXPECT_EQ(servers.replies(i), 10u);
  EXPECT_EQ(servers.connections(i), 10u);
}

TEST(HttpCheckReuse, FailureOnAFreshConnectionIsNotRetried) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(), ReadFirst::kHeadEnd);  // Closes without a reply.
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  const auto results = checker.run(3);
  for (const CheckResult& r : results) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "connection closed without a response");
  }
  EXPECT_EQ(servers.connections(i), 3u);
}

TEST(HttpCheckReuse, BadStatusOnAKeptConnectionFailsWithoutRetryAndKeepsIt) {
  LoopbackServers servers;
  const auto i =
      servers.add("HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nbad\n", ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  for (const CheckResult& r : checker.run(4)) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "status 500");
  }
  EXPECT_EQ(servers.replies(i), 4u);
  EXPECT_EQ(servers.connections(i), 1u);
}

TEST(HttpCheckReuse, ConnectionCloseInTheResponseIsHonoured) {
  LoopbackServers servers;
  const auto i = servers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                             ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);  // Would keep it; the check must not.
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  expect_all_ok(checker.run(5));
  EXPECT_EQ(servers.connections(i), 5u);
}

TEST(HttpCheckReuse, BodiesAreReadToTheEndSoTheConnectionStaysUsable) {
  LoopbackServers servers;
  const auto chunked = servers.add(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nstatus: "
      "\r\n3\r\nOK\n\r\n0\r\n\r\n",
      ReadFirst::kHeadEnd);
  const std::string big(40000, 'x');
  const auto large = servers.add(
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big,
      ReadFirst::kHeadEnd);
  servers.set_after_reply(chunked, AfterReply::kKeepAlive);
  servers.set_after_reply(large, AfterReply::kKeepAlive);
  servers.start();
  config::HealthCheckConfig with_body = http_config(true);
  with_body.expect_body = "OK";
  Checker chunked_checker(servers.port(chunked), with_body);
  expect_all_ok(chunked_checker.run(5));
  Checker large_checker(servers.port(large), http_config(true));  // No expect_body: drained.
  expect_all_ok(large_checker.run(5));
  EXPECT_EQ(servers.connections(chunked), 1u);
  EXPECT_EQ(servers.connections(large), 1u);
  EXPECT_EQ(servers.replies(large), 5u);
}

TEST(HttpCheckReuse, BodiesTooLongToReadThroughCloseTheConnection) {
  LoopbackServers servers;
  const std::string huge(100 * 1024, 'x');
  const auto i = servers.add(
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(huge.size()) + "\r\n\r\n" + huge,
      ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  expect_all_ok(checker.run(3));
  EXPECT_EQ(servers.connections(i), 3u);
}

TEST(HttpCheckReuse, TimeoutOnAKeptConnectionFailsAndTheNextCheckReconnects) {
  LoopbackServers servers;
  const auto i = servers.add(std::string(kOk), ReadFirst::kHeadEnd);
  servers.set_after_reply(i, AfterReply::kKeepAlive);
  servers.start();
  Checker checker(servers.port(i), http_config(true));
  expect_all_ok(checker.run(2));
  servers.set_reply(i, std::nullopt);  // Holds the next request unanswered.
  const auto timed_out = checker.run(1, milliseconds(200));
  EXPECT_FALSE(timed_out[0].ok);
  EXPECT_EQ(timed_out[0].reason, "timeout after 200ms");
  EXPECT_EQ(servers.connections(i), 1u) << "a timeout is not retried";
  servers.set_reply(i, std::string(kOk));
  expect_all_ok(checker.run(3));
  EXPECT_EQ(servers.connections(i), 2u);
}

}  // namespace
}  // namespace fulcrum::health
