#include "discovery/server_list.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "discovery/membership_gate.h"

namespace fulcrum::discovery {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_server_list(text, "servers.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ServerList, YamlListWithWeightsBackupAndDraining) {
  const Membership members = parse_server_list(
      "- address: 127.0.0.2:80\n"
      "  weight: 3\n"
      "- {address: \"LOCALHOST:81\", backup: true, drain: true}\n",
      "servers.yaml");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].spec.address, "127.0.0.2:80");
  EXPECT_EQ(members[0].spec.weight, 3u);
  EXPECT_FALSE(members[0].spec.backup);
  EXPECT_FALSE(members[0].draining);
  EXPECT_EQ(members[1].spec.address, "localhost:81");  // canonical: host lower-cased
  EXPECT_TRUE(members[1].spec.backup);
  EXPECT_TRUE(members[1].draining);
  EXPECT_FALSE(members[1].spec.resolved.resolved());
}

TEST(ServerList, JsonIsYaml) {
  const Membership members = parse_server_list(
      R"([{"address": "[::1]:9000", "weight": 0}, {"address": "10.0.0.1:9000"}])", "s.json");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].spec.address, "10.0.0.1:9000");  // sorted by address
  EXPECT_EQ(members[1].spec.address, "[::1]:9000");
  EXPECT_EQ(members[1].spec.weight, 0u);
}

TEST(ServerList, AnExplicitEmptyListIsAnEmptyMembership) {
  EXPECT_TRUE(parse_server_list("[]\n", "servers.yaml").empty());
}

TEST(ServerList, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of(""), "servers.yaml:1:1: the file is empty (write [] for no servers)");
  EXPECT_EQ(error_of("- address: 127.0.0.1:80\n- address: 127.0.0.1\n"),
            "servers.yaml:2:12: invalid server address '127.0.0.1': missing port");
  EXPECT_NE(error_of("- address: 127.0.0.1:80\n  wieght: 2\n")
                .find("servers.yaml:2:3: unknown key "
                      "'wieght'"),
            std::string::npos);
  EXPECT_NE(error_of("- address: 127.0.0.1:80\n  weight: heavy\n").find("servers.yaml:2:11:"),
            std::string::npos);
  EXPECT_NE(error_of("- address: 127.0.0.1:80\n- address: 127.0.0.1:80\n")
                .find("servers.yaml:2:12: duplicate server address"),
            std::string::npos);
  EXPECT_NE(error_of("- address: [1, 2\n").find("servers.yaml:"), std::string::npos);
  EXPECT_NE(error_of("address: 127.0.0.1:80\n").find("expected a list"), std::string::npos);
}

TEST(MembershipGate, AnEmptySetIsRefusedUnlessAllowed) {
  EXPECT_EQ(judge_membership({}, false), Verdict::kRefuseEmpty);
  EXPECT_EQ(judge_membership({}, true), Verdict::kPublish);
  Membership one(1);
  one[0].spec.address = "127.0.0.1:80";
  EXPECT_EQ(judge_membership(one, false), Verdict::kPublish);
}

}  // namespace
}  // namespace fulcrum::discovery
