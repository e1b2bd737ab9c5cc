#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/policy_registry.h"

namespace fulcrum::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Every error test below writes its YAML out in full, so the expected line:column can be checked
// by eye. Columns are 1-based, as editors show them.
constexpr std::string_view kListener =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n";
constexpr std::string_view kCluster =
    "clusters: [{ name: app, servers: [{ address: 127.0.0.1:9001 }] }]\n";

std::string error_of(std::string_view yaml) {
  try {
    load_config_string(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

std::string cat(std::string_view a, std::string_view b) { return std::string(a) + std::string(b); }

// --- Keys and types ----------------------------------------------------------------------------

TEST(ConfigErrors, UnknownKeyNamesTheSectionTheChoicesAndTheLikelyTypo) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    retires: 2\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n")),
            "t.yaml:4:5: unknown key 'retires' in cluster (expected one of: name, policy, "
            "hash_key, servers, passive, retries, retry_on, timeouts, pool, limits, "
            "health_check, agent, slow_start, panic_threshold, outlier, tls, discovery); did you "
            "mean 'retries'?");
}

TEST(ConfigErrors, UnknownKeyWithoutCloseMatchHasNoSuggestion) {
  EXPECT_EQ(error_of(cat(cat(kListener, kCluster), "logging: true\n")),
            "t.yaml:3:1: unknown key 'logging' in top level (expected one of: workers, listeners, "
            "clusters, access_log, drain_timeout, dns_refresh, admin, health_sharing)");
}

TEST(ConfigErrors, UnknownKeyInNestedFlowMapping) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers: [{ address: 127.0.0.1:9001, wieght: 2 }]\n")),
            "t.yaml:4:42: unknown key 'wieght' in server (expected one of: address, weight, "
            "backup, agent_address, agent_port); did you mean 'weight'?");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n"
                         "    name: other\n")),
            "t.yaml:5:5: duplicate key 'name' (first at line 3)");
}

TEST(ConfigErrors, MissingRequiredKeyPointsAtTheMapping) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    policy: random\n")),
            "t.yaml:3:5: missing required key 'servers' in cluster");
  EXPECT_EQ(error_of(kListener), "t.yaml:1:1: missing required key 'clusters' in top level");
}

TEST(ConfigErrors, DurationsMustHaveAUnit) {
  const std::string head = cat(kListener,
                               "clusters:\n"
                               "  - name: app\n"
                               "    servers: [{ address: 127.0.0.1:9001 }]\n");
  EXPECT_EQ(error_of(head + "    timeouts: { connect: ten }\n"),
            "t.yaml:5:26: expected a duration like 500ms, 10s or 2m, got 'ten'");
  EXPECT_EQ(error_of(head + "    passive: { offline_timeout: 10 }\n"),
            "t.yaml:5:33: expected a duration like 500ms, 10s or 2m, got '10' (a unit is "
            "required)");
  EXPECT_EQ(error_of(head + "    timeouts: { connect: 0 }\n"),
            "t.yaml:5:26: expected a duration greater than 0, got '0'");
  EXPECT_EQ(error_of(head + "    timeouts: { connect: [1s] }\n"),
            "t.yaml:5:26: expected a duration like 500ms, 10s or 2m, got a list");
  EXPECT_EQ(error_of(cat(cat(kListener, kCluster), "drain_timeout: -1s\n")),
            "t.yaml:3:16: expected a duration like 500ms, 10s or 2m, got '-1s'");
}

TEST(ConfigErrors, WorkersMustBeBetween1And1024) {
  const std::string tail = cat(kListener, kCluster);
  EXPECT_EQ(error_of("workers: 0\n" + tail),
            "t.yaml:1:10: expected a whole number from 1 to 1024, got '0'");
  EXPECT_EQ(error_of("workers: 1025\n" + tail),
            "t.yaml:1:10: expected a whole number from 1 to 1024, got '1025'");
  EXPECT_EQ(error_of("workers: two\n" + tail),
            "t.yaml:1:10: expected a whole number from 1 to 1024, got 'two'");
  EXPECT_EQ(error_of("workers: [1]\n" + tail),
            "t.yaml:1:10: expected a whole number from 1 to 1024, got a list");
}

