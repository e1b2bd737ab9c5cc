#pragma once

// The proxy's configuration as plain values, and the YAML loader that produces it. Every key is
// documented in docs/configuration.md; the loader rejects anything it does not know, naming the
// position (file:line:column, 1-based) and what it expected, so a typo never silently becomes a
// default.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/health_options.h"
#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::config {

using core::Nanos;

enum class ListenerMode : uint8_t { kHttp, kTcp };

/// One HTTP route. An empty field matches anything, so a route with both empty is a default.
struct RouteConfig {
  std::string host;         ///< Exact Host match, lower-cased, without port; empty = any.
  std::string path_prefix;  ///< Byte-wise prefix of the request path, starts with '/'; empty = any.
  std::string cluster;

  bool operator==(const RouteConfig&) const = default;
};

struct ListenerTimeouts {
  Nanos client_header{std::chrono::seconds(10)};  ///< Whole request head must arrive within this.
  Nanos client_idle{std::chrono::seconds(60)};    ///< Idle client connection is closed after this.
};

struct ListenerLimits {
  uint32_t max_connections = 10000;
  uint32_t max_head_bytes = 16384;
  uint32_t max_uri_bytes = 8192;
};

/// TLS versions a listener may require at least.
enum class TlsVersion : uint8_t { k1_2, k1_3 };

/// Where a value was written in Config::source_path, 1-based as in ConfigError; {0, 0}: not
/// from a file. Kept for the checks made after loading (certificate files, tls/config_files.h),
/// so their errors point where the value is.
struct Position {
  int line = 0;
  int column = 0;

  bool operator==(const Position&) const = default;
};

/// One certificate a TLS listener serves. Paths are resolved against the configuration file's
/// directory; tls::check_config_files loads and checks both.
struct TlsCertificateFiles {
  std::string cert;  ///< PEM: the certificate, then any intermediates.
  std::string key;   ///< PEM: its unencrypted private key.
  Position cert_at;  ///< Where `cert` is written: a bad certificate is reported there.
  Position key_at;   ///< Where `key` is written.

  /// The same files, wherever the configuration names them.
  bool operator==(const TlsCertificateFiles& other) const {
    return cert == other.cert && key == other.key;
  }
};

/// A listener's `tls`: TLS terminated here (docs/tls.md).
struct TlsListenerConfig {
  bool enabled = false;                           ///< The listener has a `tls` section.
  std::vector<TlsCertificateFiles> certificates;  ///< SNI picks one; the first is the default.
  TlsVersion min_version = TlsVersion::k1_2;
  std::vector<std::string> alpn;  ///< Preference order; default [http/1.1] in http mode.
  bool session_tickets = true;
  Nanos ticket_key_rotation{std::chrono::hours(12)};
};

/// A cluster's `tls`: TLS originated to its servers (docs/tls.md).
struct TlsClusterConfig {
  bool enabled = false;
  bool verify = true;   ///< Check the chain and the server's name (or IP address).
  std::string ca_file;  ///< Resolved path; empty: the system's trust store.
  Position ca_file_at;  ///< Where `ca_file` is written.
  std::string sni;      ///< Name sent and verified; empty: the server's host name.
  std::vector<std::string> alpn{"http/1.1"};
};

struct ListenerConfig {
  std::string name;
  std::string host;  ///< Without brackets for IPv6 ("::1").
  uint16_t port = 0;
  ListenerMode mode = ListenerMode::kHttp;
  /// http mode: first match wins; `cluster:` shorthand in the file becomes one default route.
  std::vector<RouteConfig> routes;
  std::string cluster;  ///< tcp mode only: the one cluster; empty in http mode.
  ListenerTimeouts timeouts;
  ListenerLimits limits;
  TlsListenerConfig tls;
};

/// What ring_hash and maglev hash a request on.
struct HashKey {
  enum class Kind : uint8_t { kSourceIp, kHeader, kCookie, kPath };
  Kind kind = Kind::kSourceIp;
  std::string name;  ///< Header or cookie name for kHeader / kCookie; empty otherwise.

  bool operator==(const HashKey&) const = default;
};

struct ClusterTimeouts {
  Nanos connect{std::chrono::seconds(1)};
  Nanos response{std::chrono::seconds(30)};  ///< Until the response head has arrived.
  Nanos idle{std::chrono::seconds(60)};      ///< Pooled or in-use server connection idle limit.
};

enum class HealthCheckType : uint8_t { kNone, kTcp, kHttp };

/// An inclusive range of HTTP status codes an http health check accepts ("200-399", or "204").
struct StatusRange {
  uint16_t low = 200;
  uint16_t high = 399;

  bool operator==(const StatusRange&) const = default;
};

