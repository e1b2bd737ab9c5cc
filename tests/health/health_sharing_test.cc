// The health sharing service against a real etcd: a cluster of 300 servers is published in
// batches (over etcd's 128 operations per transaction), a view that changes is written again, a
// server that leaves is withdrawn, and another instance's report takes a server out with quorum 1
// and leaves it in with quorum 2. The two-process scenarios are in
// tests/integration/test_health_sharing.py.
#include "health/health_sharing.h"

#include <gtest/gtest.h>

#include <sstream>

#include "discovery/etcd_process.h"

namespace fulcrum::health {
namespace {

using discovery::testing::EtcdProcess;
using discovery::testing::wait_for;
using std::chrono::milliseconds;

constexpr int kServers = 300;
constexpr std::string_view kPrefix = "/fulcrum/health/";

std::string address(int i) {
  return "10.0.0." + std::to_string(i % 250) + ":" + std::to_string(8000 + i);
}

std::vector<core::ServerSpec> servers(int count) {
  std::vector<core::ServerSpec> out;
  for (int i = 0; i < count; ++i) out.push_back({.address = address(i)});
  return out;
}

class HealthSharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(etcd_.missing(), "");
    ASSERT_TRUE(etcd_.start());
    cluster_ =
        std::make_shared<core::Cluster>(core::ClusterOptions{.name = "api"}, servers(kServers));
  }

  std::unique_ptr<HealthSharing> start_sharing(uint32_t quorum) {
    config::HealthSharingConfig config;
    config.enabled = true;
    config.endpoints = {etcd_.endpoint()};
    config.quorum = quorum;
    config.instance = "lb-1";
    config.ttl = std::chrono::seconds(5);
    auto sharing = std::make_unique<HealthSharing>(
        config, std::vector<HealthSharing::Target>{{"api", cluster_}});
    sharing->start();
    return sharing;
  }

  /// The lines of `etcdctl get --prefix` (keys and values alternate).
  std::vector<std::string> stored() const {
    std::istringstream in(etcd_.etcdctl({"get", "--prefix", std::string(kPrefix)}));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  std::string value_of(const std::string& key) const {
    return etcd_.etcdctl({"get", key, "--print-value-only"});
  }

  EtcdProcess etcd_;
  std::shared_ptr<core::Cluster> cluster_;
};

TEST_F(HealthSharingTest, PublishesEveryViewInBatchesAndFollowsChanges) {
  auto sharing = start_sharing(2);
  ASSERT_TRUE(wait_for([&] { return stored().size() == 2 * kServers; }, milliseconds(10000)))
      << stored().size() / 2 << " of " << kServers << " views published";
  const std::string key = report_key(kPrefix, "api", address(7), "lb-1");
  EXPECT_EQ(value_of(key), "{\"state\":\"up\"}\n");

  cluster_->state_of(address(7))->check_health = core::CheckHealth::kDown;
  ASSERT_TRUE(wait_for([&] { return value_of(key).find("\"down\"") != std::string::npos; },
                       milliseconds(5000)));
  EXPECT_EQ(value_of(key), "{\"reason\":\"health checks\",\"state\":\"down\"}\n");

  ASSERT_TRUE(cluster_->remove_server(address(7)));
  ASSERT_TRUE(wait_for([&] { return value_of(key).empty(); }, milliseconds(5000)))
      << "a server that left is withdrawn";

  // Stopped with leave: the lease is revoked and every view goes at once.
  sharing->stop(/*leave=*/true);
  EXPECT_TRUE(stored().empty());
}

TEST_F(HealthSharingTest, AnotherInstancesReportCountsTowardsTheQuorum) {
  auto strict = start_sharing(2);
  const std::string peer_key = report_key(kPrefix, "api", address(3), "lb-2");
  etcd_.put(peer_key, R"({"state":"down","reason":"health checks"})");
  core::ServerState& state = *cluster_->state_of(address(3));
  ASSERT_TRUE(wait_for([&] { return state.peer_down_reports.load() == 1; }, milliseconds(5000)));
  EXPECT_FALSE(state.down_by_peers.load()) << "1 report, quorum 2";
  // This instance's own view down too: two of two.
  state.check_health = core::CheckHealth::kDown;
  ASSERT_TRUE(wait_for([&] { return state.peer_down_reports.load() == 2; }, milliseconds(5000)));
  EXPECT_TRUE(state.down_by_peers.load());
  strict->stop();

  state.check_health = core::CheckHealth::kUp;
  auto lenient = start_sharing(1);
  ASSERT_TRUE(wait_for([&] { return state.down_by_peers.load() && state.peer_down_reports == 1; },
                       milliseconds(5000)))
      << "quorum 1: the other instance's report alone";
  etcd_.remove(peer_key);
  ASSERT_TRUE(wait_for([&] { return !state.down_by_peers.load(); }, milliseconds(5000)));
  EXPECT_EQ(state.peer_down_reports.load(), 0);
}

}  // namespace
}  // namespace fulcrum::health
