// GET /api/v1/explain: the route taken, and per server eligibility with its reason and times.
#include "core/passive.h"
#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

const nlohmann::json& server_in(const nlohmann::json& body, std::string_view address) {
  for (const auto& server : body["servers"]) {
    if (server["address"] == address) return server;
  }
  throw std::runtime_error("server not listed: " + std::string(address));
}

TEST_F(AdminTest, ExplainNamesTheRouteClusterAndWhyEachServerIsOrIsNotEligible) {
  start("{ listen: 127.0.0.1:0 }");
  const core::SteadyClock clock;
  state("web", "127.0.0.1:9001")->admin_state = core::AdminState::kDisabled;
  const auto offline = state("web", "127.0.0.1:9002");
  core::record_connect_failure(
      *offline, {.attempts = 1, .offline_timeout = std::chrono::seconds(10)}, clock.now());

  Reply reply = request(port_, "GET", "/api/v1/explain?listener=web&host=example.com&path=/shop");
  ASSERT_EQ(reply.status, 200) << reply.body;
  nlohmann::json body = reply.json();
  EXPECT_EQ(body["cluster"], "web");
  EXPECT_EQ(body["route"]["index"], 1);
  EXPECT_EQ(body["route"]["path_prefix"], "");
  const auto& disabled = server_in(body, "127.0.0.1:9001");
  EXPECT_EQ(disabled["eligible"], false);
  EXPECT_EQ(disabled["reason"], "disabled");
  const auto& passive = server_in(body, "127.0.0.1:9002");
  EXPECT_EQ(passive["reason"], "offline (passive tracking)");
  ASSERT_TRUE(passive.contains("until"));
  EXPECT_NE(passive["detail"].get<std::string>().find(
                "1 consecutive failures counted by passive tracking"),
            std::string::npos);
  const auto& backup = server_in(body, "127.0.0.1:9003");
  EXPECT_EQ(backup["eligible"], true);
  EXPECT_EQ(backup["tier"], "backup");
  EXPECT_EQ(body["result"], "no primary server eligible: 1 backup server(s) serve");

  // Draining and ejected, each with the reason the core gives.
  state("web", "127.0.0.1:9001")->admin_state = core::AdminState::kDraining;
  offline->consecutive_failures = 0;
  offline->ejected_until_ns = (clock.now() + std::chrono::seconds(30)).count();
  body = request(port_, "GET", "/api/v1/explain?listener=web&path=/").json();
  EXPECT_EQ(server_in(body, "127.0.0.1:9001")["reason"], "draining");
  EXPECT_EQ(server_in(body, "127.0.0.1:9002")["reason"], "ejected (outlier detection)");
  EXPECT_TRUE(server_in(body, "127.0.0.1:9002").contains("until"));
}

TEST_F(AdminTest, ExplainShowsAServerAtItsConnectionLimit) {
  start("{ listen: 127.0.0.1:0 }");
  state("api", "127.0.0.1:9101")->active_connections = 1;
  const nlohmann::json body =
      request(port_, "GET", "/api/v1/explain?listener=web&path=/api/orders").json();
  EXPECT_EQ(body["cluster"], "api");
  EXPECT_EQ(body["route"]["index"], 0);
  EXPECT_EQ(body["route"]["path_prefix"], "/api");
  const auto& server = server_in(body, "127.0.0.1:9101");
  EXPECT_EQ(server["eligible"], false);
  EXPECT_EQ(server["reason"], "at max connections (1 of 1)");
  EXPECT_EQ(body["result"], "no server eligible: the proxy answers 503");
}

TEST_F(AdminTest, ExplainSinceComesFromTheTimeline) {
  start("{ listen: 127.0.0.1:0 }");
  state("web", "127.0.0.1:9001")->admin_state = core::AdminState::kDisabled;
  // The admin thread samples every 500 ms; the change is in the timeline within two samples.
  EXPECT_TRUE(eventually([&] {
    const auto body = request(port_, "GET", "/api/v1/explain?listener=web").json();
    return server_in(body, "127.0.0.1:9001").contains("since");
  }));
  const auto server = request(port_, "GET", "/api/v1/clusters/web/servers/127.0.0.1:9001").json();
  ASSERT_EQ(server["timeline"].size(), 2u);
  EXPECT_EQ(server["timeline"][1]["state"], "disabled");
  EXPECT_EQ(server["timeline"][1]["eligible"], false);
}

TEST_F(AdminTest, ExplainRejectsAMissingOrUnknownListener) {
  start("{ listen: 127.0.0.1:0 }");
  EXPECT_EQ(request(port_, "GET", "/api/v1/explain").status, 400);
  const Reply reply = request(port_, "GET", "/api/v1/explain?listener=nope");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.json()["error"], "no listener named 'nope' (listeners: web)");
}

}  // namespace
}  // namespace fulcrum::admin::testing
