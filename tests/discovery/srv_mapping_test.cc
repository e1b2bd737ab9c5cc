#include "discovery/srv_mapping.h"

#include <gtest/gtest.h>

namespace fulcrum::discovery {
namespace {

core::NetAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  core::NetAddress address;
  address.family = 4;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

core::NetAddress v6_loopback() {
  core::NetAddress address;
  address.family = 6;
  address.bytes[15] = 1;
  return address;
}

TEST(SrvMapping, LowestPriorityIsPrimaryAndHigherOnesAreBackup) {
  const std::vector<SrvRecord> records{{10, 5, 8080, "a.internal", 30},
                                       {20, 1, 8081, "b.internal", 30},
                                       {30, 1, 8082, "c.internal", 30}};
  const std::map<std::string, ResolvedName> targets{{"a.internal", {{v4(10, 0, 0, 1)}, 30}},
                                                    {"b.internal", {{v4(10, 0, 0, 2)}, 30}},
                                                    {"c.internal", {{v4(10, 0, 0, 3)}, 30}}};
  const Membership members = map_srv(records, targets);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].spec.address, "a.internal:8080");
  EXPECT_FALSE(members[0].spec.backup);
  EXPECT_EQ(members[0].spec.weight, 5u);
  EXPECT_EQ(members[0].spec.resolved.port, 8080);
  EXPECT_EQ(members[0].spec.resolved.bytes[3], 1);
  EXPECT_TRUE(members[1].spec.backup);
  EXPECT_TRUE(members[2].spec.backup);
  EXPECT_EQ(members[2].spec.resolved.port, 8082);
}

TEST(SrvMapping, WeightZeroBecomesOneAndLargeWeightsAreCapped) {
  EXPECT_EQ(server_weight_of_srv(0), 1u);
  EXPECT_EQ(server_weight_of_srv(7), 7u);
  EXPECT_EQ(server_weight_of_srv(65535), 10000u);
  const Membership members =
      map_srv({{0, 0, 80, "a", 5}}, {{"a", ResolvedName{{v4(127, 0, 0, 1)}, 5}}});
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].spec.weight, 1u);
}

TEST(SrvMapping, UnresolvedTargetsAreLeftOutAndRepeatsKeepTheirFirstRecord) {
  const std::vector<SrvRecord> records{
      {1, 3, 80, "a", 5}, {1, 9, 80, "a", 5}, {1, 1, 81, "a", 5}, {1, 1, 80, "gone", 5}};
  const Membership members = map_srv(records, {{"a", ResolvedName{{v4(127, 0, 0, 1)}, 5}}});
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].spec.address, "a:80");
  EXPECT_EQ(members[0].spec.weight, 3u);
  EXPECT_EQ(members[1].spec.address, "a:81");
}

TEST(SrvMapping, PrimaryIsTheLowestPriorityPresentEvenWhenItsTargetsDoNotResolve) {
  // Priority 1 is unresolved: priority 2 is still a backup tier, as the zone says.
  const Membership members = map_srv({{1, 1, 80, "down", 5}, {2, 1, 80, "up", 5}},
                                     {{"up", ResolvedName{{v4(127, 0, 0, 1)}, 5}}});
  ASSERT_EQ(members.size(), 1u);
  EXPECT_TRUE(members[0].spec.backup);
}

TEST(SrvMapping, NoRecordsIsAnEmptyMembership) { EXPECT_TRUE(map_srv({}, {}).empty()); }

TEST(AddressMapping, OneServerPerAddressIpv6InBrackets) {
  const Membership members =
      map_addresses({v4(10, 0, 0, 2), v4(10, 0, 0, 1), v4(10, 0, 0, 2), v6_loopback()}, 9000);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].spec.address, "10.0.0.1:9000");
  EXPECT_EQ(members[1].spec.address, "10.0.0.2:9000");
  EXPECT_EQ(members[2].spec.address, "[::1]:9000");
  EXPECT_EQ(members[2].spec.resolved.port, 9000);
  EXPECT_EQ(members[0].spec.weight, 1u);
  EXPECT_FALSE(members[0].spec.backup);
}

TEST(RefreshAfter, TtlIsClampedToTheConfiguredRange) {
  using std::chrono::seconds;
  EXPECT_EQ(refresh_after(0, seconds(1), seconds(300)), seconds(1));
  EXPECT_EQ(refresh_after(30, seconds(1), seconds(300)), seconds(30));
  EXPECT_EQ(refresh_after(86400, seconds(1), seconds(300)), seconds(300));
}

}  // namespace
}  // namespace fulcrum::discovery