/// Active health checks of a cluster's servers. Defaults are resolved by the loader, so every
/// interval here is the one in force.
struct HealthCheckConfig {
  HealthCheckType type = HealthCheckType::kNone;  ///< kNone: no `health_check`, no checks.
  std::string method = "GET";                     ///< http only, as the rest below.
  std::string path = "/";
  std::string host;  ///< Host header; empty: the server's configured address.
  std::vector<StatusRange> expect_status{StatusRange{200, 399}};
  std::string expect_body;  ///< Substring the body must contain; empty: not checked.
  /// http only: one keep-alive connection per server carries every check (Envoy's default).
  bool reuse_connection = true;
  Nanos interval{std::chrono::seconds(2)};
  Nanos timeout{std::chrono::seconds(1)};
  uint32_t jitter_percent = 10;  ///< Each delay is drawn within ±this percentage.
  uint32_t rise = 2;             ///< Consecutive successes that bring a down server up.
  uint32_t fall = 3;             ///< Consecutive failures that take an up server down.
  bool initially_up = true;      ///< `initial_state`.
  /// While a transition is under way (0 < count < rise/fall) and after passive errors.
  Nanos fast_interval{std::chrono::milliseconds(500)};
  Nanos down_interval{std::chrono::seconds(2)};  ///< While down.

  bool enabled() const { return type != HealthCheckType::kNone; }
  bool operator==(const HealthCheckConfig&) const = default;
};

/// The agents' standard port (Equalizer's, and fulcrum-agent's default).
inline constexpr uint16_t kStandardAgentPort = 1510;

/// Server agents (Equalizer's server agents, HAProxy's agent-check); see docs/agent.md.
struct AgentConfig {
  /// 0: no agent (unless a server sets agent_port). Without an `agent` section it stays 0; a
  /// section without `port` sets kStandardAgentPort.
  uint16_t port = 0;
  std::string send;  ///< Sent after connecting; empty: nothing, just read.
  Nanos interval{std::chrono::seconds(1)};
  Nanos timeout{std::chrono::milliseconds(500)};
  bool require_response = false;  ///< true: a silent agent takes its server out.
  bool tls = false;  ///< Query over TLS with the cluster's `tls` settings (CA, verification).

  bool operator==(const AgentConfig&) const = default;
};

/// Where a cluster's membership comes from (docs/configuration.md, `discovery`).
enum class DiscoveryType : uint8_t { kStatic, kDns, kEtcd, kFile };

/// TLS to etcd: a `tls` mapping beside the etcd endpoints (docs/discovery.md, "etcd with TLS
/// and authentication"). Its presence makes every endpoint TLS.
struct EtcdTlsConfig {
  bool enabled = false;
  std::string ca_file;  ///< Resolved path; empty: the system's trust store.
  Position ca_file_at;
  /// Offered to etcd (its --client-cert-auth); `cert` empty: none.
  TlsCertificateFiles client_certificate;
  std::string sni;  ///< Name sent and verified; empty: each endpoint's host.

  bool operator==(const EtcdTlsConfig&) const = default;
};

/// etcd authentication: an `auth` mapping beside the etcd endpoints. The password stays in its
/// file (read at each authentication, never logged); the loader only checks it can be read.
struct EtcdAuthConfig {
  std::string username;       ///< Empty: no authentication.
  std::string password_file;  ///< Resolved path.

  bool operator==(const EtcdAuthConfig&) const = default;
};

struct DiscoveryConfig {
  DiscoveryType type = DiscoveryType::kStatic;
  /// Publish an empty membership when the source reports one; false keeps the last good one.
  bool allow_empty = false;
  // dns: an SRV name (starts with '_', no `port`) or a host name with `port` (A/AAAA).
  std::string name;
  uint16_t port = 0;                   ///< 0: `name` is an SRV name.
  std::vector<std::string> resolvers;  ///< Canonical "ip:port"; empty: /etc/resolv.conf.
  Nanos min_ttl{std::chrono::seconds(1)};
  Nanos max_ttl{std::chrono::minutes(5)};
  // etcd
  /// Canonical "host:port", or "https://host:port" for TLS (every one when `etcd_tls` is set).
  std::vector<std::string> endpoints;
  std::string prefix;  ///< Key prefix, e.g. "/fulcrum/api/".
  EtcdTlsConfig etcd_tls;
  EtcdAuthConfig etcd_auth;
  // file: resolved against the configuration file's directory.
  std::string path;

  bool discovered() const { return type != DiscoveryType::kStatic; }
  bool operator==(const DiscoveryConfig&) const = default;
};

struct ClusterConfig {
  std::string name;
  std::string policy = "round_robin";
  HashKey hash_key;
  /// Addresses are canonical "host:port" ("[v6]:port"), host lower-cased.
  std::vector<core::ServerSpec> servers;
  core::PassiveOptions passive;  ///< passive.count: the failures that count towards attempts.
  uint32_t retries = 2;
  /// Failures after which a request goes to the next server. connect_failure always; the others
  /// only for requests that may be replayed (idempotent, body entirely buffered).
  core::FailureKinds retry_on{core::FailureKind::kConnectFailure};
  ClusterTimeouts timeouts;
  uint32_t max_idle_per_server = 64;
  uint32_t max_connections_per_server = 0;  ///< 0 = unlimited.
  HealthCheckConfig health_check;
  AgentConfig agent;
  core::HealthOptions health;  ///< slow_start, panic_threshold, outlier.
  TlsClusterConfig tls;
  DiscoveryConfig discovery;  ///< Not static: `servers` is empty and the source fills it.
};

