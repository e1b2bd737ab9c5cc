// A configuration with several problems reports all of them in one run, in file order (as a
// compiler lists its errors), up to ConfigErrors::kMaxReported, so fixing a file does not take
// one `fulcrum --check` per mistake.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/schema.h"
#include "config/yaml_reader.h"

namespace fulcrum::config {
namespace {

// The error lines of `yaml`, in the order reported.
std::vector<std::string> errors_of(const std::string& yaml) {
  try {
    load_config_string(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    std::vector<std::string> lines;
    for (const ConfigError& each : e.errors()) lines.emplace_back(each.what());
    return lines;
  }
  return {"(loaded without error)"};
}

TEST(AllErrors, UnknownKeyAndBadPolicyAreBothReportedTheEarlierFirst) {
  // Clusters are read before listeners, so the policy (line 11) is found first: the report still
  // starts at line 6.
  const std::string yaml =
      "listeners:\n"
      "  - name: api\n"
      "    listen: 127.0.0.1:8080\n"
      "    mode: http\n"
      "    timeouts: { client_idle: 60s }\n"
      "    routez:\n"
      "      - cluster: app\n"
      "clusters:\n"
      "  - name: app\n"
      "    servers: [{ address: 127.0.0.1:9001 }]\n"
      "    policy: round_robbin\n";
  const std::vector<std::string> errors = errors_of(yaml);
  // Not also "needs 'routes' or 'cluster'": that is the misspelling again.
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_TRUE(
      errors[0].starts_with("t.yaml:6:5: unknown key 'routez' in listener (expected one "
                            "of: name, listen, "))
      << errors[0];
  EXPECT_TRUE(errors[0].ends_with("did you mean 'routes'?")) << errors[0];
  EXPECT_TRUE(
      errors[1].starts_with("t.yaml:11:13: unknown policy 'round_robbin' (expected one "
                            "of: "))
      << errors[1];
}

TEST(AllErrors, OneErrorPerMistakeInFileOrderWithCrossChecksSortedIn) {
  const std::string yaml =
      "workers: 0\n"
      "listeners:\n"
      "  - { name: web, listen: 127.0.0.1:8080, cluster: nowhere }\n"
      "  - { name: web, listen: 127.0.0.1:8081, cluster: app, mode: udp }\n"
      "clusters:\n"
      "  - name: app\n"
      "    retries: lots\n"
      "    timeouts: { connect: 1.5s, idle: 0 }\n"
      "    servers:\n"
      "      - { address: 127.0.0.1, weight: -1 }\n"
      "      - { address: 127.0.0.1:9001, backup: maybe }\n"
      "drain_timeout: soon\n";
  const std::vector<std::string> expected = {
      "t.yaml:1:10: expected a whole number from 1 to 1024, got '0'",
      "t.yaml:3:51: unknown cluster 'nowhere' (defined clusters: app)",
      "t.yaml:4:13: duplicate listener name 'web' (first defined at line 3)",
      "t.yaml:4:62: expected http or tcp, got 'udp'",
      "t.yaml:7:14: expected a whole number from 0 to 10, got 'lots'",
      "t.yaml:8:26: expected a duration like 500ms, 10s or 2m, got '1.5s'",
      "t.yaml:8:38: expected a duration greater than 0, got '0'",
      "t.yaml:10:20: invalid server address '127.0.0.1': missing port",
      "t.yaml:10:39: expected a whole number from 0 to 10000, got '-1'",
      "t.yaml:11:44: expected true or false, got 'maybe'",
      "t.yaml:12:16: expected a duration like 500ms, 10s or 2m, got 'soon'",
  };
  EXPECT_EQ(errors_of(yaml), expected);
}

TEST(AllErrors, ErrorsInsideNestedSectionsAreEachReported) {
  const std::string yaml =
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:8080\n"
      "    cluster: app\n"
      "    limits: { max_connections: 0, max_head_bytes: 1 }\n"
      "clusters:\n"
      "  - name: app\n"
      "    servers: []\n"
      "    health_check:\n"
      "      type: http\n"
      "      path: health\n"
      "      rise: 0\n"
      "      intervall: 2s\n"
      "    outlier: { consecutive_5xx: many }\n"
      "    discovery: { type: file, path: s.yaml, allow_empty: perhaps }\n";
  const std::vector<std::string> errors = errors_of(yaml);
  ASSERT_EQ(errors.size(), 7u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "t.yaml:5:32: expected a whole number from 1 to 1000000, got '0'");
  EXPECT_EQ(errors[1], "t.yaml:5:51: expected a size from 1k to 1m, got '1'");
  EXPECT_EQ(errors[2], "t.yaml:11:13: expected a path starting with '/', got 'health'");
  EXPECT_EQ(errors[3], "t.yaml:12:13: expected a whole number from 1 to 100, got '0'");
  EXPECT_TRUE(
      errors[4].starts_with("t.yaml:13:7: unknown key 'intervall' in cluster "
                            "health_check"))
      << errors[4];
  EXPECT_EQ(errors[5], "t.yaml:14:33: expected a whole number from 0 to 1000, got 'many'");
  // Inside discovery, read by a section parser of its own.
  EXPECT_EQ(errors[6], "t.yaml:15:57: expected true or false, got 'perhaps'");
}

TEST(AllErrors, AtMostTwentyAreReportedTheFirstInTheFile) {
  std::string yaml =
      "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n"
      "clusters:\n"
      "  - name: app\n"
      "    servers:\n";
  for (int i = 0; i < 25; ++i)
    yaml += "      - { address: 127.0.0.1:" + std::to_string(9000 + i) + ", weight: heavy }\n";
  // Listeners are read after clusters; this one, at the very end, is not among the first 20.
  yaml += "drain_timeout: soon\n";
  try {
    load_config_string(yaml, "t.yaml");
    FAIL() << "loaded without error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.total(), 26u);
    const std::vector<ConfigError> shown = e.errors();
    ASSERT_EQ(shown.size(), ConfigErrors::kMaxReported);
    for (std::size_t i = 0; i < shown.size(); ++i) {
      EXPECT_EQ(shown[i].line(), static_cast<int>(5 + i));
      EXPECT_EQ(shown[i].message(), "expected a whole number from 0 to 10000, got 'heavy'");
    }
    // The parts of the error are the first one's; what() lists them all, one per line.
    EXPECT_EQ(e.line(), 5);
    EXPECT_EQ(e.column(), 44);
    const std::string what = e.what();
    EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), 19);
    EXPECT_TRUE(what.starts_with(std::string(shown[0].what()) + "\n")) << what;
  }
}

TEST(AllErrors, AFileOfNothingButErrorsStopsBeingReadAtAThousand) {
  // The wrong file (a log, a binary turned mapping) must not be read to its end error by error.
  std::string yaml = "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n";
  for (int i = 0; i < 1500; ++i) yaml += "key" + std::to_string(i) + ": 1\n";
  try {
    load_config_string(yaml, "t.yaml");
    FAIL() << "loaded without error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.total(), 1000u);
    ASSERT_EQ(e.errors().size(), ConfigErrors::kMaxReported);
    EXPECT_EQ(e.errors().front().line(), 2);
    EXPECT_TRUE(e.errors().front().message().starts_with("unknown key 'key0' in top level"));
  }
}

TEST(AllErrors, FollowOnErrorsOfAMistakeAreNotReported) {
  // A misspelt required key is one mistake, not also a missing key.
  EXPECT_EQ(errors_of("listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n"
                      "clusters:\n"
                      "  - name: app\n"
                      "    serverz: [{ address: 127.0.0.1:9001 }]\n")
                .size(),
            1u);
  // Without readable clusters, the names listeners give cannot be judged.
  EXPECT_EQ(errors_of("listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n"
                      "clusters: app\n"),
            std::vector<std::string>{"t.yaml:2:11: expected a list for 'clusters', got 'app'"});
  // A cluster whose name is invalid is still the one its routes name.
  EXPECT_EQ(errors_of("listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: 'a b' }]\n"
                      "clusters: [{ name: 'a b', servers: [{ address: 127.0.0.1:9001 }] }]\n"),
            std::vector<std::string>{
                "t.yaml:2:20: invalid name 'a b' (use letters, digits, '_', '-' and '.')"});
}

TEST(AllErrors, ASingleErrorIsReportedAsBefore) {
  try {
    load_config_string(
        "workers: 0\n"
        "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n"
        "clusters: [{ name: app, servers: [{ address: 127.0.0.1:9001 }] }]\n",
        "t.yaml");
    FAIL() << "loaded without error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.total(), 1u);
    EXPECT_EQ(e.errors().size(), 1u);
    EXPECT_STREQ(e.what(), "t.yaml:1:10: expected a whole number from 1 to 1024, got '0'");
  }
}

// fulcrum-sim and discovery's server lists read with a plain Source: the first error throws.
TEST(AllErrors, APlainSourceStopsAtTheFirstError) {
  const detail::Source source("t.yaml");
  const YAML::Node root = YAML::Load("{ wieght: 1, bakup: true }");
  try {
    detail::MapReader m(source, detail::Field{"", root, std::nullopt}, schema::kServer);
    FAIL() << "accepted unknown keys";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.total(), 1u);
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.column(), 3);
  }
}

}  // namespace
}  // namespace fulcrum::config
