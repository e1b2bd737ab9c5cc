#include "core/cluster.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace fulcrum::core {
namespace {

Cluster make_cluster() {
  return Cluster({.name = "web", .policy = "round_robin"},
                 {{"a:1", 2}, {"b:1", 1}, {"c:1", 1, true}});
}

TEST(Cluster, SplitsPrimariesAndBackupsInConfigOrder) {
  auto cluster = make_cluster();
  auto snap = cluster.snapshot();
  ASSERT_EQ(snap->tier(TierKind::kPrimary).members.size(), 2u);
  EXPECT_EQ(snap->tier(TierKind::kPrimary).members[1].spec.address, "b:1");
  ASSERT_EQ(snap->tier(TierKind::kBackup).members.size(), 1u);
  EXPECT_EQ(snap->servers.size(), 3u);
  EXPECT_EQ(snap->cluster_name, "web");
}

TEST(Cluster, ChangesPublishNewSnapshotsAndKeepOldOnesValid) {
  auto cluster = make_cluster();
  auto before = cluster.snapshot();
  const uint64_t v = cluster.version();

  EXPECT_TRUE(cluster.add_server({"d:1", 5}));
  EXPECT_FALSE(cluster.add_server({"d:1", 5}));
  EXPECT_EQ(cluster.version(), v + 1);
  EXPECT_TRUE(cluster.set_weight("a:1", 7));
  EXPECT_TRUE(cluster.remove_server("b:1"));
  EXPECT_FALSE(cluster.remove_server("zz:1"));
  EXPECT_EQ(cluster.version(), v + 3);

  // The old snapshot is untouched and its members still usable.
  EXPECT_EQ(before->servers.size(), 3u);
  EXPECT_EQ(before->tier(TierKind::kPrimary).members[1].spec.address, "b:1");
  EXPECT_EQ(before->tier(TierKind::kPrimary).members[1].state->address(), "b:1");

  auto after = cluster.snapshot();
  EXPECT_EQ(after->version, v + 3);
  EXPECT_EQ(after->servers.size(), 3u);
  EXPECT_EQ(after->servers[0].weight, 7u);
  EXPECT_EQ(cluster.state_of("b:1"), nullptr);
}

TEST(Cluster, LiveStateOutlivesSnapshots) {
  auto cluster = make_cluster();
  auto a = cluster.state_of("a:1");
  a->consecutive_failures = 2;
  a->active_connections = 4;
  cluster.set_weight("a:1", 9);
  cluster.add_server({"e:1"});
  EXPECT_EQ(cluster.state_of("a:1"), a);
  EXPECT_EQ(cluster.snapshot()->tier(TierKind::kPrimary).members[0].state, a);
  EXPECT_EQ(a->consecutive_failures.load(), 2u);
  EXPECT_EQ(a->active_connections.load(), 4);
}

TEST(Cluster, RejectsUnknownPolicyAndDuplicates) {
  EXPECT_THROW(Cluster({.name = "x", .policy = "nope"}, {{"a:1"}}), std::invalid_argument);
  EXPECT_THROW(Cluster({.name = "x"}, {{"a:1"}, {"a:1"}}), std::invalid_argument);
}

TEST(SnapshotReader, FollowsNewVersions) {
  auto cluster = make_cluster();
  SnapshotReader reader(cluster);
  const auto* first = reader.current().get();
  EXPECT_EQ(reader.current().get(), first);
  cluster.add_server({"f:1"});
  EXPECT_NE(reader.current().get(), first);
  EXPECT_EQ(reader.current()->servers.size(), 4u);
}

TEST(Eligibility, AdminStateAndHealthAreSeparate) {
  ServerState s("a:1");
  ServerSpec spec{"a:1"};
  PassiveOptions passive{3, std::chrono::seconds(1)};
  const Nanos now{5'000'000'000};
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kEligible);
  s.admin_state = AdminState::kDraining;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kDraining);
  s.check_health = CheckHealth::kDown;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kDraining);
  s.admin_state = AdminState::kEnabled;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kDownByChecks);
  s.check_health = CheckHealth::kUp;
  s.agent_load = kAgentUnavailable;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kAgentUnavailable);
  s.agent_load = 100;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kEligible);
  EXPECT_EQ(evaluate({"a:1", 0}, s, passive, now), Eligibility::kZeroWeight);
  s.admin_state = AdminState::kDisabled;
  EXPECT_EQ(evaluate(spec, s, passive, now), Eligibility::kDisabled);
  EXPECT_EQ(to_string(Eligibility::kDisabled), "disabled");
}

}  // namespace
}  // namespace fulcrum::core
