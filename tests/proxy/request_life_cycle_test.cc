// The request life cycle's decisions, without a session: which attempt comes next, what passive
// tracking and the server statistics are told, and the retry rule (connect failures always go
// on; a response timeout or a close before any response byte only when retry_on lists it and the
// request may be replayed; a pooled connection the server had closed is tried once more, fresh,
// on the same server, with nothing reported). Pool connections are real loopback sockets.
#include "proxy/request_life_cycle.h"

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "config/config.h"
#include "generation/generation.h"
#include "proxy/worker.h"

namespace fulcrum::proxy {
namespace {

using asio::ip::tcp;

/// A generation with one cluster "app" of the given servers and settings, and a worker over it
/// (never started: the life cycle needs only its clock, RNG, pool and index).
class LifeCycleTest : public ::testing::Test {
 protected:
  void load(const std::string& servers, const std::string& settings) {
    const std::string yaml =
        "listeners:\n  - { name: web, listen: 127.0.0.1:0, cluster: app }\n"
        "clusters:\n  - { name: app, servers: [" +
        servers + "], passive: { attempts: 5, offline_timeout: 10s, count: [connect_failure, " +
        "reset_before_response, response_timeout] }" + settings + " }\n";
    generation_ = std::make_shared<generation::Generation>(config::load_config_string(yaml, "t"));
    worker_ = std::make_unique<Worker>(generation_, 0);
  }
  generation::ClusterRuntime& cluster() { return generation_->clusters()[0]; }
  RequestLifeCycle& start(bool replayable, Traffic traffic = Traffic::kHttpRequest) {
    return life_.emplace(cluster(), *worker_, std::nullopt, replayable, traffic);
  }
  static uint32_t failures(const Attempt& attempt) {
    return attempt.pick.state().consecutive_failures.load();
  }
  static uint64_t retries(const Attempt& attempt) {
    return attempt.pick.state().stats.retries.load();
  }

