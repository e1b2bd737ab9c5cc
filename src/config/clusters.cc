// Parsing and checking of the `clusters` section.

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "config/sections.h"
#include "config/tls.h"
#include "config/values.h"
#include "core/policy_registry.h"

namespace fulcrum::config::detail {
namespace {

constexpr uint64_t kMaxAttempts = 1000;
constexpr uint64_t kMaxRetries = 10;
constexpr uint64_t kMaxIdlePerServer = 65536;
constexpr uint64_t kMaxConnectionsPerServer = 1'000'000;

// RFC 9110 token characters: what a header or cookie name may contain.
bool is_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kExtra.find(c) == std::string_view::npos) return false;
  }
  return !s.empty();
}

HashKey read_hash_key(const Source& source, const Field& field) {
  const std::string text = read_string(source, field);
  auto fail = [&] {
    source.fail(
        field.mark(),
        fmt::format("expected source_ip, path, header:NAME or cookie:NAME, got '{}'", text));
  };
  if (text == "source_ip") return HashKey{HashKey::Kind::kSourceIp, ""};
  if (text == "path") return HashKey{HashKey::Kind::kPath, ""};
  for (const auto& [prefix, kind] :
       {std::pair{std::string_view("header:"), HashKey::Kind::kHeader},
        std::pair{std::string_view("cookie:"), HashKey::Kind::kCookie}}) {
    if (!text.starts_with(prefix)) continue;
    std::string name = text.substr(prefix.size());
    if (!is_token(name)) fail();
    // Header names compare case-insensitively, so store them lower-cased; cookie names do not.
    if (kind == HashKey::Kind::kHeader) {
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return HashKey{kind, std::move(name)};
  }
  fail();
  return {};
}

// A list of schema::kFailureKindWords: `retry_on` or passive `count`. connect_failure must be
// listed: both always act on it, and a list that leaves it out would say otherwise.
core::FailureKinds read_failure_kinds(const Source& source, const Field& field,
                                      std::string_view always_because) {
  core::FailureKinds kinds;
  bool all_read = true;
  for (const Field& item : read_list(source, field)) {
    all_read &= source.recover([&] {
      const auto kind =
          static_cast<core::FailureKind>(read_choice(source, item, schema::kFailureKindWords));
      if (kinds.contains(kind)) {
        source.fail(item.mark(),
                    fmt::format("'{}' is listed twice in '{}'",
                                schema::kFailureKindWords[static_cast<int>(kind)], field.key));
      }
      kinds.add(kind);
    });
  }
  // A word already reported may have been meant as connect_failure: don't guess.
  if (all_read && !kinds.contains(core::FailureKind::kConnectFailure)) {
    source.fail(field.mark(),
                fmt::format("'{}' must list connect_failure ({})", field.key, always_because));
  }
  return kinds;
}

// `seen` maps each cluster name read so far to its line, to report duplicates.
ClusterConfig read_cluster(const Source& source, const Field& item,
                           std::map<std::string, int>& seen) {
  const MapReader m(source, item, schema::kCluster);
  ClusterConfig c;
  source.recover([&] {
    const Field& name = m.require("name");
    // A bad name is still the one routes use: keep it, so they are not reported unknown too.
    if (name.value.IsScalar()) c.name = name.value.Scalar();
    c.name = read_name(source, name);
    const auto [it, inserted] = seen.emplace(c.name, line_of(name.mark()));
    if (!inserted) {
      source.fail(name.mark(), fmt::format("duplicate cluster name '{}' (first defined at line {})",
                                           c.name, it->second));
    }
  });
  if (const Field* f = m.find("policy")) {
    source.recover([&] { c.policy = read_policy(source, *f); });
  }
  if (const Field* f = m.find("hash_key")) {
    source.recover([&] { c.hash_key = read_hash_key(source, *f); });
  }
  const Field* discovery = m.find("discovery");
  const bool discovery_read = discovery == nullptr || source.recover([&] {
    c.discovery = read_discovery(source, *discovery);
  });
  // A discovery section that failed may well have been meant to bring the servers.
  if (!c.discovery.discovered() && discovery_read) {
    source.recover([&] { c.servers = read_servers(source, m.require("servers")); });
  } else if (const Field* f = m.find("servers");
             f && !(f->value.IsNull() || (f->value.IsSequence() && f->value.size() == 0))) {
    source.report(f->mark(), fmt::format("cluster '{}' takes its servers from discovery: 'servers' "
                                         "must be absent or empty",
                                         c.name));
  }
  if (const Field* f = m.find("passive")) {
    source.recover([&] {
      const MapReader p(source, *f, schema::kPassive);
      if (const Field* g = p.find("attempts")) {
        source.recover([&] {
          c.passive.attempts = static_cast<uint32_t>(read_uint(source, *g, 1, kMaxAttempts));
        });
      }
      if (const Field* g = p.find("offline_timeout")) {
        source.recover(
            [&] { c.passive.offline_timeout = read_duration(source, *g, /*allow_zero=*/true); });
      }
      if (const Field* g = p.find("count")) {
        source.recover([&] {
          c.passive.count = read_failure_kinds(
              source, *g, "connect failures always count; offline_timeout: 0 turns tracking off");
        });
      }
    });
  }
  if (const Field* f = m.find("retries")) {
    source.recover(
        [&] { c.retries = static_cast<uint32_t>(read_uint(source, *f, 0, kMaxRetries)); });
  }
  if (const Field* f = m.find("retry_on")) {
    source.recover([&] {
      c.retry_on = read_failure_kinds(
          source, *f, "a request the server never received always goes to the next server");
    });
  }
  if (const Field* f = m.find("timeouts")) {
    source.recover([&] {
      const MapReader t(source, *f, schema::kClusterTimeouts);
      if (const Field* g = t.find("connect")) {
        source.recover([&] { c.timeouts.connect = read_duration(source, *g, false); });
      }
      if (const Field* g = t.find("response")) {
        source.recover([&] { c.timeouts.response = read_duration(source, *g, false); });
      }
      if (const Field* g = t.find("idle")) {
        source.recover([&] { c.timeouts.idle = read_duration(source, *g, false); });
      }
    });
  }
  if (const Field* f = m.find("pool")) {
    source.recover([&] {
      const MapReader p(source, *f, schema::kPool);
      if (const Field* g = p.find("max_idle_per_server")) {
        source.recover([&] {
          c.max_idle_per_server =
              static_cast<uint32_t>(read_uint(source, *g, 0, kMaxIdlePerServer));
        });
      }
    });
  }
  if (const Field* f = m.find("limits")) {
    source.recover([&] {
      const MapReader l(source, *f, schema::kClusterLimits);
      if (const Field* g = l.find("max_connections_per_server")) {
        source.recover([&] {
          c.max_connections_per_server =
              static_cast<uint32_t>(read_uint(source, *g, 0, kMaxConnectionsPerServer));
        });
      }
    });
  }
  if (const Field* f = m.find("health_check")) {
    source.recover([&] { c.health_check = read_health_check(source, *f); });
  }
  if (const Field* f = m.find("agent")) source.recover([&] { c.agent = read_agent(source, *f); });
  if (const Field* f = m.find("slow_start")) {
    source.recover([&] { c.health.slow_start = read_duration(source, *f, /*allow_zero=*/true); });
  }
  if (const Field* f = m.find("panic_threshold")) {
    source.recover([&] { c.health.panic_threshold = read_percent(source, *f, 100); });
  }
  if (const Field* f = m.find("outlier")) {
    source.recover([&] { c.health.outlier = read_outlier(source, *f); });
  }
  const Field* tls = m.find("tls");
  const bool tls_read =
      tls == nullptr || source.recover([&] { c.tls = read_cluster_tls(source, *tls); });
  if (c.agent.tls && !c.tls.enabled && tls_read) {
    source.report(m.find("agent")->mark(),
                  "agent 'tls: true' needs the cluster's 'tls' section (its CA and name checks)");
  }
  // Agents' loads steer the weighted policies wherever some agent is queried (core/policy.h).
  c.health.agent_loads =
      c.agent.port != 0 || std::any_of(c.servers.begin(), c.servers.end(),
                                       [](const core::ServerSpec& s) { return s.agent_port != 0; });
  return c;
}

// `first_line` maps each address read so far to its line, to report duplicates.
core::ServerSpec read_server(const Source& source, const Field& item, const ServerRules& rules,
                             std::map<std::string, int>& first_line) {
  const MapReader m(source, item, schema::kServer);
  core::ServerSpec spec;
  source.recover([&] {
    const Field& address = m.require("address");
    spec.address = read_string(source, address);
    if (rules.network_addresses) {
      std::string reason;
      const auto host_port = parse_host_port(spec.address, 1, &reason);
      if (!host_port) {
        source.fail(address.mark(),
                    fmt::format("invalid server address '{}': {}", spec.address, reason));
      }
      spec.address = host_port->to_string();
    }
    const auto [it, inserted] = first_line.emplace(spec.address, line_of(address.mark()));
    if (!inserted) {
      source.fail(address.mark(), fmt::format("duplicate server address '{}' (first at line {})",
                                              spec.address, it->second));
    }
  });
  if (const Field* f = m.find("weight")) {
    source.recover(
        [&] { spec.weight = static_cast<uint32_t>(read_uint(source, *f, 0, rules.max_weight)); });
  }
  if (const Field* f = m.find("backup")) {
    source.recover([&] { spec.backup = read_bool(source, *f); });
  }
  if (const Field* f = m.find("agent_address")) {
    source.recover([&] { spec.agent_address = read_agent_address(source, *f); });
  }
  if (const Field* f = m.find("agent_port")) {
    source.recover(
        [&] { spec.agent_port = static_cast<uint16_t>(read_uint(source, *f, 1, 65535)); });
  }
  return spec;
}

}  // namespace

