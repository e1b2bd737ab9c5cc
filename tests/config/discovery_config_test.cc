#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace fulcrum::config {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kListener =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: api }]\n";

Config load(std::string_view clusters, const std::string& name = "/etc/fulcrum/t.yaml") {
  return load_config_string(std::string(kListener) + std::string(clusters), name);
}

std::string error_of(std::string_view clusters) {
  try {
    load(clusters, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

TEST(DiscoveryConfig, StaticByDefault) {
  const Config c = load("clusters: [{ name: api, servers: [{ address: 127.0.0.1:9001 }] }]\n");
  EXPECT_EQ(c.clusters[0].discovery.type, DiscoveryType::kStatic);
  EXPECT_FALSE(c.clusters[0].discovery.discovered());
}

TEST(DiscoveryConfig, DnsSrvWithResolversAndTtlBounds) {
  const Config c = load(
      "clusters:\n"
      "  - name: api\n"
      "    discovery:\n"
      "      type: dns\n"
      "      name: _http._tcp.api.internal\n"
      "      resolvers: [127.0.0.1:5353, \"[::1]:53\"]\n"
      "      min_ttl: 2s\n"
      "      max_ttl: 1m\n"
      "      allow_empty: true\n");
  const DiscoveryConfig& d = c.clusters[0].discovery;
  EXPECT_EQ(d.type, DiscoveryType::kDns);
  EXPECT_TRUE(d.allow_empty);
  EXPECT_EQ(d.name, "_http._tcp.api.internal");
  EXPECT_EQ(d.port, 0);
  EXPECT_EQ(d.resolvers, (std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"}));
  EXPECT_EQ(d.min_ttl, seconds(2));
  EXPECT_EQ(d.max_ttl, minutes(1));
  EXPECT_TRUE(c.clusters[0].servers.empty());
}

TEST(DiscoveryConfig, DnsHostNameWithPortAndDefaults) {
  const Config c = load(
      "clusters: [{ name: api, servers: [], discovery: { type: dns, name: api.internal, port: "
      "8080 } }]\n");
  const DiscoveryConfig& d = c.clusters[0].discovery;
  EXPECT_EQ(d.port, 8080);
  EXPECT_TRUE(d.resolvers.empty());
  EXPECT_EQ(d.min_ttl, seconds(1));
  EXPECT_EQ(d.max_ttl, minutes(5));
  EXPECT_FALSE(d.allow_empty);
}

TEST(DiscoveryConfig, FilePathIsRelativeToTheConfigurationFile) {
  const Config c =
      load("clusters: [{ name: api, discovery: { type: file, path: servers.yaml } }]\n");
  EXPECT_EQ(c.clusters[0].discovery.path, "/etc/fulcrum/servers.yaml");
  const Config absolute =
      load("clusters: [{ name: api, discovery: { type: file, path: /srv/s.json } }]\n");
  EXPECT_EQ(absolute.clusters[0].discovery.path, "/srv/s.json");
}

TEST(DiscoveryConfig, Etcd) {
  const Config c = load(
      "clusters: [{ name: api, discovery: { type: etcd, endpoints: [127.0.0.1:2379, "
      "ETCD-2:2379], prefix: /fulcrum/api/ } }]\n");
  const DiscoveryConfig& d = c.clusters[0].discovery;
  EXPECT_EQ(d.endpoints, (std::vector<std::string>{"127.0.0.1:2379", "etcd-2:2379"}));
  EXPECT_EQ(d.prefix, "/fulcrum/api/");
}

TEST(DiscoveryConfig, Errors) {
  EXPECT_EQ(error_of("clusters: [{ name: api, discovery: { type: consul } }]\n"),
            "t.yaml:2:44: expected static, dns, etcd or file, got 'consul'");
  EXPECT_EQ(error_of("clusters: [{ name: api, discovery: { type: file, path: s.yaml, port: 80 } "
                     "}]\n"),
            "t.yaml:2:64: 'port' applies to discovery type dns, not file");
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: file, pth: s.yaml } }]\n")
                .find("t.yaml:2:50: unknown key 'pth' in cluster discovery"),
            std::string::npos);
  EXPECT_EQ(error_of("clusters: [{ name: api, servers: [{ address: 127.0.0.1:1 }], discovery: { "
                     "type: file, path: s.yaml } }]\n"),
            "t.yaml:2:34: cluster 'api' takes its servers from discovery: 'servers' must be absent "
            "or empty");
  EXPECT_EQ(error_of("clusters: [{ name: api, discovery: { type: dns, name: api.internal } }]\n"),
            "t.yaml:2:55: 'api.internal' is not an SRV name ('_service._proto.name'): give 'port' "
            "to use its A/AAAA records");
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: dns, name: _x._tcp.a, port: 1 } "
                     "}]\n")
                .find("'port' is for A/AAAA names"),
            std::string::npos);
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: dns, name: _x._tcp.a, "
                     "min_ttl: 10s, max_ttl: 5s } }]\n")
                .find("'max_ttl' must not be below 'min_ttl'"),
            std::string::npos);
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: dns, name: _x._tcp.a, "
                     "resolvers: [dns.example:53] } }]\n")
                .find("must be an IP address and port"),
            std::string::npos);
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: etcd, endpoints: [], prefix: /a "
                     "} }]\n")
                .find("'endpoints' must not be empty"),
            std::string::npos);
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: etcd, endpoints: [h:1], prefix: "
                     "a } }]\n")
                .find("must start with '/'"),
            std::string::npos);
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: file, path: s, allow_empty: 3 } "
                     "}]\n")
                .find("t.yaml:2:"),
            std::string::npos);
  // A static cluster still needs servers.
  EXPECT_NE(error_of("clusters: [{ name: api, discovery: { type: static } }]\n")
                .find("missing required key 'servers'"),
            std::string::npos);
}

}  // namespace
}  // namespace fulcrum::config
