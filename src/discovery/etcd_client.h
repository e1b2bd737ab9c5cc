#pragma once

// A small asynchronous client of etcd v3's JSON gateway (POST /v3/..., HTTP/1.1, plain or over
// TLS, with etcd's authentication when a user is given) on Asio coroutines: the few operations
// discovery, health_sharing and fulcrum-agent's registration need. One
// connection per call (calls are rare: a range at start, a keepalive every few seconds), and one
// long-lived connection per watch. Endpoints are tried in turn: a connect error or a timeout moves
// to the next one, which stays current until it fails in turn.
//
// Not thread-safe: use it from the thread running its executor.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "discovery/etcd_messages.h"
#include "tls/client_context.h"

namespace fulcrum::discovery {

struct EtcdEndpoint {
  std::string host;  ///< A name or an IP address (IPv6 without brackets).
  uint16_t port = 0;
  bool tls = false;  ///< https://

  /// "host:port", or "https://host:port" for TLS.
  std::string to_string() const;
  bool operator==(const EtcdEndpoint&) const = default;
};

/// "HOST:PORT[,HOST:PORT...]" or the same items as a list; IPv6 as [::1]:2379. Each item may
/// start with http:// or https:// (TLS), as etcdctl's --endpoints. Empty on error, with the
/// reason in `error`.
std::optional<EtcdEndpoint> parse_etcd_endpoint(std::string_view text, std::string& error);
std::optional<std::vector<EtcdEndpoint>> parse_etcd_endpoints(std::string_view comma_separated,
                                                              std::string& error);

/// How to reach etcd beyond the endpoints: TLS for the https:// ones, authentication.
struct EtcdAccess {
  // TLS: the server's certificate is verified against `ca_file` (empty: the system's trust
  // store) and the name `sni` (empty: the endpoint's host); `cert` and `key` (both or neither)
  // are offered to an etcd that asks for a client certificate (--client-cert-auth).
  std::string ca_file;
  std::string cert;
  std::string key;
  std::string sni;
  /// Authentication (etcd's `auth enable`): empty, none. The password is read from the file at
  /// each authentication, up to its first newline.
  std::string username;
  std::string password_file;

  bool operator==(const EtcdAccess&) const = default;
};

/// The password in `path`: its first line (a trailing "\r" dropped). Empty with the reason in
/// `error` when the file cannot be read or the line is empty.
std::optional<std::string> read_etcd_password(const std::string& path, std::string& error);

template <typename T>
struct EtcdResult {
  T value{};
  EtcdError error;
  bool ok() const { return !error; }
};

class EtcdClient {
 public:
  /// Bounds each attempt of a call (one endpoint, connect to last byte), and a watch until its
  /// stream starts.
  static constexpr std::chrono::milliseconds kDefaultTimeout{2000};

  /// Throws tls::TlsError when an endpoint is https:// and the TLS files of `access` cannot be
  /// used (naming the file and why).
  EtcdClient(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
             std::chrono::milliseconds timeout = kDefaultTimeout, EtcdAccess access = {});
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  /// Every key starting with `prefix`, and the revision they were read at.
  asio::awaitable<EtcdResult<EtcdRangeResult>> range(std::string prefix);
  /// Returns the revision of the change. `lease` 0: none.
  asio::awaitable<EtcdResult<int64_t>> put(std::string key, std::string value, int64_t lease = 0);
  asio::awaitable<EtcdResult<int64_t>> remove(std::string key);
  /// Puts (under `lease`, 0: none) and deletes in one transaction, one revision, returned. etcd
  /// refuses more than 128 operations in one (--max-txn-ops); kMaxBatch stays under it.
  static constexpr std::size_t kMaxBatch = 128;
  asio::awaitable<EtcdResult<int64_t>> write_batch(std::vector<EtcdWrite> writes,
                                                   int64_t lease = 0);
  asio::awaitable<EtcdResult<EtcdLease>> lease_grant(int64_t ttl_seconds);
  /// One keepalive; ttl_seconds 0 in the answer: the lease is gone (expired or revoked).
  asio::awaitable<EtcdResult<EtcdLease>> lease_keepalive(int64_t id);
  asio::awaitable<EtcdError> lease_revoke(int64_t id);

  using WatchHandler = std::function<void(const WatchMessage&)>;
  /// Watches every key starting with `prefix` from `start_revision` (0: from now on), calling
  /// `on_message` for each message as it streams in (the first one has `created`). Returns only
  /// when the watch ends: kUnavailable on disconnect (or cancel()), kCompacted when
  /// `start_revision` is gone, kServer when etcd cancels it.
  asio::awaitable<EtcdError> watch(std::string prefix, int64_t start_revision,
                                   WatchHandler on_message);

  /// Closes every connection in use: pending calls and watches end with kUnavailable.
  void cancel();

  /// The endpoint the next call tries first.
  const EtcdEndpoint& current_endpoint() const { return endpoints_[current_]; }

 private:
  struct Connection;
  using BodyHandler = std::function<EtcdError(std::string_view piece)>;

  /// Connects to the current endpoint within the timeout, TLS handshake included; null with
  /// `error` set on failure.
  asio::awaitable<std::shared_ptr<Connection>> connect(EtcdError& error);
  /// POSTs `body` to `path` and returns the whole answer body in `answer`, with its status:
  /// authenticated first when a user is set and there is no token yet, and once more when etcd
  /// finds the token invalid (expired: etcd's --auth-token-ttl).
  asio::awaitable<EtcdError> call(std::string_view path, const std::string& body,
                                  std::string& answer);
  /// One try of call(), every endpoint in turn, with the token as it is.
  asio::awaitable<EtcdError> call_once(std::string_view path, const std::string& body,
                                       std::string& answer);
  /// POST /v3/auth/authenticate with the user and the password file: sets token_.
  asio::awaitable<EtcdError> authenticate();
  asio::awaitable<EtcdError> watch_once(const std::string& prefix, int64_t start_revision,
                                        const WatchHandler& on_message, bool& delivered);
  bool authenticates() const { return !access_.username.empty(); }
  void log_token_refused(const EtcdError& error) const;
  /// Sends the request and feeds the answer's body to `on_body` as it arrives (the connection's
  /// watchdog bounds it); an error `on_body` returns ends the exchange with that error.
  asio::awaitable<EtcdError> exchange(Connection& connection, std::string_view path,
                                      const std::string& body, int& status,
                                      const BodyHandler& on_body);
  void next_endpoint() { current_ = (current_ + 1) % endpoints_.size(); }

  asio::any_io_executor executor_;
  std::vector<EtcdEndpoint> endpoints_;
  std::size_t current_ = 0;
  std::chrono::milliseconds timeout_;
  EtcdAccess access_;
  /// For the https:// endpoints; null when there is none.
  std::shared_ptr<const tls::ClientTlsContext> tls_;
  std::string token_;  ///< Sent as Authorization; empty: not authenticated (yet).
  /// For cancel(). Shared with each connection: a coroutine frame destroyed after the client
  /// (its io_context going away) still unregisters its connection safely.
  std::shared_ptr<std::vector<Connection*>> open_ = std::make_shared<std::vector<Connection*>>();
  uint64_t cancellations_ = 0;  ///< cancel() calls: a canceled call does not fail over.
};

}  // namespace fulcrum::discovery