std::vector<core::ServerSpec> read_servers(const Source& source, const Field& field,
                                           const ServerRules& rules) {
  std::vector<core::ServerSpec> servers;
  std::map<std::string, int> first_line;  // address as stored -> line, for duplicates
  for (const Field& item : read_list(source, field)) {
    source.recover([&] { servers.push_back(read_server(source, item, rules, first_line)); });
  }
  return servers;
}

std::string read_name(const Source& source, const Field& field) {
  std::string name = read_string(source, field);
  if (!is_valid_name(name)) {
    source.fail(field.mark(),
                fmt::format("invalid name '{}' (use letters, digits, '_', '-' and '.')", name));
  }
  return name;
}

std::string read_policy(const Source& source, const Field& field) {
  std::string policy = read_string(source, field);
  const auto& registry = core::PolicyRegistry::builtin();
  if (registry.find(policy) == nullptr) {
    source.fail(field.mark(), fmt::format("unknown policy '{}' (expected one of: {})", policy,
                                          fmt::join(registry.names(), ", ")));
  }
  return policy;
}

std::vector<ClusterConfig> parse_clusters(const Source& source, const Field& field) {
  std::vector<ClusterConfig> clusters;
  std::map<std::string, int> seen;
  for (const Field& item : read_list(source, field)) {
    source.recover([&] { clusters.push_back(read_cluster(source, item, seen)); });
  }
  return clusters;
}

}  // namespace fulcrum::config::detail
