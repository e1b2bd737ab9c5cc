// Shared health's bookkeeping: report keys and values, this instance's own view, and the other
// instances' reports counted per server.
#include "health/shared_views.h"

#include <gtest/gtest.h>

#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::health {
namespace {

constexpr std::string_view kPrefix = "/fulcrum/health/";

TEST(ReportKey, RoundTrips) {
  const std::string key = report_key(kPrefix, "api", "[::1]:8080", "lb-1");
  EXPECT_EQ(key, "/fulcrum/health/api/[::1]:8080/lb-1");
  const auto parsed = parse_report_key(kPrefix, key);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->cluster, "api");
  EXPECT_EQ(parsed->server, "[::1]:8080");
  EXPECT_EQ(parsed->instance, "lb-1");
}

TEST(ReportKey, RejectsWhatIsNotAReport) {
  for (const char* key : {"/other/api/a:1/lb", "/fulcrum/health/api/a:1", "/fulcrum/health/api//lb",
                          "/fulcrum/health//a:1/lb", "/fulcrum/health/api/a:1/", "/fulcrum/health/",
                          "/fulcrum/health/api/x/a:1/lb"}) {
    EXPECT_FALSE(parse_report_key(kPrefix, key)) << key;
  }
}

TEST(ReportValue, RoundTripsAndRejectsGarbage) {
  const LocalView down{true, "health checks"};
  EXPECT_EQ(report_value(down), R"({"reason":"health checks","state":"down"})");
  EXPECT_EQ(parse_report_value(report_value(down)), down);
  EXPECT_EQ(parse_report_value(report_value({})), LocalView{});
  for (const char* value : {"", "down", "{}", R"({"state":"sideways"})", R"({"state":1})", "[]"}) {
    EXPECT_FALSE(parse_report_value(value)) << value;
  }
}

TEST(LocalView, DownOnlyByWhatThisInstanceInferred) {
  const core::PassiveOptions passive{3, std::chrono::seconds(10)};
  const int64_t now = 100'000'000'000;
  core::ServerState s("a:1");
  EXPECT_FALSE(local_view(s, passive, now).down);
  s.check_health = core::CheckHealth::kDown;
  EXPECT_EQ(local_view(s, passive, now), (LocalView{true, "health checks"}));
  s.check_health = core::CheckHealth::kUp;
  s.ejected_until_ns = now + 1;
  EXPECT_EQ(local_view(s, passive, now).reason, "outlier ejection");
  s.ejected_until_ns = now;
  EXPECT_FALSE(local_view(s, passive, now).down) << "ejection over";
  s.consecutive_failures = 3;
  s.last_failure_ns = now;
  EXPECT_EQ(local_view(s, passive, now).reason, "connect failures");
  s.consecutive_failures = 0;
  s.agent_health = core::AgentHealth::kSilent;
  EXPECT_EQ(local_view(s, passive, now).reason, "agent silent");
  // What the server itself said, and what other instances said, are not re-shared.
  s.agent_health = core::AgentHealth::kDown;
  s.admin_state = core::AdminState::kDraining;
  s.down_by_peers = true;
  EXPECT_FALSE(local_view(s, passive, now).down);
}

TEST(PeerReports, CountsDownReportsOfOtherInstancesPerServer) {
  PeerReports peers("me");
  const std::string down = report_value({true, "health checks"});
  const std::string up = report_value({});
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-1"), down));
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-2"), down));
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-3"), up));
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "me"), down));
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "web", "a:1", "lb-1"), down));
  EXPECT_EQ(peers.down_count("api", "a:1"), 2u) << "this instance's own report is not counted";
  EXPECT_EQ(peers.down_count("web", "a:1"), 1u);
  EXPECT_EQ(peers.down_count("api", "b:1"), 0u);

  // The same report again counts once; a report turning up and back down moves the count.
  EXPECT_TRUE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-1"), down));
  EXPECT_EQ(peers.down_count("api", "a:1"), 2u);
  peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-1"), up);
  EXPECT_EQ(peers.down_count("api", "a:1"), 1u);
  peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-3"), down);
  EXPECT_EQ(peers.down_count("api", "a:1"), 2u);

  // An instance gone (its lease expired): its keys are deleted.
  peers.remove(report_key(kPrefix, "api", "a:1", "lb-2"));
  peers.remove(report_key(kPrefix, "api", "a:1", "never-written"));
  EXPECT_EQ(peers.down_count("api", "a:1"), 1u);

  // A value that is not a report replaces the report: it counts no more.
  EXPECT_FALSE(peers.put(kPrefix, report_key(kPrefix, "api", "a:1", "lb-3"), "garbage"));
  EXPECT_EQ(peers.down_count("api", "a:1"), 0u);

  peers.clear();
  EXPECT_EQ(peers.down_count("web", "a:1"), 0u);
  EXPECT_EQ(peers.size(), 0u);
}

}  // namespace
}  // namespace fulcrum::health