TEST(ConfigErrors, EmptyValueIsReportedAtItsKey) {
  // yaml-cpp places an empty value at the next token (the following line); the key is clearer.
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    policy:\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n")),
            "t.yaml:4:5: expected a string, got nothing");
}

TEST(ConfigErrors, WrongShapes) {
  EXPECT_EQ(error_of("- a\n"), "t.yaml:1:1: expected a mapping for top level, got a list");
  EXPECT_EQ(error_of(cat("listeners: web\n", kCluster)),
            "t.yaml:1:12: expected a list for 'listeners', got 'web'");
  EXPECT_EQ(error_of(cat("listeners: [web]\n", kCluster)),
            "t.yaml:1:13: expected a mapping for listener, got 'web'");
  EXPECT_EQ(error_of(cat(cat(kListener, kCluster), "access_log: { enabled: yes }\n")),
            "t.yaml:3:24: expected true or false, got 'yes'");
  EXPECT_EQ(error_of(cat(cat(kListener, kCluster), "access_log: { format: xml }\n")),
            "t.yaml:3:23: expected text or json, got 'xml'");
}

TEST(ConfigErrors, SyntaxErrorsCarryTheirPosition) {
  EXPECT_EQ(error_of("workers: 2\n"
                     "  listeners: []\n"),
            "t.yaml:2:12: illegal map value");
}

TEST(ConfigErrors, UnquotedIpv6AddressGetsAHint) {
  // YAML reads the '[' as the start of a list; yaml-cpp's own message does not say so.
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers:\n"
                         "      - address: [::1]:9001\n")),
            "t.yaml:5:23: end of map not found (quote IPv6 addresses: \"[::1]:8080\")");
  EXPECT_EQ(error_of("workers: [1\n"), "t.yaml:2:1: end of sequence flow not found");
}

TEST(ConfigErrors, MergeKeysAreRejectedClearly) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - &base\n"
                         "    name: app\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n"
                         "  - <<: *base\n"
                         "    name: b\n")),
            "t.yaml:6:5: YAML merge keys ('<<') are not supported; repeat the keys, or use an "
            "anchor for a whole value");
}

TEST(ConfigErrors, EmptyAndMultiDocumentFiles) {
  const std::string empty =
      "t.yaml:1:1: the configuration is empty (expected 'listeners' and 'clusters')";
  EXPECT_EQ(error_of(""), empty);
  EXPECT_EQ(error_of("# only a comment\n"), empty);
  EXPECT_EQ(error_of(cat(cat(kListener, kCluster), "---\nworkers: 2\n")),
            "t.yaml:4:1: expected one YAML document, found 2");
}

// --- Semantic checks ---------------------------------------------------------------------------

TEST(ConfigErrors, DuplicateListenerAndClusterNames) {
  EXPECT_EQ(error_of(cat("listeners:\n"
                         "  - { name: web, listen: 127.0.0.1:8080, cluster: app }\n"
                         "  - { name: web, listen: 127.0.0.1:8081, cluster: app }\n",
                         kCluster)),
            "t.yaml:3:13: duplicate listener name 'web' (first defined at line 2)");
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n"
                         "  - name: app\n"
                         "    servers: [{ address: 127.0.0.1:9002 }]\n")),
            "t.yaml:5:11: duplicate cluster name 'app' (first defined at line 3)");
}

TEST(ConfigErrors, InvalidName) {
  EXPECT_EQ(
      error_of(cat("listeners: [{ name: \"my web\", listen: 127.0.0.1:8080, cluster: app }]\n",
                   kCluster)),
      "t.yaml:1:21: invalid name 'my web' (use letters, digits, '_', '-' and '.')");
}

TEST(ConfigErrors, DuplicateListenAddressesButPortZeroMayRepeat) {
  EXPECT_EQ(error_of(cat("listeners:\n"
                         "  - { name: a, listen: 127.0.0.1:8080, cluster: app }\n"
                         "  - { name: b, listen: 127.0.0.1:8080, cluster: app }\n",
                         kCluster)),
            "t.yaml:3:24: listen address '127.0.0.1:8080' is already used at line 2");
  const Config c = load_config_string(cat("listeners:\n"
                                          "  - { name: a, listen: 127.0.0.1:0, cluster: app }\n"
                                          "  - { name: b, listen: 127.0.0.1:0, cluster: app }\n",
                                          kCluster),
                                      "t.yaml");
  EXPECT_EQ(c.listeners.size(), 2u);
}

