#pragma once

// The proxy's configuration as plain values, and the YAML loader that produces it. Every key is
// documented in docs/configuration.md; the loader rejects anything it does not know, naming the
// position (file:line:column, 1-based) and what it expected, so a typo never silently becomes a
// default.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
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

struct ClusterConfig {
  std::string name;
  std::string policy = "round_robin";
  HashKey hash_key;
  /// Addresses are canonical "host:port" ("[v6]:port"), host lower-cased.
  std::vector<core::ServerSpec> servers;
  core::PassiveOptions passive;
  uint32_t retries = 2;
  ClusterTimeouts timeouts;
  uint32_t max_idle_per_server = 64;
  uint32_t max_connections_per_server = 0;  ///< 0 = unlimited.
};

enum class AccessLogFormat : uint8_t { kText, kJson };

struct AccessLogConfig {
  bool enabled = true;
  AccessLogFormat format = AccessLogFormat::kText;
  std::string path = "stdout";  ///< "stdout", "stderr" or a file path.
};

struct Config {
  uint32_t workers = 1;  ///< Default: hardware_concurrency(), clamped to 1..1024.
  std::vector<ListenerConfig> listeners;
  std::vector<ClusterConfig> clusters;
  AccessLogConfig access_log;
  Nanos drain_timeout{std::chrono::seconds(30)};
  std::string source_path;  ///< File the configuration came from (or the name given).

  /// nullptr when no cluster has that name.
  const ClusterConfig* find_cluster(std::string_view name) const;
};

/// A configuration problem. what() is "FILE:LINE:COLUMN: message", or "FILE: message" when the
/// problem has no position (the file cannot be read).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }  ///< 1-based; 0 when there is no position.
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

/// Throws ConfigError.
Config load_config_file(const std::string& path);
/// `name` stands for the file name in errors and in Config::source_path. Throws ConfigError.
Config load_config_string(std::string_view yaml, const std::string& name);

}  // namespace fulcrum::config
