// The JSON API over real sockets: listings, and adding, changing and removing servers at run
// time with the change visible in the clusters' published snapshots.
#include <thread>

#include "core/eligibility.h"
#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

constexpr const char* kLoopback = "{ listen: 127.0.0.1:0 }";

uint32_t snapshot_weight(core::Cluster& cluster, std::string_view address) {
  for (const auto& spec : cluster.snapshot()->servers) {
    if (spec.address == address) return spec.weight;
  }
  return UINT32_MAX;
}

TEST_F(AdminTest, ListsClustersWithTheirServersAndState) {
  start(kLoopback);
  const Reply reply = request(port_, "GET", "/api/v1/clusters");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/json");
  const auto body = reply.json();
  ASSERT_EQ(body["clusters"].size(), 2u);
  const auto& web = body["clusters"][0];
  EXPECT_EQ(web["name"], "web");
  EXPECT_EQ(web["policy"], "round_robin");
  ASSERT_EQ(web["servers"].size(), 3u);
  const auto& first = web["servers"][0];
  EXPECT_EQ(first["address"], "127.0.0.1:9001");
  EXPECT_EQ(first["resolved"], "127.0.0.1:9001");
  EXPECT_EQ(first["weight"]["configured"], 2);
  EXPECT_EQ(first["admin_state"], "enabled");
  EXPECT_EQ(first["eligible"], true);
  EXPECT_EQ(first["reason"], "eligible");
  EXPECT_EQ(first["health"]["checks"], "up");
  EXPECT_EQ(first["health"]["passive"]["offline"], false);
  EXPECT_TRUE(first["health"]["agent"]["load"].is_null());
  ASSERT_EQ(first["timeline"].size(), 1u);  // Sampled at start.
  EXPECT_EQ(first["timeline"][0]["state"], "eligible");
  EXPECT_EQ(web["servers"][2]["backup"], true);
  EXPECT_EQ(body["clusters"][1]["max_connections_per_server"], 1);
}

TEST_F(AdminTest, ShowsOneClusterAndOneServerAndNamesWhatIsMissing) {
  start(kLoopback);
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/api").json()["servers"].size(), 1u);
  // Percent-encoded path segments are decoded before lookup.
  const Reply server = request(port_, "GET", "/api/v1/clusters/web/servers/%31%32%37.0.0.1:9002");
  ASSERT_EQ(server.status, 200) << server.body;
  EXPECT_EQ(server.json()["address"], "127.0.0.1:9002");
  const Reply no_cluster = request(port_, "GET", "/api/v1/clusters/nope");
  EXPECT_EQ(no_cluster.status, 404);
  EXPECT_EQ(no_cluster.json()["error"], "no cluster named 'nope'");
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/web/servers/127.0.0.1:1").status, 404);
}

TEST_F(AdminTest, AddsAServerThatEveryNewSnapshotCarries) {
  start(kLoopback);
  const uint64_t version = cluster("web").version();
  const Reply added = request(port_, "POST", "/api/v1/clusters/web/servers",
                              R"({"address": "127.0.0.1:9004", "weight": 3, "backup": false})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json()["address"], "127.0.0.1:9004");
  EXPECT_EQ(added.json()["weight"]["configured"], 3);
  EXPECT_GT(cluster("web").version(), version);
  EXPECT_EQ(snapshot_weight(cluster("web"), "127.0.0.1:9004"), 3u);
  const auto spec = cluster("web").snapshot()->servers.back();
  EXPECT_TRUE(spec.resolved.resolved()) << "resolved before it was published";
  EXPECT_TRUE(logged("server 127.0.0.1:9004 added to cluster 'web' (weight 3) by 127.0.0.1:"));
  EXPECT_TRUE(logged("(loopback)"));

  const Reply again =
      request(port_, "POST", "/api/v1/clusters/web/servers", R"({"address": "127.0.0.1:9004"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.json()["error"], "cluster 'web' already has server 127.0.0.1:9004");
}

TEST_F(AdminTest, RejectsBadAddBodiesWithAClearMessageAndChangesNothing) {
  start(kLoopback);
  const uint64_t version = cluster("web").version();
  struct Case {
    const char* body;
    const char* error_start;
  } cases[] = {
      {"{", "the body is not valid JSON: [json.exception.parse_error.101] parse error at line 1"},
      {"[1]", "the body must be a JSON object"},
      {"{}", "'address' (\"host:port\") is required"},
      {R"({"address": "127.0.0.1"})", "invalid server address '127.0.0.1': missing port"},
      {R"({"address": "127.0.0.1:9005", "weight": -1})", "'weight' must be a whole number"},
      {R"({"address": "127.0.0.1:9005", "weight": 10001})", "'weight' must be a whole number"},
      {R"({"address": "127.0.0.1:9005", "backup": "yes"})", "'backup' must be true or false"},
      {R"({"address": "127.0.0.1:9005", "wieght": 2})",
       "unknown key 'wieght' (expected address, weight, backup)"},
  };
  for (const Case& c : cases) {
    const Reply reply = request(port_, "POST", "/api/v1/clusters/web/servers", c.body);
    EXPECT_EQ(reply.status, 400) << c.body;
    EXPECT_EQ(reply.json()["error"].get<std::string>().rfind(c.error_start, 0), 0u)
        << c.body << " -> " << reply.body;
  }
  EXPECT_EQ(request(port_, "POST", "/api/v1/clusters/nope/servers", "{}").status, 404);
  EXPECT_EQ(cluster("web").version(), version);
}

TEST_F(AdminTest, ReweightsAndChangesAdminState) {
  start(kLoopback);
  Reply reply =
      request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9002", R"({"weight": 5})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()["weight"]["configured"], 5);
  EXPECT_EQ(snapshot_weight(cluster("web"), "127.0.0.1:9002"), 5u);
  EXPECT_TRUE(logged("server 127.0.0.1:9002 of cluster 'web' weight 1 -> 5 by 127.0.0.1:"));

  reply = request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9002",
                  R"({"state": "drain"})");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json()["admin_state"], "draining");
  EXPECT_EQ(reply.json()["eligible"], false);
  EXPECT_EQ(reply.json()["reason"], "draining");
  const auto server = state("web", "127.0.0.1:9002");
  EXPECT_EQ(server->admin_state.load(), core::AdminState::kDraining);
  EXPECT_TRUE(logged("server 127.0.0.1:9002 of cluster 'web' enabled -> draining by"));

  reply = request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9002",
                  R"({"state": "disable"})");
  EXPECT_EQ(reply.json()["reason"], "disabled");
  EXPECT_EQ(server->warming_since_ns.load(), 0);
  reply = request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9002",
                  R"({"state": "enable"})");
  EXPECT_EQ(reply.json()["admin_state"], "enabled");
  EXPECT_EQ(server->admin_state.load(), core::AdminState::kEnabled);
  EXPECT_NE(server->warming_since_ns.load(), 0) << "slow start begins on enable";
  EXPECT_LT(reply.json()["weight"]["effective"].get<double>(), 5.0);
}