TEST(ConfigErrors, BadAddresses) {
  const std::string head = cat(kListener,
                               "clusters:\n"
                               "  - name: app\n"
                               "    servers:\n");
  EXPECT_EQ(error_of(head + "      - address: 127.0.0.1\n"),
            "t.yaml:5:18: invalid server address '127.0.0.1': missing port");
  EXPECT_EQ(error_of(head + "      - address: 127.0.0.1:0\n"),
            "t.yaml:5:18: invalid server address '127.0.0.1:0': port out of range (1..65535)");
  EXPECT_EQ(error_of(cat("listeners:\n"
                         "  - name: web\n"
                         "    listen: 127.0.0.1:70000\n"
                         "    cluster: app\n",
                         kCluster)),
            "t.yaml:3:13: invalid listen address '127.0.0.1:70000': port out of range (0..65535)");
}

TEST(ConfigErrors, DuplicateServerAddressesCompareCanonically) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers:\n"
                         "      - address: LOCALHOST:9001\n"
                         "      - address: localhost:09001\n")),
            "t.yaml:6:18: duplicate server address 'localhost:9001' (first at line 5)");
}

TEST(ConfigErrors, ClusterWithNoServers) {
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    servers: []\n")),
            "t.yaml:4:14: 'servers' must not be empty");
}

TEST(ConfigErrors, UnknownPolicyListsTheValidOnes) {
  const auto names = core::PolicyRegistry::builtin().names();
  ASSERT_NE(std::find(names.begin(), names.end(), "round_robin"), names.end());
  std::string valid;
  for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
  EXPECT_EQ(error_of(cat(kListener,
                         "clusters:\n"
                         "  - name: app\n"
                         "    policy: fastest\n"
                         "    servers: [{ address: 127.0.0.1:9001 }]\n")),
            "t.yaml:4:13: unknown policy 'fastest' (expected one of: " + valid + ")");
}

TEST(ConfigErrors, BadHashKey) {
  const std::string head = cat(kListener,
                               "clusters:\n"
                               "  - name: app\n"
                               "    servers: [{ address: 127.0.0.1:9001 }]\n");
  for (const char* bad : {"header:", "cookie:a b", "ip", "header"}) {
    EXPECT_EQ(error_of(head + "    hash_key: \"" + bad + "\"\n"),
              std::string("t.yaml:5:15: expected source_ip, path, header:NAME or cookie:NAME, "
                          "got '") +
                  bad + "'");
  }
}

TEST(ConfigErrors, RouteToUnknownCluster) {
  EXPECT_EQ(error_of(cat("listeners:\n"
                         "  - name: web\n"
                         "    listen: 127.0.0.1:8080\n"
                         "    routes:\n"
                         "      - match: { path_prefix: /v1 }\n"
                         "        cluster: api\n",
                         kCluster)),
            "t.yaml:6:18: unknown cluster 'api' (defined clusters: app)");
}

TEST(ConfigErrors, TcpListenerTakesOneClusterAndNoRoutes) {
  const std::string head =
      "listeners:\n"
      "  - name: pg\n"
      "    listen: 127.0.0.1:5433\n"
      "    mode: tcp\n";
  EXPECT_EQ(error_of(head + "    routes: [{ cluster: app }]\n" + std::string(kCluster)),
            "t.yaml:5:5: a tcp listener takes one 'cluster', not 'routes'");
  EXPECT_EQ(error_of(head + std::string(kCluster)),
            "t.yaml:2:5: tcp listener 'pg' needs a 'cluster'");
  EXPECT_EQ(error_of(head + "    cluster: db\n" + std::string(kCluster)),
            "t.yaml:5:14: unknown cluster 'db' (defined clusters: app)");
}

