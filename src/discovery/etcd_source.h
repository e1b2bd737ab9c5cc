#pragma once

// Discovery from an etcd key prefix. Each key under the prefix is one server: the key's last
// path segment is its address ("/fulcrum/api/10.0.0.5:8080"), the value optional JSON
// ({"weight": 2, "backup": false, "drain": false}). The source ranges the prefix once, then
// watches it from the next revision; after a disconnect it resumes the watch where it stopped
// (next endpoint, with backoff), so no change is missed, and ranges again only when etcd has
// compacted the revisions it needs. The layout is described in docs/discovery.md.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "discovery/etcd_client.h"
#include "discovery/source.h"

namespace fulcrum::discovery {

struct EtcdSourceOptions {
  std::vector<EtcdEndpoint> endpoints;
  EtcdAccess access;   ///< TLS and authentication.
  std::string prefix;  ///< A '/' is added when it does not end with one.
  std::chrono::milliseconds request_timeout = EtcdClient::kDefaultTimeout;
  /// Between attempts while etcd is unreachable: doubling from the first to the second.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

/// The server a key and its value describe; empty with the reason in `error` when the key's last
/// segment is not HOST:PORT or the value is not the JSON expected. An empty value is all
/// defaults (weight 1, primary, not draining).
std::optional<DiscoveredServer> parse_etcd_server(std::string_view key, std::string_view value,
                                                  std::string& error);

class EtcdSource final : public Source {
 public:
  explicit EtcdSource(EtcdSourceOptions options);
  ~EtcdSource() override;

  /// For the discovery service: endpoints as "host:port" or "https://host:port" strings. Null
  /// with `error` set when one is malformed or there is none.
  static std::unique_ptr<EtcdSource> create(const std::vector<std::string>& endpoints,
                                            std::string prefix, EtcdAccess access,
                                            std::string& error);

  void start(asio::io_context& io, MembershipCallback on_change) override;
  void stop() override;
  std::string describe() const override;

 private:
  struct Run;  // The watch's state, shared with its coroutine so that either may end first.

  EtcdSourceOptions options_;
  std::shared_ptr<Run> run_;
};

/// EtcdSource::create for the discovery service: throws std::runtime_error with the reason.
std::unique_ptr<Source> make_etcd_source(const std::vector<std::string>& endpoints,
                                         std::string prefix, EtcdAccess access = {});

/// The client's view of a configuration's etcd `tls` and `auth` (discovery, health_sharing).
EtcdAccess etcd_access(const config::EtcdTlsConfig& tls, const config::EtcdAuthConfig& auth);

}  // namespace fulcrum::discovery