enum class AccessLogFormat : uint8_t { kText, kJson };

struct AccessLogConfig {
  bool enabled = true;
  AccessLogFormat format = AccessLogFormat::kText;
  std::string path = "stdout";  ///< "stdout", "stderr" or a file path.
};

/// The admin API listener (docs/admin.md). Off unless the `admin` section is present.
struct AdminConfig {
  bool enabled = false;
  std::string host;  ///< An IP address; IPv6 without brackets.
  uint16_t port = 0;
  bool loopback = false;   ///< `host` is a loopback address: reads need no token.
  std::string token_file;  ///< Resolved against the configuration file's directory.
  std::string token;       ///< The file's content, surrounding whitespace removed; empty: none.
  /// Where run-time server changes are journalled (resolved against the configuration file's
  /// directory); "" turns the journal off; unset: "<configuration file>.state".
  std::optional<std::string> state_file;
};

/// Shared health across fulcrum instances (docs/discovery.md, "Shared health"). Off unless the
/// `health_sharing` section is present.
struct HealthSharingConfig {
  bool enabled = false;
  /// etcd, canonical "host:port", or "https://host:port" for TLS (every one when `tls` is set).
  std::vector<std::string> endpoints;
  EtcdTlsConfig tls;
  EtcdAuthConfig auth;
  std::string prefix = "/fulcrum/health/";
  /// Live instances (this one included) that must report a server down for it to be down here.
  uint32_t quorum = 2;
  std::string instance;                 ///< Unique per instance; default "<hostname>-<pid>".
  Nanos ttl{std::chrono::seconds(10)};  ///< The lease on this instance's reports.

  bool operator==(const HealthSharingConfig&) const = default;
};

struct Config {
  uint32_t workers = 1;  ///< Default: hardware_concurrency(), clamped to 1..1024.
  std::vector<ListenerConfig> listeners;
  std::vector<ClusterConfig> clusters;
  AccessLogConfig access_log;
  Nanos drain_timeout{std::chrono::seconds(30)};
  /// Server names are resolved again this often; an address that changed is published to the
  /// cluster. 0: resolve only at start.
  Nanos dns_refresh{std::chrono::seconds(30)};
  AdminConfig admin;
  HealthSharingConfig health_sharing;
  std::string source_path;  ///< File the configuration came from (or the name given).

  /// nullptr when no cluster has that name.
  const ClusterConfig* find_cluster(std::string_view name) const;
};

/// A configuration problem. what() is "FILE:LINE:COLUMN: message", or "FILE: message" when the
/// problem has no position (the file cannot be read). A file with several problems gives one
/// ConfigError listing them all (errors()); file(), line(), column() and message() are then the
/// first one's, and what() holds one line per problem.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string message);
  /// `shown` (at least one, in file order) out of `total` problems found.
  ConfigError(std::vector<ConfigError> shown, std::size_t total);

  const std::string& file() const { return file_; }
  int line() const { return line_; }  ///< 1-based; 0 when there is no position.
  int column() const { return column_; }
  const std::string& message() const { return message_; }
  /// Every problem reported, in file order: this one alone, or the list it was made of.
  std::vector<ConfigError> errors() const;
  /// How many problems were found; more than errors().size() when the list was cut short.
  std::size_t total() const { return total_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
  std::vector<ConfigError> list_;  ///< Empty for a single problem.
  std::size_t total_ = 1;
};

/// Problems gathered while checking a configuration, so that one run reports them all (as a
/// compiler does) instead of only the first.
class ConfigErrors {
 public:
  /// At most this many are reported, the first in the file.
  static constexpr std::size_t kMaxReported = 20;

  /// Records `error`; one with several problems (errors()) adds each.
  void add(const ConfigError& error);
  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  /// Throws one ConfigError holding the first kMaxReported problems in file order, if any.
  void throw_if_any() const;

 private:
  std::vector<ConfigError> errors_;
};

/// Throws ConfigError listing every problem found (up to ConfigErrors::kMaxReported).
Config load_config_file(const std::string& path);
/// `name` stands for the file name in errors and in Config::source_path. Throws ConfigError
/// listing every problem found.
Config load_config_string(std::string_view yaml, const std::string& name);

/// As above, but the problems are added to `errors` instead of thrown, and the parts that could
/// be read are returned, so that later checks (tls::check_config_files) can add theirs to the
/// same list. The result must not be used when `errors` is not empty.
Config load_config_file(const std::string& path, ConfigErrors& errors);
Config load_config_string(std::string_view yaml, const std::string& name, ConfigErrors& errors);

}  // namespace fulcrum::config