TEST(ConfigErrors, HttpListenerNeedsRoutesOrClusterButNotBoth) {
  const std::string head =
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:8080\n";
  EXPECT_EQ(error_of(head + std::string(kCluster)),
            "t.yaml:2:5: http listener 'web' needs 'routes' or 'cluster'");
  EXPECT_EQ(
      error_of(head + "    routes: [{ cluster: app }]\n    cluster: app\n" + std::string(kCluster)),
      "t.yaml:5:5: give either 'routes' or 'cluster', not both");
  EXPECT_EQ(error_of(head + "    routes: []\n" + std::string(kCluster)),
            "t.yaml:4:13: 'routes' must not be empty");
  EXPECT_EQ(error_of(head + "    mode: udp\n    cluster: app\n" + std::string(kCluster)),
            "t.yaml:4:11: expected http or tcp, got 'udp'");
}

TEST(ConfigErrors, RouteShadowedByAnEarlierOneIsUnreachable) {
  const std::string head =
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:8080\n"
      "    routes:\n";
  EXPECT_EQ(error_of(head +
                     "      - match: { path_prefix: /api }\n"
                     "        cluster: app\n"
                     "      - match: { path_prefix: /api/v2 }\n"
                     "        cluster: app\n" +
                     std::string(kCluster)),
            "t.yaml:7:9: route can never match: the route at line 5 takes all of its requests "
            "(first match wins)");
  EXPECT_EQ(error_of(head +
                     "      - cluster: app\n"
                     "      - match: { host: a.example }\n"
                     "        cluster: app\n" +
                     std::string(kCluster)),
            "t.yaml:6:9: route can never match: the route at line 5 takes all of its requests "
            "(first match wins)");
  // The same routes, most specific first, are fine; so is a host-specific route after a route
  // for another host.
  const Config c = load_config_string(head +
                                          "      - match: { host: a.example, path_prefix: /api }\n"
                                          "        cluster: app\n"
                                          "      - match: { host: b.example }\n"
                                          "        cluster: app\n"
                                          "      - match: { path_prefix: /api/v2 }\n"
                                          "        cluster: app\n"
                                          "      - match: { path_prefix: /api }\n"
                                          "        cluster: app\n"
                                          "      - cluster: app\n" +
                                          std::string(kCluster),
                                      "t.yaml");
  EXPECT_EQ(c.listeners.at(0).routes.size(), 5u);
}

TEST(ConfigErrors, RouteMatchValues) {
  const std::string head =
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:8080\n"
      "    routes:\n";
  EXPECT_EQ(error_of(head + "      - match: { path_prefix: v1 }\n        cluster: app\n" +
                     std::string(kCluster)),
            "t.yaml:5:31: expected a path prefix starting with '/' and without spaces, got 'v1'");
  EXPECT_EQ(error_of(head + "      - match: { host: \"a.example:80\" }\n        cluster: app\n" +
                     std::string(kCluster)),
            "t.yaml:5:24: invalid host 'a.example:80' (a host name without port, letters, digits, "
            "'-', '_' and '.')");
}

TEST(ConfigErrors, ListenerLimits) {
  const std::string head =
      "listeners:\n"
      "  - name: web\n"
      "    listen: 127.0.0.1:8080\n";
  const std::string tail = "    cluster: app\n" + std::string(kCluster);
  EXPECT_EQ(error_of(head + "    limits: { max_head_bytes: 4k, max_uri_bytes: 8k }\n" + tail),
            "t.yaml:4:50: max_uri_bytes (8k) must not exceed max_head_bytes (4k)");
  EXPECT_EQ(error_of(head + "    limits: { max_head_bytes: 2m }\n" + tail),
            "t.yaml:4:31: expected a size from 1k to 1m, got '2m'");
  EXPECT_EQ(error_of(head + "    limits: { max_head_bytes: lots }\n" + tail),
            "t.yaml:4:31: expected a size like 16384, 16k or 1m, got 'lots'");
  EXPECT_EQ(error_of(head + "    limits: { max_connections: 0 }\n" + tail),
            "t.yaml:4:32: expected a whole number from 1 to 1000000, got '0'");
}

TEST(ConfigErrors, FileThatCannotBeRead) {
  try {
    load_config_file("/nonexistent/fulcrum.yaml");
    FAIL() << "loaded a file that does not exist";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/fulcrum.yaml: cannot read: No such file or directory");
    EXPECT_EQ(e.line(), 0);
  }
}

