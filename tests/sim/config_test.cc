// Loading cluster and scenario files: valid input, defaults, and errors that name file:line:column.
#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/policy_registry.h"
#include "sim/cluster_config.h"
#include "sim/scenario.h"

namespace fulcrum::sim {
namespace {

using namespace std::chrono_literals;
using config::ConfigError;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kCluster = R"(name: web
policy: round_robin
retries: 1
passive: {attempts: 5, offline_timeout: 30s}
hash_key: client_id
servers:
  - address: "10.0.0.1:80"
    weight: 3
  - {address: "10.0.0.2:80", backup: true}
)";

std::string cluster_error(const std::string& text) {
  try {
    parse_cluster(text, "cluster.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ClusterFile, ReadsEveryField) {
  const ClusterConfig c = parse_cluster(kCluster, "cluster.yaml");
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(c.policy, "round_robin");
  EXPECT_EQ(c.retries, 1u);
  EXPECT_EQ(c.passive.attempts, 5u);
  EXPECT_EQ(c.passive.offline_timeout, 30s);
  EXPECT_EQ(c.hash_key, "client_id");
  ASSERT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.servers[0], (core::ServerSpec{"10.0.0.1:80", 3, false}));
  EXPECT_EQ(c.servers[1], (core::ServerSpec{"10.0.0.2:80", 1, true}));
}

TEST(ClusterFile, Defaults) {
  const ClusterConfig c = parse_cluster("name: x\nservers: [{address: a}]\n", "c.yaml");
  EXPECT_EQ(c.policy, "round_robin");
  EXPECT_EQ(c.retries, 2u);
  EXPECT_EQ(c.passive.attempts, 3u);
  EXPECT_EQ(c.passive.offline_timeout, 10s);
  EXPECT_FALSE(c.hash_key.has_value());
  EXPECT_EQ(c.servers[0].weight, 1u);
}

TEST(ClusterFile, AcceptsEveryBuiltinPolicy) {
  for (const auto& name : core::PolicyRegistry::builtin().names()) {
    const ClusterConfig c =
        parse_cluster("name: x\npolicy: " + name + "\nservers: [{address: a}]\n", "c.yaml");
    EXPECT_EQ(c.policy, name);
  }
}

TEST(ClusterFile, UnknownKeyNamesPositionAndAlternatives) {
  const std::string error = cluster_error("name: web\nservers:\n  - address: a\n    wieght: 3\n");
  EXPECT_THAT(error, StartsWith("cluster.yaml:4:5: unknown key 'wieght' in server"));
  EXPECT_THAT(error, HasSubstr("address, weight, backup"));
}

TEST(ClusterFile, WrongTypeNamesValuePosition) {
  EXPECT_THAT(cluster_error("name: web\nservers:\n  - {address: a, weight: heavy}\n"),
              StartsWith("cluster.yaml:3:26: expected a whole number from 0 to 1000000, "
                         "got 'heavy'"));
  EXPECT_THAT(cluster_error("name: web\nservers:\n  - {address: a, weight: -1}\n"),
              StartsWith("cluster.yaml:3:26: expected a whole number from 0 to 1000000, "
                         "got '-1'"));
  EXPECT_THAT(cluster_error("name: web\nservers:\n  - {address: a, backup: yes}\n"),
              StartsWith("cluster.yaml:3:26: expected true or false, got 'yes'"));
  EXPECT_THAT(cluster_error("name: web\nservers: {address: a}\n"),
              StartsWith("cluster.yaml:2:10: expected a list for 'servers', got a mapping"));
  EXPECT_THAT(cluster_error("name: [web]\nservers: [{address: a}]\n"),
              StartsWith("cluster.yaml:1:7: expected a string, got a list"));
  EXPECT_THAT(cluster_error("name: ''\nservers: [{address: a}]\n"),
              StartsWith("cluster.yaml:1:7: expected a non-empty string"));
}

TEST(ClusterFile, BadDurationNamesPositionAndReason) {
  EXPECT_THAT(
      cluster_error("name: web\npassive:\n  offline_timeout: 10\nservers: [{address: a}]\n"),
      StartsWith("cluster.yaml:3:20: expected a duration like 500ms, 10s or 2m, got '10' (a unit "
                 "is required)"));
}

TEST(ClusterFile, UnknownPolicyListsKnownOnes) {
  const std::string error = cluster_error("name: web\npolicy: fastest\nservers: [{address: a}]\n");
  EXPECT_THAT(error, StartsWith("cluster.yaml:2:9: unknown policy 'fastest'"));
  EXPECT_THAT(error, HasSubstr("round_robin"));
}

TEST(ClusterFile, StructuralErrors) {
  EXPECT_THAT(cluster_error("name: web\n"),
              StartsWith("cluster.yaml:1:1: missing required key 'servers' in cluster file"));
  EXPECT_THAT(cluster_error("name: web\nservers: []\n"),
              StartsWith("cluster.yaml:2:10: 'servers' must not be empty"));
  EXPECT_THAT(cluster_error("name: web\nservers:\n  - address: a\n  - address: a\n"),
              StartsWith("cluster.yaml:4:14: duplicate server address 'a' (first at line 3)"));
  EXPECT_THAT(cluster_error("name: web\nname: app\nservers: [{address: a}]\n"),
              StartsWith("cluster.yaml:2:1: duplicate key 'name'"));
  EXPECT_THAT(cluster_error("name: web\npassive: {attempts: 0}\nservers: [{address: a}]\n"),
              StartsWith("cluster.yaml:2:21: expected a whole number from 1 to 1000, got '0'"));
  EXPECT_EQ(cluster_error(""), "cluster.yaml: empty document");
  EXPECT_THAT(cluster_error("- a\n- b\n"), StartsWith("cluster.yaml:1:1: expected a mapping"));
}

TEST(ClusterFile, SyntaxErrorNamesPosition) {
  EXPECT_THAT(cluster_error("name: web\nservers: [{address: a}\n"),
              StartsWith("cluster.yaml:3:1: "));
  EXPECT_EQ(cluster_error("name: web\nservers: [{address: a}]\n---\nname: app\n"),
            "cluster.yaml:4:1: expected one YAML document, found 2");
}

TEST(ClusterFile, MissingFile) {
  try {
    load_cluster_file("/nonexistent/cluster.yaml");
    ADD_FAILURE() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/cluster.yaml: cannot read: No such file or directory");
  }
}

TEST(ClusterFile, ErrorInRealFileNamesItsPath) {
  const std::string path = ::testing::TempDir() + "fulcrum_sim_bad_cluster.yaml";
  {
    std::ofstream out(path);
    out << "name: web\nservers:\n  - address: a\n    weight: 2\n    backupp: true\n";
  }
  try {
    load_cluster_file(path);
    ADD_FAILURE() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith(path + ":5:5: unknown key 'backupp'"));
  }
  std::remove(path.c_str());
}

// ---- scenario files ----

const ClusterConfig& three_servers() {
  static const ClusterConfig c =
      parse_cluster("name: web\nservers: [{address: a}, {address: b}, {address: c}]\n", "c.yaml");
  return c;
}

std::string scenario_error(const std::string& text) {
  try {
    parse_scenario(text, "scenario.yaml", three_servers());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ScenarioFile, ReadsEveryFieldAndSortsEvents) {
  const Scenario s = parse_scenario(R"(seed: 7
requests: 500
rate: 250
request_duration: 20ms
default_latency: 3ms
latency: {b: 9ms}
keys: 64
events:
  - {at: 2s, server: c, action: weight, weight: 5}
  - {at: 1s, server: a, action: fail}
  - {at: 1s, server: b, action: agent_load, load: -1}
  - {at: 1500ms, server: a, action: recover}
  - {at: 3s, server: b, action: drain}
  - {at: 3s, server: b, action: disable}
  - {at: 4s, server: b, action: enable}
)",
                                    "scenario.yaml", three_servers());
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.requests, 500u);
  EXPECT_EQ(s.rate, 250.0);
  EXPECT_EQ(s.request_duration, 20ms);
  EXPECT_EQ(s.latency_of(0), 3ms);
  EXPECT_EQ(s.latency_of(1), 9ms);
  EXPECT_EQ(s.latency_of(2), 3ms);
  EXPECT_EQ(s.keys, 64u);
  ASSERT_EQ(s.events.size(), 7u);
  // Stable sort: same-time events keep file order.
  EXPECT_EQ(s.events[0].action, Action::kFail);
  EXPECT_EQ(s.events[0].server, 0u);
  EXPECT_EQ(s.events[1].action, Action::kAgentLoad);
  EXPECT_EQ(s.events[1].value, -1);
  EXPECT_EQ(s.events[2].at, 1500ms);
  EXPECT_EQ(s.events[3].action, Action::kWeight);
  EXPECT_EQ(s.events[3].value, 5);
  EXPECT_EQ(s.events[4].action, Action::kDrain);
  EXPECT_EQ(s.events[5].action, Action::kDisable);
  EXPECT_EQ(s.events[6].action, Action::kEnable);
}

