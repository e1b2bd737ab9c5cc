// The top-level `health_sharing` section: values, defaults and errors with their positions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "config/config.h"

namespace fulcrum::config {
namespace {

constexpr std::string_view kBase =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: api }]\n"
    "clusters: [{ name: api, servers: [{ address: 127.0.0.1:9001 }] }]\n";

Config load(std::string_view sharing) {
  return load_config_string(std::string(kBase) + std::string(sharing), "t.yaml");
}

std::string error_of(std::string_view sharing) {
  try {
    load(sharing);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

TEST(HealthSharingConfig, OffWithoutTheSection) { EXPECT_FALSE(load("").health_sharing.enabled); }

TEST(HealthSharingConfig, EveryKey) {
  const Config c = load(
      "health_sharing:\n"
      "  etcd: [127.0.0.1:2379, \"[::1]:2380\"]\n"
      "  prefix: /lb/health\n"
      "  quorum: 3\n"
      "  instance: lb-1.eu\n"
      "  ttl: 5s\n");
  const HealthSharingConfig& s = c.health_sharing;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.endpoints, (std::vector<std::string>{"127.0.0.1:2379", "[::1]:2380"}));
  EXPECT_EQ(s.prefix, "/lb/health/") << "a '/' ends the prefix, so instances agree on keys";
  EXPECT_EQ(s.quorum, 3u);
  EXPECT_EQ(s.instance, "lb-1.eu");
  EXPECT_EQ(s.ttl, std::chrono::seconds(5));
}

TEST(HealthSharingConfig, Defaults) {
  const HealthSharingConfig s = load("health_sharing: { etcd: [127.0.0.1:2379] }\n").health_sharing;
  EXPECT_EQ(s.prefix, "/fulcrum/health/");
  EXPECT_EQ(s.quorum, 2u);
  EXPECT_EQ(s.ttl, std::chrono::seconds(10));
  EXPECT_TRUE(s.instance.ends_with("-" + std::to_string(getpid()))) << s.instance;
}

TEST(HealthSharingConfig, ErrorsNameThePosition) {
  EXPECT_EQ(error_of("health_sharing: { quorum: 2 }\n"),
            "t.yaml:3:17: missing required key 'etcd' in health_sharing");
  EXPECT_EQ(error_of("health_sharing: { etcd: [127.0.0.1:2379], quorum: 0 }\n").substr(0, 13),
            "t.yaml:3:51: ");
  EXPECT_NE(error_of("health_sharing: { etcd: [127.0.0.1:2379], instance: a/b }\n")
                .find("t.yaml:3:53: instance 'a/b' must be"),
            std::string::npos);
  EXPECT_NE(error_of("health_sharing: { etcd: [127.0.0.1:2379], ttl: 1s }\n")
                .find("t.yaml:3:48: ttl must be between 2s and 1h"),
            std::string::npos);
  EXPECT_NE(
      error_of("health_sharing: { etcd: [127.0.0.1:2379], ttl: 2500ms }\n").find("whole seconds"),
      std::string::npos);
  EXPECT_NE(error_of("health_sharing: { etcd: [nohost] }\n").find("t.yaml:3:26: invalid etcd"),
            std::string::npos);
  EXPECT_NE(error_of("health_sharing: { etcd: [127.0.0.1:2379], prefix: health }\n")
                .find("must start with '/'"),
            std::string::npos);
  EXPECT_NE(error_of("health_sharing: { etcd: [127.0.0.1:2379], quorom: 2 }\n").find("quorom"),
            std::string::npos);
}

}  // namespace
}  // namespace fulcrum::config