TEST(ConfigErrors, FileThatNeverEndsIsRefusedNotReadForever) {
  try {
    load_config_file("/dev/zero");
    FAIL() << "loaded /dev/zero";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/dev/zero: larger than 64 MiB: not a configuration file");
  }
}

TEST(ConfigErrors, ErrorCarriesItsParts) {
  try {
    load_config_string(cat("workers: 0\n", cat(kListener, kCluster)), "x.yaml");
    FAIL() << "accepted workers: 0";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "x.yaml");
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.column(), 10);
    EXPECT_EQ(e.message(), "expected a whole number from 1 to 1024, got '0'");
  }
}

// --- Values and defaults -----------------------------------------------------------------------

TEST(ConfigDefaults, MinimalConfigGetsEveryDefault) {
  const Config c = load_config_string(cat(kListener, kCluster), "t.yaml");
  const uint32_t cores = std::thread::hardware_concurrency();
  EXPECT_EQ(c.workers, std::clamp<uint32_t>(cores, 1, 1024));
  EXPECT_EQ(c.source_path, "t.yaml");
  EXPECT_EQ(c.drain_timeout, seconds(30));
  EXPECT_TRUE(c.access_log.enabled);
  EXPECT_EQ(c.access_log.format, AccessLogFormat::kText);
  EXPECT_EQ(c.access_log.path, "stdout");

  ASSERT_EQ(c.listeners.size(), 1u);
  const ListenerConfig& l = c.listeners[0];
  EXPECT_EQ(l.name, "web");
  EXPECT_EQ(l.host, "127.0.0.1");
  EXPECT_EQ(l.port, 8080);
  EXPECT_EQ(l.mode, ListenerMode::kHttp);
  // `cluster:` on an http listener is shorthand for one default route.
  EXPECT_EQ(l.routes, (std::vector<RouteConfig>{{"", "", "app"}}));
  EXPECT_EQ(l.cluster, "");
  EXPECT_EQ(l.timeouts.client_header, seconds(10));
  EXPECT_EQ(l.timeouts.client_idle, seconds(60));
  EXPECT_EQ(l.limits.max_connections, 10000u);
  EXPECT_EQ(l.limits.max_head_bytes, 16384u);
  EXPECT_EQ(l.limits.max_uri_bytes, 8192u);

  ASSERT_EQ(c.clusters.size(), 1u);
  const ClusterConfig& k = c.clusters[0];
  EXPECT_EQ(k.name, "app");
  EXPECT_EQ(k.policy, "round_robin");
  EXPECT_EQ(k.hash_key, (HashKey{HashKey::Kind::kSourceIp, ""}));
  EXPECT_EQ(k.servers, (std::vector<core::ServerSpec>{{"127.0.0.1:9001", 1, false}}));
  EXPECT_EQ(k.passive.attempts, 3u);
  EXPECT_EQ(k.passive.offline_timeout, seconds(10));
  EXPECT_EQ(k.passive.count, core::FailureKinds{core::FailureKind::kConnectFailure});
  EXPECT_EQ(k.retries, 2u);
  EXPECT_EQ(k.retry_on, core::FailureKinds{core::FailureKind::kConnectFailure});
  EXPECT_EQ(k.timeouts.connect, seconds(1));
  EXPECT_EQ(k.timeouts.response, seconds(30));
  EXPECT_EQ(k.timeouts.idle, seconds(60));
  EXPECT_EQ(k.max_idle_per_server, 64u);
  EXPECT_EQ(k.max_connections_per_server, 0u);
  EXPECT_EQ(c.find_cluster("app"), &k);
  EXPECT_EQ(c.find_cluster("nope"), nullptr);
}

