// The health keys of a cluster: health_check, agent, slow_start, panic_threshold, outlier, and a
// server's agent_address / agent_port.

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace fulcrum::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kListener =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n";

// A cluster `app` whose extra keys (indented by four spaces) follow its servers.
std::string with_cluster(std::string_view extra) {
  return std::string(kListener) +
         "clusters:\n"
         "  - name: app\n"
         "    servers: [{ address: 127.0.0.1:9001 }]\n" +
         std::string(extra);
}

ClusterConfig load_cluster(std::string_view extra) {
  return load_config_string(with_cluster(extra), "t.yaml").clusters.at(0);
}

std::string error_of(std::string_view extra) {
  try {
    load_config_string(with_cluster(extra), "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

TEST(HealthConfig, AbsentMeansNoChecksNoAgentAndCoreDefaults) {
  const ClusterConfig c = load_cluster("");
  EXPECT_FALSE(c.health_check.enabled());
  EXPECT_EQ(c.agent.port, 0);
  EXPECT_EQ(c.health, core::HealthOptions{});
  EXPECT_FALSE(c.health.outlier.enabled);
}

TEST(HealthConfig, HttpCheckWithEveryKey) {
  const ClusterConfig c = load_cluster(
      "    health_check:\n"
      "      type: http\n"
      "      method: HEAD\n"
      "      path: /health?full=1\n"
      "      host: app.internal\n"
      "      expect_status: [200-299, 304]\n"
      "      expect_body: OK\n"
      "      interval: 3s\n"
      "      timeout: 700ms\n"
      "      jitter: 20%\n"
      "      rise: 4\n"
      "      fall: 5\n"
      "      initial_state: down\n"
      "      fast_interval: 250ms\n"
      "      down_interval: 10s\n"
      "      reuse_connection: false\n");
  const HealthCheckConfig& h = c.health_check;
  EXPECT_EQ(h.type, HealthCheckType::kHttp);
  EXPECT_EQ(h.method, "HEAD");
  EXPECT_EQ(h.path, "/health?full=1");
  EXPECT_EQ(h.host, "app.internal");
  EXPECT_EQ(h.expect_status, (std::vector<StatusRange>{{200, 299}, {304, 304}}));
  EXPECT_EQ(h.expect_body, "OK");
  EXPECT_EQ(h.interval, seconds(3));
  EXPECT_EQ(h.timeout, milliseconds(700));
  EXPECT_EQ(h.jitter_percent, 20u);
  EXPECT_EQ(h.rise, 4u);
  EXPECT_EQ(h.fall, 5u);
  EXPECT_FALSE(h.initially_up);
  EXPECT_EQ(h.fast_interval, milliseconds(250));
  EXPECT_EQ(h.down_interval, seconds(10));
  EXPECT_FALSE(h.reuse_connection);
}

TEST(HealthConfig, DefaultsDeriveFastAndDownIntervalsFromInterval) {
  const HealthCheckConfig h = load_cluster("    health_check: { interval: 4s }\n").health_check;
  EXPECT_EQ(h.type, HealthCheckType::kTcp);
  EXPECT_EQ(h.timeout, seconds(1));
  EXPECT_EQ(h.jitter_percent, 10u);
  EXPECT_EQ(h.rise, 2u);
  EXPECT_EQ(h.fall, 3u);
  EXPECT_TRUE(h.initially_up);
  EXPECT_EQ(h.fast_interval, seconds(1));
  EXPECT_EQ(h.down_interval, seconds(4));
  EXPECT_EQ(h.expect_status, (std::vector<StatusRange>{{200, 399}}));
  EXPECT_TRUE(h.reuse_connection);
}

TEST(HealthConfig, SingleStatusScalarAndBareJitterNumber) {
  const HealthCheckConfig h =
      load_cluster("    health_check: { type: http, expect_status: 204, jitter: 0 }\n")
          .health_check;
  EXPECT_EQ(h.expect_status, (std::vector<StatusRange>{{204, 204}}));
  EXPECT_EQ(h.jitter_percent, 0u);
}

TEST(HealthConfig, HttpKeysOnATcpCheckAreErrors) {
  EXPECT_EQ(error_of("    health_check: { interval: 1s, path: /health }\n"),
            "t.yaml:5:35: 'path' applies to http checks only (add type: http)");
  EXPECT_EQ(error_of("    health_check: { type: tcp, reuse_connection: true }\n"),
            "t.yaml:5:32: 'reuse_connection' applies to http checks only (add type: http)");
}

TEST(HealthConfig, BadValuesNameTheirPosition) {
  EXPECT_EQ(error_of("    health_check: { type: http, expect_status: [200-99] }\n"),
            "t.yaml:5:49: expected a status code or range like 200 or 200-399 (100..599), got "
            "'200-99'");
  EXPECT_EQ(error_of("    health_check: { type: udp }\n"),
            "t.yaml:5:27: expected tcp or http, got 'udp'");
  EXPECT_EQ(error_of("    health_check: { jitter: 60% }\n"),
            "t.yaml:5:29: expected a percentage like 10% (0% to 50%), got '60%'");
  EXPECT_EQ(error_of("    health_check: { rise: 0 }\n"),
            "t.yaml:5:27: expected a whole number from 1 to 100, got '0'");
  EXPECT_EQ(error_of("    health_check: { type: http, path: health }\n"),
            "t.yaml:5:39: expected a path starting with '/', got 'health'");
  EXPECT_EQ(error_of("    health_check: { type: http, method: get }\n"),
            "t.yaml:5:41: expected an HTTP method in capitals like GET or HEAD, got 'get'");
  EXPECT_EQ(error_of("    health_check: { initial_state: maybe }\n"),
            "t.yaml:5:36: expected up or down, got 'maybe'");
  EXPECT_EQ(error_of("    health_check: { interval: 0 }\n"),
            "t.yaml:5:31: expected a duration greater than 0, got '0'");
}

TEST(HealthConfig, AgentSectionWithoutPortQueriesTheStandardPort) {
  EXPECT_EQ(load_cluster("    agent: {}\n").agent.port, 1510);
  EXPECT_EQ(load_cluster("    agent: { interval: 2s }\n").agent.port, 1510);
  // port 0: off, except for servers with their own agent_port.
  EXPECT_EQ(load_cluster("    agent: { port: 0 }\n").agent.port, 0);
  EXPECT_EQ(load_cluster("").agent.port, 0);  // No agent section: no agents.
}

TEST(HealthConfig, Agent) {
  const AgentConfig a = load_cluster(
                            "    agent:\n"
                            "      port: 1510\n"
                            "      send: \"load\\n\"\n"
                            "      interval: 2s\n"
                            "      timeout: 300ms\n"
                            "      require_response: true\n")
                            .agent;
  EXPECT_EQ(a, (AgentConfig{.port = 1510,
                            .send = "load\n",
                            .interval = seconds(2),
                            .timeout = milliseconds(300),
                            .require_response = true}));
  EXPECT_EQ(load_cluster("    agent: { port: 1510 }\n").agent,
            (AgentConfig{.port = 1510,
                         .send = "",
                         .interval = seconds(1),
                         .timeout = milliseconds(500),
                         .require_response = false}));
  EXPECT_EQ(error_of("    agent: { port: 70000 }\n"),
            "t.yaml:5:20: expected a whole number from 0 to 65535, got '70000'");
  EXPECT_EQ(error_of("    agent: { prot: 1 }\n"),
            "t.yaml:5:14: unknown key 'prot' in cluster agent (expected one of: port, send, "
            "interval, timeout, require_response, tls)");
}

// A cluster `app` with the given server lines (one per line, indented by six spaces).
std::string with_servers(std::string_view lines) {
  return std::string(kListener) +
         "clusters:\n"
         "  - name: app\n"
         "    servers:\n" +
         std::string(lines);
}

TEST(HealthConfig, ServerAgentAddressAndPort) {
  const ClusterConfig c =
      load_config_string(
          with_servers("      - { address: 127.0.0.1:9001, agent_port: 1600 }\n"
                       "      - { address: 127.0.0.1:9002, agent_address: Agents.Local }\n"
                       "      - { address: 127.0.0.1:9003, agent_address: \"[::1]\" }\n"
                       "      - { address: 127.0.0.1:9004, agent_address: 10.0.0.4 }\n"),
          "t.yaml")
          .clusters.at(0);
  EXPECT_EQ(c.servers.at(0).agent_port, 1600);
  EXPECT_EQ(c.servers.at(0).agent_address, "");
  EXPECT_EQ(c.servers.at(1).agent_address, "agents.local");
  EXPECT_EQ(c.servers.at(1).agent_port, 0);
  EXPECT_EQ(c.servers.at(2).agent_address, "::1");
  EXPECT_EQ(c.servers.at(3).agent_address, "10.0.0.4");
}

TEST(HealthConfig, ServerAgentAddressWithAPortOrSpacesIsAnError) {
  auto error = [](std::string_view line) {
    try {
      load_config_string(with_servers(line), "t.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(loaded without error)");
  };
  EXPECT_EQ(error("      - { address: 127.0.0.1:9001, agent_address: \"host:80\" }\n"),
            "t.yaml:5:51: invalid agent_address 'host:80': expected a host name or an IP "
            "address without port");
  EXPECT_EQ(error("      - { address: 127.0.0.1:9001, agent_address: \"a b\" }\n"),
            "t.yaml:5:51: invalid agent_address 'a b': expected a host name or an IP address "
            "without port");
  EXPECT_EQ(error("      - { address: 127.0.0.1:9001, agent_port: 0 }\n"),
            "t.yaml:5:48: expected a whole number from 1 to 65535, got '0'");
}

TEST(HealthConfig, SlowStartPanicAndOutlier) {
  const ClusterConfig c = load_cluster(
      "    slow_start: 30s\n"
      "    panic_threshold: 25%\n"
      "    outlier:\n"
      "      consecutive_5xx: 7\n"
      "      consecutive_gateway_errors: 0\n"
      "      base_ejection_time: 10s\n"
      "      max_ejection_time: 1m\n"
      "      max_ejection_percent: 30%\n");
  EXPECT_EQ(c.health.slow_start, seconds(30));
  EXPECT_EQ(c.health.panic_threshold, 25u);
  EXPECT_TRUE(c.health.outlier.enabled);
  EXPECT_EQ(c.health.outlier.consecutive_5xx, 7u);
  EXPECT_EQ(c.health.outlier.consecutive_gateway_errors, 0u);
  EXPECT_EQ(c.health.outlier.base_ejection_time, seconds(10));
  EXPECT_EQ(c.health.outlier.max_ejection_time, seconds(60));
  EXPECT_EQ(c.health.outlier.max_ejection_percent, 30u);
  EXPECT_EQ(load_cluster("    panic_threshold: 0\n").health.panic_threshold, 0u);
  EXPECT_TRUE(load_cluster("    outlier: {}\n").health.outlier.enabled);
}

TEST(HealthConfig, OutlierRejectsAMaximumBelowTheBase) {
  EXPECT_EQ(error_of("    outlier: { base_ejection_time: 1m, max_ejection_time: 30s }\n"),
            "t.yaml:5:59: max_ejection_time must not be shorter than base_ejection_time");
  EXPECT_EQ(error_of("    outlier: { base_ejection_time: 10m }\n"),
            "t.yaml:5:14: max_ejection_time must not be shorter than base_ejection_time");
  EXPECT_EQ(error_of("    panic_threshold: 101%\n"),
            "t.yaml:5:22: expected a percentage like 10% (0% to 100%), got '101%'");
}

}  // namespace
}  // namespace fulcrum::config