TEST_F(AdminTest, APatchWithAnyBadPartChangesNothing) {
  start(kLoopback);
  const std::string target = "/api/v1/clusters/web/servers/127.0.0.1:9001";
  EXPECT_EQ(request(port_, "PATCH", target, "{}").status, 400);
  const Reply reply = request(port_, "PATCH", target, R"({"weight": 7, "state": "off"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.json()["error"], "'state' must be \"enable\", \"drain\" or \"disable\"");
  EXPECT_EQ(snapshot_weight(cluster("web"), "127.0.0.1:9001"), 2u);
  EXPECT_EQ(request(port_, "PATCH", target, R"({"weight": 1.5})").status, 400);
  EXPECT_EQ(
      request(port_, "PATCH", "/api/v1/clusters/web/servers/10.0.0.1:1", R"({"weight": 1})").status,
      404);
}

TEST_F(AdminTest, DeletesAnIdleServerAtOnce) {
  start(kLoopback);
  const Reply reply = request(port_, "DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9002");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()["removed"], true);
  EXPECT_EQ(state("web", "127.0.0.1:9002"), nullptr);
  EXPECT_EQ(cluster("web").snapshot()->servers.size(), 2u);
  EXPECT_TRUE(logged("server 127.0.0.1:9002 removed from cluster 'web' after draining"));
}

TEST_F(AdminTest, DeleteDrainsABusyServerAndRemovesItOnceIdle) {
  start(kLoopback);
  const auto server = state("web", "127.0.0.1:9001");
  server->active_connections = 1;
  server->in_flight = 1;
  const Reply reply = request(port_, "DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9001");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.json()["state"], "draining");
  EXPECT_EQ(reply.json()["active_connections"], 1);
  EXPECT_TRUE(reply.json().contains("remove_by"));
  EXPECT_EQ(server->admin_state.load(), core::AdminState::kDraining);
  const Reply listed = request(port_, "GET", "/api/v1/clusters/web/servers/127.0.0.1:9001");
  EXPECT_EQ(listed.json()["removal_pending"], true);

  server->active_connections = 0;  // The connection in use finishes...
  EXPECT_NE(state("web", "127.0.0.1:9001"), nullptr) << "in flight still counts";
  server->in_flight = 0;  // ...and so does its request.
  EXPECT_TRUE(eventually([&] { return state("web", "127.0.0.1:9001") == nullptr; }));
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters/web/servers/127.0.0.1:9001").status, 404);
}

TEST_F(AdminTest, DeleteWithWaitAnswersOnceTheServerIsGone) {
  start(kLoopback);
  const auto server = state("web", "127.0.0.1:9001");
  server->active_connections = 1;
  std::thread finisher([&] {
    // The request is already waiting once the server shows as pending removal.
    eventually([&] { return logged("draining for removal"); });
    server->active_connections = 0;
  });
  const Reply reply =
      request(port_, "DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9001?wait=true");
  finisher.join();
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()["removed"], true);
  EXPECT_EQ(reply.json()["open_connections_at_removal"], 0);
  EXPECT_EQ(state("web", "127.0.0.1:9001"), nullptr);
}

TEST_F(AdminTest, DeleteWithWaitIsBoundedByTheDrainTimeout) {
  start(kLoopback, "300ms");
  state("web", "127.0.0.1:9001")->active_connections = 2;  // Never finishes.
  const auto begin = std::chrono::steady_clock::now();
  const Reply reply =
      request(port_, "DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9001?wait=true");
  const auto waited = std::chrono::steady_clock::now() - begin;
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()["open_connections_at_removal"], 2);
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_EQ(state("web", "127.0.0.1:9001"), nullptr);
  EXPECT_TRUE(logged("at the drain timeout"));
}

TEST_F(AdminTest, EnablingAServerCancelsItsRemoval) {
  start(kLoopback);
  const auto server = state("web", "127.0.0.1:9001");
  server->active_connections = 1;
  EXPECT_EQ(request(port_, "DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9001").status, 202);
  EXPECT_EQ(request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9001",
                    R"({"state": "enable"})")
                .status,
            200);
  EXPECT_TRUE(eventually([&] { return logged("cancelled: the server was enabled again"); }));
  server->active_connections = 0;
  const Reply listed = request(port_, "GET", "/api/v1/clusters/web/servers/127.0.0.1:9001");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["removal_pending"], false);
  EXPECT_EQ(listed.json()["admin_state"], "enabled");
}

}  // namespace
}  // namespace fulcrum::admin::testing
