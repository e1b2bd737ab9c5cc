#pragma once

// The keys each section of the configuration accepts. The loader rejects any other key, and a
// test checks that docs/configuration.md mentions every one, so the three cannot drift apart.

#include <span>
#include <string_view>

namespace fulcrum::config::schema {

struct Section {
  std::string_view name;  ///< As error messages call it: "unknown key 'x' in <name>".
  std::span<const std::string_view> keys;
};

inline constexpr std::string_view kTopLevelKeys[] = {"workers",    "listeners",     "clusters",
                                                     "access_log", "drain_timeout", "dns_refresh",
                                                     "admin",      "health_sharing"};
inline constexpr std::string_view kListenerKeys[] = {"name",   "listen", "mode",    "timeouts",
                                                     "limits", "routes", "cluster", "tls"};
inline constexpr std::string_view kListenerTimeoutKeys[] = {"client_header", "client_idle"};
inline constexpr std::string_view kListenerLimitKeys[] = {"max_connections", "max_head_bytes",
                                                          "max_uri_bytes"};
inline constexpr std::string_view kRouteKeys[] = {"match", "cluster"};
inline constexpr std::string_view kRouteMatchKeys[] = {"host", "path_prefix"};
inline constexpr std::string_view kClusterKeys[] = {
    "name",       "policy",          "hash_key", "servers", "passive",      "retries",
    "retry_on",   "timeouts",        "pool",     "limits",  "health_check", "agent",
    "slow_start", "panic_threshold", "outlier",  "tls",     "discovery"};
inline constexpr std::string_view kServerKeys[] = {"address", "weight", "backup", "agent_address",
                                                   "agent_port"};
inline constexpr std::string_view kHealthCheckKeys[] = {
    "type",        "method",        "path",          "host",          "expect_status",
    "expect_body", "interval",      "timeout",       "jitter",        "rise",
    "fall",        "initial_state", "fast_interval", "down_interval", "reuse_connection"};
inline constexpr std::string_view kAgentKeys[] = {
    "port", "send", "interval", "timeout", "require_response", "tls"};
inline constexpr std::string_view kOutlierKeys[] = {"consecutive_5xx", "consecutive_gateway_errors",
                                                    "base_ejection_time", "max_ejection_time",
                                                    "max_ejection_percent"};
inline constexpr std::string_view kPassiveKeys[] = {"attempts", "offline_timeout", "count"};
/// The words of a cluster's `retry_on` and `passive.count`, in core::FailureKind order.
inline constexpr std::string_view kFailureKindWords[] = {"connect_failure", "reset_before_response",
                                                         "response_timeout"};
inline constexpr std::string_view kClusterTimeoutKeys[] = {"connect", "response", "idle"};
inline constexpr std::string_view kPoolKeys[] = {"max_idle_per_server"};
inline constexpr std::string_view kClusterLimitKeys[] = {"max_connections_per_server"};
inline constexpr std::string_view kTlsListenerKeys[] = {"certificates", "min_version", "alpn",
                                                        "session_tickets", "ticket_key_rotation"};
inline constexpr std::string_view kTlsCertificateKeys[] = {"cert", "key"};
inline constexpr std::string_view kTlsClusterKeys[] = {"enabled", "verify", "ca_file", "sni",
                                                       "alpn"};
inline constexpr std::string_view kDiscoveryKeys[] = {
    "type",    "allow_empty", "name",   "port", "resolvers", "min_ttl",
    "max_ttl", "endpoints",   "prefix", "path", "tls",       "auth"};
inline constexpr std::string_view kAccessLogKeys[] = {"enabled", "format", "path"};
inline constexpr std::string_view kAdminKeys[] = {"listen", "token_file", "state_file"};
inline constexpr std::string_view kHealthSharingKeys[] = {"etcd", "prefix", "quorum", "instance",
                                                          "ttl",  "tls",    "auth"};
inline constexpr std::string_view kEtcdTlsKeys[] = {"ca_file", "cert", "key", "sni"};
inline constexpr std::string_view kEtcdAuthKeys[] = {"username", "password_file"};

inline constexpr Section kTopLevel{"top level", kTopLevelKeys};
inline constexpr Section kListener{"listener", kListenerKeys};
inline constexpr Section kListenerTimeouts{"listener timeouts", kListenerTimeoutKeys};
inline constexpr Section kListenerLimits{"listener limits", kListenerLimitKeys};
inline constexpr Section kRoute{"route", kRouteKeys};
inline constexpr Section kRouteMatch{"route match", kRouteMatchKeys};
inline constexpr Section kCluster{"cluster", kClusterKeys};
inline constexpr Section kServer{"server", kServerKeys};
inline constexpr Section kPassive{"cluster passive", kPassiveKeys};
inline constexpr Section kClusterTimeouts{"cluster timeouts", kClusterTimeoutKeys};
inline constexpr Section kPool{"cluster pool", kPoolKeys};
inline constexpr Section kClusterLimits{"cluster limits", kClusterLimitKeys};
inline constexpr Section kTlsListener{"listener tls", kTlsListenerKeys};
inline constexpr Section kTlsCertificate{"listener tls certificate", kTlsCertificateKeys};
inline constexpr Section kTlsCluster{"cluster tls", kTlsClusterKeys};
inline constexpr Section kDiscovery{"cluster discovery", kDiscoveryKeys};
inline constexpr Section kAccessLog{"access_log", kAccessLogKeys};
inline constexpr Section kAdmin{"admin", kAdminKeys};
inline constexpr Section kHealthSharing{"health_sharing", kHealthSharingKeys};
inline constexpr Section kEtcdTls{"etcd tls", kEtcdTlsKeys};
inline constexpr Section kEtcdAuth{"etcd auth", kEtcdAuthKeys};
inline constexpr Section kHealthCheck{"cluster health_check", kHealthCheckKeys};
inline constexpr Section kAgent{"cluster agent", kAgentKeys};
inline constexpr Section kOutlier{"cluster outlier", kOutlierKeys};

inline constexpr Section kAllSections[] = {
    kTopLevel,   kListener,      kListenerTimeouts, kListenerLimits, kRoute,
    kRouteMatch, kCluster,       kServer,           kPassive,        kClusterTimeouts,
    kPool,       kClusterLimits, kAccessLog,        kHealthCheck,    kAgent,
    kOutlier,    kAdmin,         kTlsListener,      kTlsCertificate, kTlsCluster,
    kDiscovery,  kHealthSharing, kEtcdTls,          kEtcdAuth};

}  // namespace fulcrum::config::schema