TEST(ConfigValues, EverySettingIsRead) {
  const Config c = load_config_string(
      "workers: 3\n"
      "listeners:\n"
      "  - name: web\n"
      "    listen: \"[::1]:0\"\n"
      "    timeouts: { client_header: 500ms, client_idle: 2m }\n"
      "    limits: { max_connections: 7, max_head_bytes: 32k, max_uri_bytes: 2048 }\n"
      "    routes:\n"
      "      - match: { host: API.Example.com, path_prefix: /v1 }\n"
      "        cluster: api\n"
      "      - match: {}\n"
      "        cluster: api\n"
      "  - { name: pg, listen: 127.0.0.1:5433, mode: tcp, cluster: api }\n"
      "clusters:\n"
      "  - name: api\n"
      "    policy: maglev\n"
      "    hash_key: header:X-User\n"
      "    servers:\n"
      "      - { address: 10.0.0.1:80, weight: 0 }\n"
      "      - { address: Backend.Internal:81, weight: 10000, backup: true }\n"
      "    passive: { attempts: 5, offline_timeout: 0 }\n"
      "    retries: 0\n"
      "    timeouts: { connect: 250ms, response: 1h, idle: 90s }\n"
      "    pool: { max_idle_per_server: 0 }\n"
      "    limits: { max_connections_per_server: 100 }\n"
      "access_log: { enabled: false, format: json, path: /var/log/fulcrum.log }\n"
      "drain_timeout: 0s\n",
      "t.yaml");
  EXPECT_EQ(c.workers, 3u);
  const ListenerConfig& web = c.listeners.at(0);
  EXPECT_EQ(web.host, "::1");
  EXPECT_EQ(web.port, 0);
  EXPECT_EQ(web.timeouts.client_header, milliseconds(500));
  EXPECT_EQ(web.timeouts.client_idle, minutes(2));
  EXPECT_EQ(web.limits.max_connections, 7u);
  EXPECT_EQ(web.limits.max_head_bytes, 32768u);
  EXPECT_EQ(web.limits.max_uri_bytes, 2048u);
  EXPECT_EQ(web.routes,
            (std::vector<RouteConfig>{{"api.example.com", "/v1", "api"}, {"", "", "api"}}));
  const ListenerConfig& pg = c.listeners.at(1);
  EXPECT_EQ(pg.mode, ListenerMode::kTcp);
  EXPECT_EQ(pg.cluster, "api");
  EXPECT_TRUE(pg.routes.empty());

  const ClusterConfig& api = c.clusters.at(0);
  EXPECT_EQ(api.policy, "maglev");
  EXPECT_EQ(api.hash_key, (HashKey{HashKey::Kind::kHeader, "x-user"}));
  EXPECT_EQ(api.servers, (std::vector<core::ServerSpec>{{"10.0.0.1:80", 0, false},
                                                        {"backend.internal:81", 10000, true}}));
  EXPECT_EQ(api.passive.attempts, 5u);
  EXPECT_FALSE(api.passive.enabled());
  EXPECT_EQ(api.retries, 0u);
  EXPECT_EQ(api.timeouts.connect, milliseconds(250));
  EXPECT_EQ(api.timeouts.response, std::chrono::hours(1));
  EXPECT_EQ(api.timeouts.idle, seconds(90));
  EXPECT_EQ(api.max_idle_per_server, 0u);
  EXPECT_EQ(api.max_connections_per_server, 100u);
  EXPECT_FALSE(c.access_log.enabled);
  EXPECT_EQ(c.access_log.format, AccessLogFormat::kJson);
  EXPECT_EQ(c.access_log.path, "/var/log/fulcrum.log");
  EXPECT_EQ(c.drain_timeout, seconds(0));
}

// --- retry_on and passive.count ---------------------------------------------------------------

std::string with_cluster_lines(std::string_view lines) {
  return cat(kListener, cat("clusters:\n"
                            "  - name: app\n"
                            "    servers: [{ address: 127.0.0.1:9001 }]\n",
                            lines));
}

TEST(ConfigValues, RetryOnAndPassiveCountTakeTheFailureWords) {
  using core::FailureKind;
  const ClusterConfig every =
      load_config_string(
          with_cluster_lines("    retry_on: [connect_failure, reset_before_response, "
                             "response_timeout]\n"
                             "    passive:\n"
                             "      count: [response_timeout, connect_failure]\n"),
          "t.yaml")
          .clusters.at(0);
  EXPECT_EQ(every.retry_on,
            (core::FailureKinds{FailureKind::kConnectFailure, FailureKind::kResetBeforeResponse,
                                FailureKind::kResponseTimeout}));
  EXPECT_EQ(every.passive.count,
            (core::FailureKinds{FailureKind::kConnectFailure, FailureKind::kResponseTimeout}));
  EXPECT_EQ(every.passive.attempts, 3u);  // The rest of passive keeps its defaults.
  const ClusterConfig plain =
      load_config_string(with_cluster_lines("    retry_on: [connect_failure]\n"), "t.yaml")
          .clusters.at(0);
  EXPECT_EQ(plain.retry_on, core::FailureKinds{FailureKind::kConnectFailure});
}