TEST(ScenarioFile, ArrivalsAreEvenlySpaced) {
  const Scenario s = parse_scenario("requests: 4\nrate: 3\n", "s.yaml", three_servers());
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.arrival(0), 0ns);
  EXPECT_EQ(s.arrival(1), 333'333'333ns);
  EXPECT_EQ(s.arrival(2), 666'666'667ns);
  EXPECT_EQ(s.arrival(3), 1s);
}

TEST(ScenarioFile, FineDurationsFractionalRateAndNoEvents) {
  const Scenario s = parse_scenario(R"(requests: 5
rate: 2.5
request_duration: 1.5ms
default_latency: 250us
latency: {a: 0, c: 7ns}
events: []
)",
                                    "scenario.yaml", three_servers());
  EXPECT_EQ(s.rate, 2.5);
  EXPECT_EQ(s.request_duration, 1500us);
  EXPECT_EQ(s.latency_of(0), 0ns);
  EXPECT_EQ(s.latency_of(1), 250us);
  EXPECT_EQ(s.latency_of(2), 7ns);
  EXPECT_TRUE(s.events.empty());
  EXPECT_EQ(s.arrival(1), 400ms);
}

TEST(ScenarioFile, Errors) {
  EXPECT_THAT(scenario_error("rate: 10\n"),
              StartsWith("scenario.yaml:1:1: missing required key 'requests' in scenario file"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 0\n"),
              StartsWith("scenario.yaml:2:7: expected a number greater than 0, got '0'"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 0.000001\n"),
              StartsWith("scenario.yaml:2:7: 10 requests at this rate would span more than"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nduration: 1s\n"),
              StartsWith("scenario.yaml:3:1: unknown key 'duration' in scenario file"));
  EXPECT_THAT(
      scenario_error("requests: 10\nrate: 5\nevents:\n  - {at: 1s, server: z, action: fail}\n"),
      StartsWith("scenario.yaml:4:22: server 'z' is not in cluster 'web'"));
  EXPECT_THAT(
      scenario_error("requests: 10\nrate: 5\nevents:\n  - {at: 1s, server: a, action: explode}\n"),
      StartsWith("scenario.yaml:4:33: expected fail, recover, agent_load, drain, disable, enable "
                 "or weight, got 'explode'"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nevents:\n"
                             "  - {at: 1s, server: a, action: agent_load, load: 101}\n"),
              StartsWith("scenario.yaml:4:51: expected a whole number from -1 to 100, got '101'"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nevents:\n"
                             "  - {at: 1s, server: a, action: agent_load}\n"),
              StartsWith("scenario.yaml:4:5: missing required key 'load' in agent_load event"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nevents:\n"
                             "  - {at: 1s, server: a, action: fail, weight: 2}\n"),
              StartsWith("scenario.yaml:4:39: 'weight' does not apply to action 'fail'"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nevents:\n  - {at: soon, server: a, "
                             "action: fail}\n"),
              StartsWith("scenario.yaml:4:10: expected a duration like 500ms, 10s or 2m, got "
                         "'soon'"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nlatency: {a: 1ms, a: 2ms}\n"),
              StartsWith("scenario.yaml:3:19: latency given twice"));
  EXPECT_THAT(scenario_error("requests: 10\nrate: 5\nlatency: {q: 1ms}\n"),
              StartsWith("scenario.yaml:3:11: server 'q' is not in cluster 'web'"));
}

TEST(BundledExample, Loads) {
  const std::string dir = std::string(FULCRUM_SOURCE_DIR) + "/examples/sim/";
  const ClusterConfig c = load_cluster_file(dir + "cluster.yaml");
  const Scenario s = load_scenario_file(dir + "scenario.yaml", c);
  EXPECT_GE(c.servers.size(), 3u);
  EXPECT_FALSE(s.events.empty());
}

}  // namespace
}  // namespace fulcrum::sim
