#pragma once

// A small asynchronous client of etcd v3's JSON gateway (POST /v3/..., HTTP/1.1, plain TCP) on
// Asio coroutines: the few operations discovery and fulcrum-agent's registration need. One
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

namespace fulcrum::discovery {

struct EtcdEndpoint {
  std::string host;  ///< A name or an IP address (IPv6 without brackets).
  uint16_t port = 0;

  std::string to_string() const;
  bool operator==(const EtcdEndpoint&) const = default;
};

/// "HOST:PORT[,HOST:PORT...]" or the same items as a list; IPv6 as [::1]:2379. Empty on error,
/// with the reason in `error`.
std::optional<EtcdEndpoint> parse_etcd_endpoint(std::string_view text, std::string& error);
std::optional<std::vector<EtcdEndpoint>> parse_etcd_endpoints(std::string_view comma_separated,
                                                              std::string& error);

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

  EtcdClient(asio::any_io_executor executor, std::vector<EtcdEndpoint> endpoints,
             std::chrono::milliseconds timeout = kDefaultTimeout);
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

  /// Connects to the current endpoint within the timeout; null with `error` set on failure.
  asio::awaitable<std::shared_ptr<Connection>> connect(EtcdError& error);
  /// POSTs `body` to `path` and returns the whole answer body in `answer`, with its status.
  asio::awaitable<EtcdError> call(std::string_view path, const std::string& body,
                                  std::string& answer);
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
  /// For cancel(). Shared with each connection: a coroutine frame destroyed after the client
  /// (its io_context going away) still unregisters its connection safely.
  std::shared_ptr<std::vector<Connection*>> open_ = std::make_shared<std::vector<Connection*>>();
  uint64_t cancellations_ = 0;  ///< cancel() calls: a canceled call does not fail over.
};

}  // namespace fulcrum::discovery