  std::shared_ptr<generation::Generation> generation_;
  std::unique_ptr<Worker> worker_;
  std::optional<RequestLifeCycle> life_;
};

constexpr const char* kTwoServers = "{ address: 127.0.0.1:1 }, { address: 127.0.0.1:2 }";

TEST_F(LifeCycleTest, ConnectFailureIsReportedAndTheNextServerFollows) {
  load(kTwoServers, "");
  RequestLifeCycle& life = start(false);
  ASSERT_TRUE(life.next_attempt());
  const core::Member* first = life.attempt().pick.member;
  const net::ConnectTarget target = life.connect_target();
  EXPECT_EQ(target.server, first->spec.address);
  EXPECT_EQ(target.tls, nullptr);
  life.connect_failed(core::FailureCause::kRefused);
  EXPECT_EQ(first->state->consecutive_failures.load(), 1u);
  EXPECT_EQ(first->state->active_connections.load(), 0) << "its load is released";

  ASSERT_TRUE(life.next_attempt()) << "a connect failure always goes on";
  EXPECT_NE(life.attempt().pick.member, first);
  EXPECT_EQ(life.retries(), 1u);
  EXPECT_EQ(retries(life.attempt()), 1u) << "counted on the server retried on";
  EXPECT_EQ(life.attempt().pick.state().active_connections.load(), 1);
  EXPECT_EQ(life.upstream(), life.attempt().pick.member->spec.address);
  life.connect_failed(core::FailureCause::kTimeout);
  EXPECT_FALSE(life.next_attempt()) << "both tried";
  EXPECT_TRUE(life.attempted());
  EXPECT_FALSE(life.limited());
  EXPECT_EQ(life.attempts(), 2u);
}

TEST_F(LifeCycleTest, ResponseTimeoutIsRetriedOnlyWhenListedAndReplayable) {
  load(kTwoServers, ", retry_on: [connect_failure, response_timeout]");
  for (const bool replayable : {true, false}) {
    RequestLifeCycle& life = start(replayable);
    ASSERT_TRUE(life.next_attempt());
    const uint32_t before = failures(life.attempt());
    EXPECT_EQ(life.ended(AttemptEnd::kResponseTimeout), replayable ? Next::kRetry : Next::kStop);
    EXPECT_EQ(failures(life.attempt()), before + 1) << "reported either way";
    EXPECT_EQ(life.attempt().pick.state().active_connections.load(), 0);
  }
  RequestLifeCycle& life = start(true);
  ASSERT_TRUE(life.next_attempt());
  EXPECT_EQ(life.ended(AttemptEnd::kClosedBeforeResponse), Next::kUnanswered)
      << "retry_on does not list reset_before_response";
}

TEST_F(LifeCycleTest, CloseBeforeResponseIsRetriedOnlyWhenListedAndReplayable) {
  load(kTwoServers, ", retry_on: [connect_failure, reset_before_response]");
  for (const bool replayable : {true, false}) {
    RequestLifeCycle& life = start(replayable);
    ASSERT_TRUE(life.next_attempt());
    const uint32_t before = failures(life.attempt());
    EXPECT_EQ(life.ended(AttemptEnd::kClosedBeforeResponse),
              replayable ? Next::kRetry : Next::kUnanswered);
    EXPECT_EQ(failures(life.attempt()), before + 1);
  }
  RequestLifeCycle& answered = start(true);
  ASSERT_TRUE(answered.next_attempt());
  EXPECT_EQ(answered.ended(AttemptEnd::kOver), Next::kStop);
  RequestLifeCycle& life = start(true);
  ASSERT_TRUE(life.next_attempt());
  EXPECT_EQ(life.ended(AttemptEnd::kResponseTimeout), Next::kStop) << "not listed";
}

TEST_F(LifeCycleTest, PooledConnectionClosedBeforeResponseIsTriedAgainFreshWithoutReport) {
  load("{ address: 127.0.0.1:1 }", "");
  asio::io_context& io = worker_->io();
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  RequestLifeCycle& first = start(true);
  ASSERT_TRUE(first.next_attempt());
  EXPECT_FALSE(first.take_pooled()) << "nothing pooled yet";
  tls::Stream stream(std::move(client));
  first.release(stream, true);
  EXPECT_EQ(first.ended(AttemptEnd::kOver), Next::kStop);

  RequestLifeCycle& life = start(true);
  ASSERT_TRUE(life.next_attempt());
  std::optional<tls::Stream> pooled = life.take_pooled();
  ASSERT_TRUE(pooled) << "the connection given back";
  EXPECT_TRUE(life.attempt().pooled);
  const core::Member* member = life.attempt().pick.member;
  EXPECT_EQ(life.ended(AttemptEnd::kClosedBeforeResponse), Next::kRetry)
      << "whatever retry_on says";
  EXPECT_EQ(failures(life.attempt()), 0u) << "not the server's fault";
  ASSERT_TRUE(life.next_attempt());
  EXPECT_EQ(life.attempt().pick.member, member) << "the same server";
  EXPECT_TRUE(life.attempt().fresh);
  EXPECT_FALSE(life.take_pooled()) << "a fresh connection only";
  EXPECT_EQ(life.retries(), 0u) << "the same attempt";
  EXPECT_EQ(life.attempt().pick.state().active_connections.load(), 1);
  EXPECT_EQ(life.ended(AttemptEnd::kClosedBeforeResponse), Next::kUnanswered)
      << "a fresh connection closed is the server's doing";
  EXPECT_EQ(failures(life.attempt()), 1u);
}

TEST_F(LifeCycleTest, ServersAtTheirConnectionLimitAreLeftOut) {
  load("{ address: 127.0.0.1:1 }", ", limits: { max_connections_per_server: 1 }");
  RequestLifeCycle busy(cluster(), *worker_, std::nullopt, true);
  ASSERT_TRUE(busy.next_attempt());
  RequestLifeCycle& life = start(true);
  EXPECT_FALSE(life.next_attempt());
  EXPECT_TRUE(life.limited());
  EXPECT_FALSE(life.attempted());
  EXPECT_EQ(life.upstream(), "127.0.0.1:1") << "the last server picked, for the answer";
  EXPECT_EQ(failures(busy.attempt()), 0u) << "a limit is no failure";
}

TEST_F(LifeCycleTest, TcpConnectionsCountLoadOnceConnected) {
  load(kTwoServers, ", limits: { max_connections_per_server: 1 }");
  RequestLifeCycle& life = start(false, Traffic::kTcpConnection);
  ASSERT_TRUE(life.next_attempt());
  EXPECT_EQ(life.attempt().pick.state().active_connections.load(), 0);
  life.connect_failed(core::FailureCause::kReset);
  ASSERT_TRUE(life.next_attempt());
  EXPECT_EQ(retries(life.attempt()), 0u) << "TCP connections do not count retries";
  life.connected();
  EXPECT_EQ(life.attempt().pick.state().active_connections.load(), 1);
  life_.reset();
}

}  // namespace
}  // namespace fulcrum::proxy