TEST(ConfigErrors, RetryOnWords) {
  EXPECT_EQ(error_of(with_cluster_lines("    retry_on: [connect_failure, reset]\n")),
            "t.yaml:5:33: expected connect_failure, reset_before_response or response_timeout, "
            "got 'reset'");
  EXPECT_EQ(error_of(with_cluster_lines("    retry_on: [response_timeout]\n")),
            "t.yaml:5:15: 'retry_on' must list connect_failure (a request the server never "
            "received always goes to the next server)");
  EXPECT_EQ(error_of(with_cluster_lines("    retry_on: []\n")),
            "t.yaml:5:15: 'retry_on' must not be empty");
  EXPECT_EQ(error_of(with_cluster_lines("    retry_on: connect_failure\n")),
            "t.yaml:5:15: expected a list for 'retry_on', got 'connect_failure'");
  EXPECT_EQ(error_of(with_cluster_lines("    retry_on: [connect_failure, response_timeout, "
                                        "response_timeout]\n")),
            "t.yaml:5:51: 'response_timeout' is listed twice in 'retry_on'");
  EXPECT_EQ(error_of(with_cluster_lines("    passive: { count: [reset_before_response] }\n")),
            "t.yaml:5:23: 'count' must list connect_failure (connect failures always count; "
            "offline_timeout: 0 turns tracking off)");
  EXPECT_EQ(error_of(with_cluster_lines("    passive: { count: [connect_failures] }\n")),
            "t.yaml:5:24: expected connect_failure, reset_before_response or response_timeout, "
            "got 'connect_failures'");
}

TEST(ConfigValues, HashKeyKinds) {
  const auto hash_key_of = [](const std::string& text) {
    return load_config_string(
               cat(kListener, "clusters: [{ name: app, policy: ring_hash, hash_key: \"" + text +
                                  "\", servers: [{ address: 127.0.0.1:9001 }] }]\n"),
               "t.yaml")
        .clusters.at(0)
        .hash_key;
  };
  EXPECT_EQ(hash_key_of("source_ip"), (HashKey{HashKey::Kind::kSourceIp, ""}));
  EXPECT_EQ(hash_key_of("path"), (HashKey{HashKey::Kind::kPath, ""}));
  // Cookie names are case-sensitive; header names are not and are stored lower-cased.
  EXPECT_EQ(hash_key_of("cookie:SessionID"), (HashKey{HashKey::Kind::kCookie, "SessionID"}));
  EXPECT_EQ(hash_key_of("header:X-Real-IP"), (HashKey{HashKey::Kind::kHeader, "x-real-ip"}));
}

TEST(ConfigValues, HashKeyOnANonHashPolicyIsAccepted) {
  const Config c = load_config_string(
      cat(kListener,
          "clusters: [{ name: app, policy: random, hash_key: path, servers: [{ address: "
          "127.0.0.1:9001 }] }]\n"),
      "t.yaml");
  EXPECT_EQ(c.clusters.at(0).hash_key.kind, HashKey::Kind::kPath);
}

TEST(ConfigValues, KeyOrderDoesNotMatterAndAnchorsWork) {
  // Clusters before listeners, and shared settings through a YAML anchor.
  const Config c = load_config_string(
      "clusters:\n"
      "  - name: a\n"
      "    timeouts: &fast { connect: 100ms, response: 2s }\n"
      "    servers: [{ address: 127.0.0.1:9001 }]\n"
      "  - name: b\n"
      "    timeouts: *fast\n"
      "    servers: [{ address: 127.0.0.1:9002 }]\n"
      "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: b }]\n",
      "t.yaml");
  EXPECT_EQ(c.clusters.at(1).timeouts.connect, milliseconds(100));
  EXPECT_EQ(c.clusters.at(1).timeouts.response, seconds(2));
  EXPECT_EQ(c.listeners.at(0).routes.at(0).cluster, "b");
}

}  // namespace
}  // namespace fulcrum::config
